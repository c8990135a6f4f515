"""The main job: stack up, a worker, the sample producer, and the scored outputs shown as they arrive.

The sample stream carries a negative surge on one channel and financial headlines (streams/sample.py);
the demo prints every ``alerts`` record in full as it arrives, with the ``analytics.channels`` window
that raised it, and the surging channel's windows as they close. Its worker runs analytics windows of
``window_s`` seconds (15 by default, against 60 in production) with two windows of allowed lateness,
so the surge detector's baseline (5 windows) forms and the surge is seen within about three minutes.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from datetime import datetime
from typing import Any

from kafka import KafkaConsumer

from channelpulse.config import Settings
from channelpulse.infra.stack import prometheus, stack, triton
from channelpulse.infra.stack.process import port_is_open
from channelpulse.kafka_security import kafka_python_options
from channelpulse.models.analytics.surge import SurgeParams
from channelpulse.streams.sample import MARKETS_CHANNEL, SurgePlan

QUIET_S = 30.0


def _short(topic: str, value: dict[str, Any], settings: Settings) -> str:
    if topic == settings.topic_sentiment:
        return (
            f"{value['label']:<8} {value['score']:+.2f} v{value['model']['version']} "
            f"[{value['channel']}] {value['event_id'][:18]}"
        )
    if topic == settings.topic_recommendations:
        top = ", ".join(i["item_id"] for i in value["items"][:3])
        return f"user {value['user_id']}: {top} ... v{value['model']['version']}"
    if topic == settings.topic_anomalies:
        flag = "ANOMALY" if value["is_anomaly"] else "ok"
        return f"{value['sensor_id']} value={value['value']:.2f} score={value['anomaly_score']:.2f} {flag}"
    if topic == settings.topic_deadletter:
        return f"from {value['source_topic']}@{value['offset']}: {value['error'][:90]}"
    if topic == settings.topic_alerts:
        return f"{value['kind']}: {value['detail'][:100]}"
    if topic == settings.topic_analytics:
        return (
            f"{value['channel']} {value['window_start'][11:19]}-{value['window_end'][11:19]} "
            f"conversion={value.get('conversion')} negative_share={value.get('negative_share')}"
        )
    return json.dumps(value)[:120]


def surge_note(events: int, rate: float, window_s: float) -> str:
    """When the surge comes in the stream, and whether the detector can have its baseline by then."""
    plan = SurgePlan()
    start_s, end_s = plan.start * events / rate, plan.end * events / rate
    needed_s = (SurgeParams().warmup_windows + 2) * window_s  # a partial first window, the baseline, a margin
    note = f"negative surge on {plan.channel} at {start_s:.0f}-{end_s:.0f}s of the stream"
    if start_s < needed_s or end_s - start_s < 2 * window_s:
        enough = int(max(needed_s / plan.start, 2 * window_s / (plan.end - plan.start)) * rate) + 1
        note += f" (too early or short for an alert with {window_s:g}s windows: try --events {enough})"
    return note


def _instant(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


class AlertView:
    """Prints each alert in full with the window that raised it (whichever of the two arrives first)."""

    def __init__(self) -> None:
        self.windows: dict[tuple[str, datetime], dict[str, Any]] = {}
        self.waiting: set[tuple[str, datetime]] = set()

    def window(self, value: dict[str, Any]) -> None:
        key = (value["channel"], _instant(value["window_end"]))
        self.windows[key] = value
        if key in self.waiting:
            self.waiting.discard(key)
            print(f"[demo] the window that raised it:\n{json.dumps(value, indent=2)}", flush=True)

    def alert(self, value: dict[str, Any]) -> None:
        print(f"[demo] ALERT ({value['kind']}):\n{json.dumps(value, indent=2)}", flush=True)
        if value.get("channel") is None or value["kind"] != "negative_sentiment_spike":
            return
        key = (value["channel"], _instant(value["raised_at"]))  # a surge alert is raised at its window's end
        if key in self.windows:
            print(f"[demo] the window that raised it:\n{json.dumps(self.windows[key], indent=2)}", flush=True)
        else:
            self.waiting.add(key)


def run_demo(settings: Settings, events: int, rate: float, keep: bool, window_s: float = 15.0) -> int:
    info = stack.up(settings)
    print(
        f"[demo] stack up: kafka {info['kafka']}, triton {info['triton_grpc']}, prometheus {info['prometheus']}"
    )
    # short windows, and two of them of lateness: on a busy CPU sentiment scores (and their
    # observations) fall behind the click path, and a late observation is dropped from its window
    lateness_s = max(settings.analytics_lateness_s, 2 * window_s)
    env = {
        **os.environ,
        "PYTHONUNBUFFERED": "1",
        "CHANNELPULSE_ANALYTICS_WINDOW_S": str(window_s),
        "CHANNELPULSE_ANALYTICS_LATENESS_S": str(lateness_s),
    }
    cli = [sys.executable, "-m", "channelpulse"]
    log_path = settings.state_dir / "run" / "demo-worker.log"
    log = log_path.open("ab")
    worker = subprocess.Popen([*cli, "worker"], env=env, stdout=log, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 120
    while not port_is_open(settings.bind_host, settings.worker_metrics_port) and time.monotonic() < deadline:
        if worker.poll() is not None:
            print(f"[demo] the worker exited; see {log_path}")
            return 1
        time.sleep(0.5)
    print(f"[demo] worker running (log {log_path})")
    print(
        f"[demo] metrics: worker http://{settings.bind_host}:{settings.worker_metrics_port}/metrics, "
        f"Triton http://{settings.bind_host}:{settings.triton_metrics_port}/metrics, "
        f"Prometheus {prometheus.url(settings)} (try: channelpulse_events_in_total)"
    )
    producer = subprocess.Popen(
        [*cli, "publish", "--sample", str(events), "--rate", str(rate)],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    print(
        f"[demo] sample producer: {events} mixed events at {rate:g}/s (about 5% malformed on purpose; "
        f"{surge_note(events, rate, window_s)}; financial headlines on {MARKETS_CHANNEL}); "
        f"analytics windows of {window_s:g}s, {lateness_s:g}s allowed lateness"
    )
    outputs = [
        settings.topic_sentiment,
        settings.topic_recommendations,
        settings.topic_anomalies,
        settings.topic_alerts,
        settings.topic_deadletter,
        settings.topic_analytics,
    ]
    counts: Counter[str] = Counter()
    headlines = 0
    view = AlertView()
    watched = (SurgePlan().channel, MARKETS_CHANNEL)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    consumer = KafkaConsumer(
        *outputs,
        bootstrap_servers=settings.bootstrap_servers, **kafka_python_options(settings),
        group_id=None,
        auto_offset_reset="latest",
        consumer_timeout_ms=1000,
    )
    last_seen = time.monotonic()
    producer_done_at: float | None = None
    try:
        while not stop.is_set():
            got = False
            for msg in consumer:
                got = True
                counts[msg.topic] += 1
                body = json.loads(msg.value)
                if msg.topic == settings.topic_alerts:
                    view.alert(body)
                    continue
                if msg.topic == settings.topic_analytics:
                    view.window(body)
                show = counts[msg.topic] <= 5 or counts[msg.topic] % 250 == 0
                if msg.topic == settings.topic_analytics and body["channel"] in watched:
                    show = True  # the surging channel's and the headlines' windows, as they close
                if msg.topic == settings.topic_sentiment and body["channel"] == MARKETS_CHANNEL and headlines < 3:
                    headlines += 1
                    show = True
                if show:
                    print(
                        f"{msg.topic:<23} #{counts[msg.topic]:<6} {_short(msg.topic, body, settings)}",
                        flush=True,
                    )
                if stop.is_set():
                    break
            now = time.monotonic()
            if got:
                last_seen = now
            if producer_done_at is None and producer.poll() is not None:
                producer_done_at = now
            # done: everything published and no output for a while since (the worker may still be busy)
            if producer_done_at is not None and now - max(last_seen, producer_done_at) > QUIET_S and not keep:
                break
    except KeyboardInterrupt:
        pass
    finally:
        consumer.close()
        if producer.poll() is None:
            producer.terminate()
        print("[demo] outputs seen: " + ", ".join(f"{t}={n}" for t, n in sorted(counts.items())))
        if keep:
            print(
                f"[demo] worker pid {worker.pid} and the stack keep running; Triton {triton.http_url(settings)}"
            )
        else:
            worker.send_signal(signal.SIGTERM)
            try:
                worker.wait(timeout=60)
            except subprocess.TimeoutExpired:
                worker.kill()
            stack.down(settings)
            print("[demo] worker and stack stopped")
    return 0
