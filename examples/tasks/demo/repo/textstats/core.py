"""Word-level helpers."""

import re
from collections import Counter

_WORD = re.compile(r"[a-z0-9']+")


def tokenize(text):
    """Return the lower-cased words of `text`, without punctuation."""
    return _WORD.findall(text.lower())


def word_count(text):
    """Return the number of words in `text`."""
    return len(tokenize(text))


def top_words(text, n=3):
    """Return the `n` most frequent words as (word, count) pairs.

    Ties are broken alphabetically so the result is stable.
    """
    counts = Counter(tokenize(text))
    ranked = sorted(counts.items(), key=lambda item: (-item[1], item[0]))
    return ranked[:n]
