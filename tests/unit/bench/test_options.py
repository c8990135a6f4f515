from __future__ import annotations

import pytest

from channelpulse.bench.options import BenchOptions
from channelpulse.cli import build_parser
from channelpulse.commands import bench as bench_command
from channelpulse.config import Settings


def test_options_refuse_unknown_pipelines_and_bound_quick_runs() -> None:
    with pytest.raises(ValueError, match="unknown pipeline"):
        BenchOptions(pipelines=["sentiment", "nope"])
    quick = BenchOptions(duration_s=2.0, quick=True)
    assert quick.drain_timeout_s <= 60 and quick.settle_timeout_s <= 45
    assert BenchOptions(duration_s=30.0).drain_timeout_s == 180.0


def test_the_command_parses_its_flags_and_rejects_bad_ones(capsys: pytest.CaptureFixture[str]) -> None:
    args = build_parser().parse_args(
        ["bench", "--quick", "--duration", "3", "--rates", "0.5x,100", "--pipelines", "deadletter", "--out", "o"]
    )
    assert args.quick and args.duration == 3.0 and args.rates == "0.5x,100" and str(args.out) == "o"
    bad = build_parser().parse_args(["bench", "--pipelines", "sentiment,bogus"])
    assert bench_command.run(bad, Settings()) == 2
    assert "unknown pipeline" in capsys.readouterr().err


def test_quick_runs_scale_only_the_cheapest_pipeline() -> None:
    measured = ["sentiment", "sensors", "deadletter"]
    assert BenchOptions(quick=True).scaling_pipelines(measured) == ["deadletter"]
    assert BenchOptions(quick=True).scaling_pipelines(["sensors"]) == ["sensors"]
    assert BenchOptions().scaling_pipelines(measured) == measured
    assert BenchOptions(quick=True, duration_s=2.0).limit_duration_s == 1.0
