"""The main job: stack up, a worker, the sample producer, and the scored outputs shown as they arrive."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from typing import Any

from kafka import KafkaConsumer

from channelpulse.config import Settings
from infra.stack import prometheus, stack, triton
from infra.stack.process import port_is_open

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


def run_demo(settings: Settings, events: int, rate: float, keep: bool) -> int:
    info = stack.up(settings)
    print(
        f"[demo] stack up: kafka {info['kafka']}, triton {info['triton_grpc']}, prometheus {info['prometheus']}"
    )
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
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
    print(f"[demo] sample producer: {events} mixed events at {rate:g}/s (about 5% malformed on purpose)")
    outputs = [
        settings.topic_sentiment,
        settings.topic_recommendations,
        settings.topic_anomalies,
        settings.topic_alerts,
        settings.topic_deadletter,
        settings.topic_analytics,
    ]
    counts: Counter[str] = Counter()
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    consumer = KafkaConsumer(
        *outputs,
        bootstrap_servers=settings.bootstrap_servers,
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
                if (
                    counts[msg.topic] <= 5
                    or counts[msg.topic] % 250 == 0
                    or msg.topic == settings.topic_alerts
                ):
                    body = json.loads(msg.value)
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
