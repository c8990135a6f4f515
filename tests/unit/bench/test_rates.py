from __future__ import annotations

import pytest

from channelpulse.bench.rates import RateSpec, parse_rates


def test_relative_and_absolute_rates() -> None:
    specs = parse_rates("0.5x, 200 ,1X")
    assert specs == [RateSpec(0.5, True), RateSpec(200.0, False), RateSpec(1.0, True)]
    assert [s.label for s in specs] == ["0.5x", "200/s", "1x"]
    assert specs[0].resolve(300.0) == 150.0
    assert specs[1].resolve(None) == 200.0
    assert specs[0].resolve(None) is None


@pytest.mark.parametrize("text", ["", "fast", "-1", "0x", "0.5y"])
def test_bad_rates_are_refused(text: str) -> None:
    with pytest.raises(ValueError):
        parse_rates(text)
