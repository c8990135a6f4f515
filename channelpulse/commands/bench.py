"""`channelpulse bench`: throughput, end-to-end latency and scaling of the pipelines against their limits."""

from __future__ import annotations

import argparse
import shlex
import sys
from pathlib import Path

from channelpulse.config import Settings


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Imports nothing of channelpulse.bench: every command's parser is built in every process, the
    worker's included, and the bench's code stays out of those."""
    parser = sub.add_parser(
        "bench",
        help="measure throughput and latency of each pipeline against the model, Triton and Kafka limits",
        description="Drives the real stack (started if it is not up, stopped again after) with real worker "
        "processes in a private namespace of topics: per pipeline the drain capacity (a backlog drained), "
        "the maximum sustainable rate (offered rates searched downwards), end-to-end p50/p95/p99 latency "
        "at fixed offered rates, and in the same run the limits on "
        "the same batches (model alone in process, Triton alone, a bare aiokafka consume-produce loop), one "
        "worker against two, and the drain of a burst. Writes bench.json and bench.png to --out. "
        "With --model-speed: only the sentiment classifier's speed under every runtime of this machine "
        "(torch fp32/bf16, ONNX Runtime fp32/int8, CUDA fp16) against torch fp32, with their accuracy.",
    )
    parser.add_argument("--duration", type=float, default=None, help="seconds per timed phase (default 15; quick 2)")
    parser.add_argument(
        "--rates",
        default=None,
        help="fixed offered rates: events/s (200) or shares of the measured maximum (0.5x); "
        "default: channelpulse.bench.options.DEFAULT_RATES",
    )
    parser.add_argument(
        "--pipelines", default=None, help="comma-separated subset of the pipelines (default: all, in the order of "
        "channelpulse.bench.workload.PIPELINES)"
    )
    parser.add_argument(
        "--quick",
        action="store_true",
        help="seconds-long smoke run (CI): phases of channelpulse.bench.options.QUICK_DURATION_S, rate 0.5x",
    )
    parser.add_argument("--out", type=Path, default=Path("bench-results"), help="folder for bench.json and bench.png")
    parser.add_argument("--no-scaling", action="store_true", help="skip one-vs-two workers and the lag drain")
    parser.add_argument(
        "--learning",
        type=float,
        default=0.0,
        metavar="SECONDS",
        help="also drain the click pipeline with the recommender learning from the stream (a refresh every "
        "SECONDS) against learning off, in the same run; the served version is restored after",
    )
    parser.add_argument(
        "--model-speed",
        action="store_true",
        help="only the sentiment classifier's speed: torch fp32 vs every runtime, writes model_speed.json",
    )
    parser.add_argument(
        "--model-dir",
        type=Path,
        default=None,
        help="with --model-speed: the classifier folder to measure (default: the serving sentiment version)",
    )
    parser.add_argument(
        "--threads",
        type=int,
        default=None,
        help="with --model-speed: threads per runtime (default: the usable cores, as Triton's instance uses)",
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace, settings: Settings) -> int:
    from channelpulse.bench.options import DEFAULT_RATES, QUICK_DURATION_S, BenchOptions
    from channelpulse.bench.rates import parse_rates
    from channelpulse.bench.workload import PIPELINES

    command = "channelpulse " + shlex.join(sys.argv[1:])
    duration = args.duration if args.duration is not None else (QUICK_DURATION_S if args.quick else 15.0)
    if args.model_speed:
        from channelpulse.bench.model_speed import run_model_speed

        run_model_speed(
            settings, args.out, quick=args.quick, command=command, model_dir=args.model_dir, threads=args.threads
        )
        return 0
    from channelpulse.bench.runner import run_bench

    try:
        options = BenchOptions(
            duration_s=duration,
            rates=parse_rates(args.rates or ("0.5x" if args.quick else DEFAULT_RATES)),
            pipelines=[p.strip() for p in (args.pipelines or ",".join(PIPELINES)).split(",") if p.strip()],
            quick=args.quick,
            out_dir=args.out,
            scaling=not args.no_scaling,
            learning_refresh_s=args.learning,
        )
    except ValueError as exc:
        print(f"channelpulse bench: {exc}", file=sys.stderr)
        return 2
    run_bench(settings, options, command)
    return 0
