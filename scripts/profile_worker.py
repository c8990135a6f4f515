"""Profile one worker draining a backlog, with py-spy, on a local stack of its own (free ports, a
temporary state folder), and print the top frames by self and inclusive on-CPU samples.

    .venv/bin/python scripts/profile_worker.py --records 80000 --malformed-share 1.0   # dead-letter path
    .venv/bin/python scripts/profile_worker.py --records 30000 --malformed-share 0.3   # mixed pipelines

Needs py-spy (dev extra). Record the machine's load with the figures: the worker shares the CPUs
with the stack and with whatever else runs.
"""

from __future__ import annotations

import argparse
import random
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter
from datetime import datetime, timezone
from pathlib import Path

from tqdm import tqdm

from channelpulse.config import Settings
from channelpulse.infra.stack import stack
from channelpulse.infra.stack.process import free_port
from channelpulse.streams.kafka_io import ensure_topics, publish
from channelpulse.streams.sample import SampleStream, malformed_variants
from channelpulse.streams.worker_process import WorkerProcess

IDLE_FRAMES = ("EpollSelector.select", "_PollLikeSelector.select", "_worker (concurrent/futures/thread.py",
               "Thread.run (threading.py")
"""Leaf frames of a thread waiting, which py-spy may count as active on a loaded machine."""


def backlog(settings: Settings, records: int, malformed_share: float, seed: int) -> list[tuple[str, bytes]]:
    """(topic, value) records: SampleStream's mix, or with a share of 1 only small malformed ones."""
    if malformed_share < 1.0:
        sample = SampleStream(settings, seed=seed, malformed_share=malformed_share)
        return [(r.topic, r.value) for r in sample.catalog_records()] + [
            (r.topic, r.value) for r in sample.records(records)
        ]
    rng = random.Random(seed)
    now = datetime.now(timezone.utc)
    topics = {"click": settings.topic_clicks, "review": settings.topic_reviews, "social": settings.topic_social,
              "sensor": settings.topic_sensors}
    out: list[tuple[str, bytes]] = []
    while len(out) < records:
        for kind, topic in topics.items():
            out += [(topic, v) for v in malformed_variants(rng, kind, now) if len(v) < 4096]
    return out[:records]


def summarise(raw: Path, top: int) -> str:
    """Top frames of a py-spy raw (collapsed stacks) file, idle leaves left out."""
    own: Counter[str] = Counter()
    inclusive: Counter[str] = Counter()
    busy = 0
    for line in raw.read_text().splitlines():
        stack_text, _, count = line.rpartition(" ")
        if not stack_text:
            continue
        frames = stack_text.split(";")
        if frames[-1].startswith(IDLE_FRAMES):
            continue
        busy += int(count)
        own[frames[-1]] += int(count)
        for frame in set(frames):
            inclusive[frame] += int(count)
    lines = [f"on-CPU samples: {busy}", "self:"]
    lines += [f"  {100 * n / busy:5.1f}%  {f}" for f, n in own.most_common(top)]
    lines.append("inclusive:")
    lines += [f"  {100 * n / busy:5.1f}%  {f}" for f, n in inclusive.most_common(top)]
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--records", type=int, default=30_000,
                        help="input records in the backlog (enough to keep the worker busy while sampling)")
    parser.add_argument("--malformed-share", type=float, default=0.3,
                        help="share of malformed records; 1.0 = the dead-letter path only")
    parser.add_argument("--seconds", type=int, default=60, help="how long py-spy samples")
    parser.add_argument("--rate", type=int, default=50, help="py-spy samples per second")
    parser.add_argument("--top", type=int, default=30, help="frames listed")
    parser.add_argument("--out", type=Path, default=Path("worker-profile.raw"), help="py-spy raw output")
    parser.add_argument("--seed", type=int, default=5)
    args = parser.parse_args()
    beside = Path(sys.executable).parent / "py-spy"  # a venv's bin, when it is not on PATH
    py_spy = shutil.which("py-spy") or (str(beside) if beside.exists() else None)
    if py_spy is None:
        parser.error("py-spy is not installed (pip install py-spy, the dev extra)")
    state = Path(tempfile.mkdtemp(prefix="channelpulse-profile-"))
    settings = Settings(
        state_dir=state, kafka_port=free_port(), kafka_controller_port=free_port(), triton_http_port=free_port(),
        triton_grpc_port=free_port(), triton_metrics_port=free_port(), prometheus_port=free_port(),
        worker_metrics_port=free_port(), worker_web_port=free_port(),
    )
    stack.up(settings)
    try:
        ensure_topics(settings)
        records = backlog(settings, args.records, args.malformed_share, args.seed)
        by_topic: dict[str, list[tuple[bytes | None, bytes]]] = {}
        for topic, value in records:
            by_topic.setdefault(topic, []).append((None, value))
        for topic, values in tqdm(by_topic.items(), desc="publishing", unit="topic"):
            publish(settings, topic, values)
        worker = WorkerProcess(settings, name="profiled-worker")
        worker.start()
        deadline = time.monotonic() + 180
        while worker.metric("channelpulse_events_in_total") == 0 and time.monotonic() < deadline:
            time.sleep(0.5)  # sample from the first consumed records on (group join, metadata)
        before, started = worker.metric("channelpulse_events_in_total"), time.monotonic()
        assert worker.proc is not None
        subprocess.run([py_spy, "record", "--pid", str(worker.proc.pid), "-d", str(args.seconds), "-r",
                        str(args.rate), "-f", "raw", "-o", str(args.out)], check=True)
        consumed = worker.metric("channelpulse_events_in_total") - before
        print(f"records consumed while sampling: {consumed:.0f} in {time.monotonic() - started:.0f}s "
              f"(backlog {len(records)})")
        worker.stop()
    finally:
        stack.down(settings)
        shutil.rmtree(state, ignore_errors=True)
    print(summarise(args.out, args.top))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
