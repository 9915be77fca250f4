"""Durations in iterations or epochs."""
import pytest

from lottery_tf.errors import ConfigError
from lottery_tf.training.steps import parse_steps


@pytest.mark.parametrize("text,expected", [("500it", 500), ("2ep", 1832), ("2ep100it", 1932),
                                           ("0it", 0), (7, 7)])
def test_durations_convert_once(text, expected):
    assert parse_steps(text, steps_per_epoch=916) == expected


@pytest.mark.parametrize("text", ["", "5", "ep", "3 epochs", "-1it", "1.5ep"])
def test_bad_durations_name_the_format(text):
    with pytest.raises(ConfigError, match="500it"):
        parse_steps(text, steps_per_epoch=10)
