"""textstats: small helpers for counting words and summarising numbers."""

from textstats.core import tokenize, top_words, word_count
from textstats.stats import mean, median, moving_average

__all__ = ["tokenize", "top_words", "word_count", "mean", "median", "moving_average"]
__version__ = "0.3.1"
