"""Privacy on the real stack: the lake holds pseudonyms only, and `channelpulse privacy forget`
removes one user's lake rows and user state while another user's stay."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator

import pytest

from channelpulse.config import Settings
from channelpulse.streams.kafka_io import ensure_topics, publish, read_topic
from channelpulse.streams.lake import read_lake
from channelpulse.streams.privacy.keys import current_pseudonymizer
from channelpulse.streams.worker_process import WorkerProcess
from tests.integration.drills import snapshot

GONE, KEPT = "privacy-user-gone-7f3", "privacy-user-kept-2c9"


def wait_until(predicate: Callable[[], bool], timeout_s: float, what: str) -> None:
    deadline = time.monotonic() + timeout_s
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout_s:.0f}s waiting for {what}")
        time.sleep(1.0)


def event_id(user: str, n: int) -> str:
    return f"privacy-click-{(GONE, KEPT).index(user)}-{n}"  # not derived from the user id


def click(user: str, n: int) -> tuple[bytes, bytes]:
    event = {
        "event_id": event_id(user, n), "channel": "web", "occurred_at": "2024-05-01T12:00:00Z", "user_id": user,
        "item_id": f"sku-{n}", "action": "click", "session_id": f"session-{user[-3:]}",
    }
    return user.encode(), json.dumps(event).encode()


def latest_by_key(settings: Settings, topic: str) -> dict[bytes, bytes | None]:
    latest: dict[bytes, bytes | None] = {}
    for rec in read_topic(settings, topic, idle_timeout_s=3):
        if rec.key is not None:
            latest[rec.key] = rec.value
    return latest


@pytest.fixture(scope="module")
def settings(stack: Settings, tmp_path_factory: pytest.TempPathFactory) -> Settings:
    # a lake of its own: the session's shared lake holds other tests' clicks
    return stack.model_copy(update={"lake_flush_seconds": 1.0, "lake_dir": tmp_path_factory.mktemp("privacy-lake")})


@pytest.fixture(scope="module")
def worker(settings: Settings) -> Iterator[WorkerProcess]:
    ensure_topics(settings)
    proc = WorkerProcess(settings, name="privacy-worker")
    proc.start()
    yield proc
    proc.stop()


@pytest.mark.timeout(600)
def test_forget_removes_one_users_lake_rows_and_state(settings: Settings, worker: WorkerProcess) -> None:
    publish(settings, settings.topic_clicks, [click(user, n) for n in range(3) for user in (GONE, KEPT)])
    wanted = {event_id(user, n) for user in (GONE, KEPT) for n in range(3)}

    def scored() -> bool:  # a poll: the topic up to its end offsets now, no idle wait
        out = {json.loads(r.value or b"{}")["event_id"] for r in snapshot(settings, settings.topic_recommendations)}
        return wanted <= out

    wait_until(scored, 180, "the six clicks' recommendations")
    lake = settings.lake_root
    wait_until(lambda: len(read_lake(lake, "click")) >= 6, 60, "the clicks in the lake")

    pseudo = current_pseudonymizer(settings)
    clicks = read_lake(lake, "click")
    assert sorted(set(clicks["user_id"])) == sorted({pseudo.pseudonym(GONE), pseudo.pseudonym(KEPT)})
    for path in lake.rglob("*.parquet"):
        assert GONE.encode() not in path.read_bytes() and KEPT.encode() not in path.read_bytes()
    outputs = [json.loads(r.value or b"{}") for r in read_topic(settings, settings.topic_recommendations,
                                                                 idle_timeout_s=2)]
    assert {o["user_id"] for o in outputs if o["event_id"] in wanted} == {GONE, KEPT}  # outputs keep the raw id
    changelog = f"{settings.app_id}-user-state-changelog"
    assert latest_by_key(settings, changelog).get(GONE.encode()) is not None

    env = {**os.environ, **settings.to_env()}
    done = subprocess.run(
        [sys.executable, "-m", "channelpulse", "privacy", "forget", GONE, "--settle-s", "3"],
        env=env, capture_output=True, text=True, timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert "lake: removed 3 rows (click 3)" in done.stdout
    assert "erasure request published" in done.stdout

    left = read_lake(lake, "click")
    assert left["user_id"].to_list() == [pseudo.pseudonym(KEPT)] * 3
    wait_until(lambda: latest_by_key(settings, changelog)[GONE.encode()] is None, 60,
               "the worker to delete the user state (a tombstone on the changelog)")
    assert latest_by_key(settings, changelog)[KEPT.encode()] is not None

    unknown = subprocess.run(
        [sys.executable, "-m", "channelpulse", "privacy", "forget", "nobody-at-all", "--settle-s", "0"],
        env=env, capture_output=True, text=True, timeout=120,
    )
    assert unknown.returncode == 0 and "lake: removed 0 rows (none)" in unknown.stdout
    time.sleep(3)
    assert b"nobody-at-all" not in latest_by_key(settings, changelog)  # nothing written for an unknown user
    assert worker.running()
    log_text = worker.log_path.read_text(errors="replace")
    assert GONE not in log_text and KEPT not in log_text
