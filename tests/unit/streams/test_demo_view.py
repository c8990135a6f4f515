from __future__ import annotations

import pytest

from channelpulse.streams.demo import AlertView, surge_note

WINDOW = {"channel": "social:twitter", "window_start": "2026-12-01T09:50:30Z", "window_end": "2026-12-01T09:50:45Z",
          "negative_share": 0.74}
ALERT = {"alert_id": "a", "kind": "negative_sentiment_spike", "channel": "social:twitter", "detail": "surge",
         "raised_at": "2026-12-01T09:50:45+00:00"}


@pytest.mark.parametrize("window_first", [True, False])
def test_an_alert_is_printed_with_the_window_that_raised_it(
    window_first: bool, capsys: pytest.CaptureFixture[str]
) -> None:
    view = AlertView()
    other = {**WINDOW, "window_start": "2026-12-01T09:50:15Z", "window_end": "2026-12-01T09:50:30Z"}
    view.window(other)
    if window_first:
        view.window(WINDOW)
        view.alert(ALERT)
    else:
        view.alert(ALERT)
        assert "raised it" not in capsys.readouterr().out  # not yet seen: printed when it comes
        view.window(WINDOW)
    out = capsys.readouterr().out
    assert out.count("the window that raised it") == 1
    assert '"negative_share": 0.74' in out and "09:50:15" not in out


def test_the_surge_note_says_when_a_stream_is_too_short_for_an_alert() -> None:
    assert "too early" not in surge_note(5400, 30.0, 15.0)
    short = surge_note(1000, 30.0, 15.0)
    assert "too early or short" in short and "--events" in short
