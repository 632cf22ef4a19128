from textstats import mean, median, moving_average, top_words, word_count


def test_word_count():
    assert word_count("The quick brown fox.") == 4


def test_top_words():
    assert top_words("b a b c a b", n=2) == [("b", 3), ("a", 2)]


def test_mean_and_median():
    assert mean([1, 2, 3, 4]) == 2.5
    assert median([3, 1, 2]) == 2


def test_moving_average():
    assert moving_average([1, 2, 3, 4, 5], 2) == [1.5, 2.5, 3.5, 4.5]
