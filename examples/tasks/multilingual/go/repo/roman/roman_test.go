package roman

import "testing"

func TestEncodeSmall(t *testing.T) {
	cases := map[int]string{1: "I", 3: "III", 4: "IV", 9: "IX", 14: "XIV", 40: "XL", 90: "XC"}
	for n, want := range cases {
		got, err := Encode(n)
		if err != nil || got != want {
			t.Errorf("Encode(%d) = %q, %v; want %q", n, got, err, want)
		}
	}
}

func TestEncodeRejectsOutOfRange(t *testing.T) {
	for _, n := range []int{0, -1, 4000} {
		if _, err := Encode(n); err != ErrRange {
			t.Errorf("Encode(%d) error = %v; want ErrRange", n, err)
		}
	}
}
