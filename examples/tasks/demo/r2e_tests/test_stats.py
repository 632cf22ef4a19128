import pytest

from textstats.stats import mean, median, moving_average


def test_mean_of_floats():
    assert mean([0.5, 1.5, 2.5]) == pytest.approx(1.5)


def test_median_even_length():
    assert median([4, 1, 3, 2]) == 2.5


def test_moving_average_window_equals_length():
    # One full window: exactly one average, not an empty list.
    assert moving_average([2, 4, 6], 3) == [4.0]


class TestMovingAverage:
    def test_sliding_windows(self):
        assert moving_average([1, 2, 3, 4], 3) == [2.0, 3.0]

    def test_single_value(self):
        assert moving_average([7], 1) == [7.0]

    def test_window_longer_than_data(self):
        assert moving_average([1, 2], 3) == []

    def test_rejects_non_positive_window(self):
        with pytest.raises(ValueError):
            moving_average([1, 2, 3], 0)
