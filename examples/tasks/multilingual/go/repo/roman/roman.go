// Package roman converts integers to Roman numerals.
package roman

import (
	"errors"
	"strings"
)

// ErrRange is returned for numbers outside 1..3999, which have no standard
// Roman numeral.
var ErrRange = errors.New("roman: number out of range 1..3999")

type symbol struct {
	value int
	text  string
}

// From the largest value down; the subtractive pairs (IV, IX, XL, ...) sit
// right under the symbol they precede so that the greedy loop picks them.
var symbols = []symbol{
	{1000, "M"},
	{500, "D"},
	{100, "C"},
	{90, "XC"},
	{50, "L"},
	{40, "XL"},
	{10, "X"},
	{9, "IX"},
	{5, "V"},
	{4, "IV"},
	{1, "I"},
}

// Encode returns the Roman numeral for n.
func Encode(n int) (string, error) {
	if n < 1 || n > 3999 {
		return "", ErrRange
	}
	var b strings.Builder
	for _, s := range symbols {
		for n >= s.value {
			b.WriteString(s.text)
			n -= s.value
		}
	}
	return b.String(), nil
}
