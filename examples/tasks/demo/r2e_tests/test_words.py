import pytest

from textstats.core import top_words, word_count


@pytest.mark.parametrize(
    "text,expected",
    [("hello world", 2), ("  spaced   out  text ", 3), ("", 0)],
)
def test_word_count(text, expected):
    assert word_count(text) == expected


def test_top_words_breaks_ties_alphabetically():
    assert top_words("pear apple pear apple fig", n=3) == [("apple", 2), ("pear", 2), ("fig", 1)]
