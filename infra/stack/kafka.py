"""A single-node Apache Kafka broker in KRaft mode, run from the official jars on Maven Central.

Both release lines run: 4.x (the default) and 3.9 (``CHANNELPULSE_KAFKA_VERSION=3.9.1``). They
differ here only in how the broker logs: 4.x logs with Log4j 2, 3.x with reload4j (Log4j 1), so
the Maven profile, the logging configuration and the system property naming it follow the line."""

from __future__ import annotations

import shutil
import subprocess
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from channelpulse.config import Settings
from channelpulse.infra.stack.process import ServiceProcess, StackError, port_is_open

POM = Path(__file__).resolve().parent.parent / "kafka" / "pom.xml"


def jars_dir(settings: Settings) -> Path:
    return settings.cache_dir / f"kafka-{settings.kafka_version}" / "libs"


def major_version(settings: Settings) -> int:
    """The release line of ``settings.kafka_version`` (3 or 4)."""
    head = settings.kafka_version.split(".", 1)[0]
    if head not in ("3", "4"):
        raise StackError(f"CHANNELPULSE_KAFKA_VERSION={settings.kafka_version}: the stack runs Kafka 3.x or 4.x")
    return int(head)


def ensure_jars(settings: Settings) -> Path:
    """Resolve kafka_2.13 and its dependencies from Maven Central into the cache (first use only)."""
    libs = jars_dir(settings)
    if (libs / f"kafka_2.13-{settings.kafka_version}.jar").exists():
        return libs
    if shutil.which("mvn") is None:
        raise StackError("Maven (mvn) is needed once to fetch the Apache Kafka jars: apt-get install maven")
    print(f"[stack] fetching Apache Kafka {settings.kafka_version} jars from Maven Central into {libs} ...")
    libs.mkdir(parents=True, exist_ok=True)
    proc = subprocess.run(
        [
            "mvn", "-q", "-B", "-f", str(POM), "-P", f"kafka{major_version(settings)}", "dependency:copy-dependencies",
            f"-Dkafka.version={settings.kafka_version}", f"-DoutputDirectory={libs}",
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    if proc.returncode != 0:
        raise StackError(f"mvn could not fetch the Kafka jars:\n{proc.stdout[-2000:]}{proc.stderr[-2000:]}")
    return libs


SASL_MECHANISMS = ("PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512")


@dataclass(frozen=True)
class SaslSslListener:
    """An extra SASL_SSL listener of the local broker: TLS with a PKCS12 keystore (the broker's key
    and certificate chain), SASL with PLAIN, SCRAM-SHA-256 and SCRAM-SHA-512 for ``users``. The
    PLAINTEXT listener stays (the controller and the stack's own readiness check use it)."""

    port: int
    keystore: Path
    keystore_password: str = field(repr=False)
    users: Mapping[str, str] = field(repr=False)  # name -> password

    def properties(self, host: str) -> list[str]:
        plain_users = " ".join(f'user_{name}="{password}"' for name, password in self.users.items())
        scram_module = "org.apache.kafka.common.security.scram.ScramLoginModule required;"
        return [
            f"sasl.enabled.mechanisms={','.join(SASL_MECHANISMS)}",
            "listener.name.sasl_ssl.plain.sasl.jaas.config="
            f"org.apache.kafka.common.security.plain.PlainLoginModule required {plain_users};",
            f"listener.name.sasl_ssl.scram-sha-256.sasl.jaas.config={scram_module}",
            f"listener.name.sasl_ssl.scram-sha-512.sasl.jaas.config={scram_module}",
            "ssl.keystore.type=PKCS12",
            f"ssl.keystore.location={self.keystore.resolve()}",
            f"ssl.keystore.password={self.keystore_password}",
            f"ssl.key.password={self.keystore_password}",
            "ssl.client.auth=none",
        ]

    def scram_arguments(self) -> list[str]:
        """``kafka-storage format`` arguments that create the SCRAM credentials of ``users``."""
        return [
            arg
            for name, password in self.users.items()
            for mechanism in SASL_MECHANISMS[1:]
            for arg in ("--add-scram", f"{mechanism}=[name={name},password={password}]")
        ]


def server_properties(settings: Settings, data_dir: Path, secure: SaslSslListener | None = None) -> str:
    host = settings.bind_host
    listeners = f"PLAINTEXT://{host}:{settings.kafka_port},CONTROLLER://{host}:{settings.kafka_controller_port}"
    advertised = f"PLAINTEXT://{host}:{settings.kafka_port}"
    protocols = "PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT"
    if secure is not None:
        listeners += f",SASL_SSL://{host}:{secure.port}"
        advertised += f",SASL_SSL://{host}:{secure.port}"
        protocols += ",SASL_SSL:SASL_SSL"
    return "\n".join(
        [
            "process.roles=broker,controller",
            "node.id=1",
            f"controller.quorum.voters=1@{host}:{settings.kafka_controller_port}",
            f"listeners={listeners}",
            f"advertised.listeners={advertised}",
            "controller.listener.names=CONTROLLER",
            f"listener.security.protocol.map={protocols}",
            "inter.broker.listener.name=PLAINTEXT",
            f"log.dirs={data_dir}",
            f"num.partitions={settings.partitions}",
            "offsets.topic.replication.factor=1",
            "offsets.topic.num.partitions=4",
            "transaction.state.log.replication.factor=1",
            "transaction.state.log.min.isr=1",
            "group.initial.rebalance.delay.ms=0",
            "auto.create.topics.enable=true",
            f"message.max.bytes={max(2 * settings.max_event_bytes, 1048588)}",
            *(secure.properties(host) if secure is not None else []),
            "",
        ]
    )


# The broker's console log: warnings, plus the start-up lines of the broker (4.x: BrokerServer,
# KafkaRaftServer; 3.x: KafkaServer, BrokerServer).
LOG4J2 = """\
appender.stdout.type = Console
appender.stdout.name = STDOUT
appender.stdout.layout.type = PatternLayout
appender.stdout.layout.pattern = [%d] %p %m (%c)%n
rootLogger.level = WARN
rootLogger.appenderRef.stdout.ref = STDOUT
logger.broker.name = kafka.server.BrokerServer
logger.broker.level = INFO
logger.raft.name = kafka.server.KafkaRaftServer
logger.raft.level = INFO
"""
LOG4J1 = """\
log4j.rootLogger=WARN, stdout
log4j.appender.stdout=org.apache.log4j.ConsoleAppender
log4j.appender.stdout.layout=org.apache.log4j.PatternLayout
log4j.appender.stdout.layout.ConversionPattern=[%d] %p %m (%c)%n
log4j.logger.kafka.server.KafkaServer=INFO
log4j.logger.kafka.server.BrokerServer=INFO
"""


def logging_option(settings: Settings, home: Path) -> str:
    """Write the broker's logging configuration into ``home``; returns the JVM option that names it."""
    if major_version(settings) == 4:
        config = home / "log4j2.properties"
        config.write_text(LOG4J2)
        return f"-Dlog4j2.configurationFile={config}"
    config = home / "log4j.properties"
    config.write_text(LOG4J1)
    return f"-Dlog4j.configuration=file:{config}"


def java() -> str:
    path = shutil.which("java")
    if path is None:
        raise StackError("Java 17+ is needed to run the Kafka broker: apt-get install openjdk-17-jre-headless")
    return path


def start(settings: Settings, secure: SaslSslListener | None = None) -> ServiceProcess:
    """Start the broker (formatting its storage on first use, with the SCRAM users of ``secure``)
    and wait until it accepts clients."""
    proc = ServiceProcess("kafka", settings.state_dir / "run")
    if proc.pid() is not None:
        return proc
    for port in (settings.kafka_port, settings.kafka_controller_port):
        if port_is_open(settings.bind_host, port):
            raise StackError(
                f"port {port} is taken by another program; stop it or set CHANNELPULSE_KAFKA_PORT / "
                "CHANNELPULSE_KAFKA_CONTROLLER_PORT"
            )
    libs = ensure_jars(settings)
    home = (settings.state_dir / "kafka").resolve()
    data = home / "data"
    home.mkdir(parents=True, exist_ok=True)
    props = home / "server.properties"
    props.write_text(server_properties(settings, data, secure))
    classpath = f"{libs}/*"
    base = [java(), f"-Xmx{settings.kafka_heap}", "-XX:+UseG1GC", logging_option(settings, home)]
    if not (data / "meta.properties").exists():
        fmt = subprocess.run(
            [*base, "-cp", classpath, "kafka.tools.StorageTool", "format", "-t", str(uuid.uuid4()),
             "-c", str(props), "--ignore-formatted", *(secure.scram_arguments() if secure else [])],
            capture_output=True, text=True, check=False,
        )
        if fmt.returncode != 0:
            raise StackError(f"formatting the Kafka storage failed:\n{fmt.stdout}{fmt.stderr}")
    proc.start([*base, "-cp", classpath, "kafka.Kafka", str(props)])
    proc.wait_ready(lambda: broker_ready(settings), timeout_s=180, what="Kafka broker")
    return proc


def broker_ready(settings: Settings) -> bool:
    """True when the broker answers a metadata request."""
    if not port_is_open(settings.bind_host, settings.kafka_port):
        return False
    from kafka import KafkaAdminClient
    from kafka.errors import KafkaError

    from channelpulse.kafka_security import kafka_python_options

    try:
        admin = KafkaAdminClient(
            bootstrap_servers=settings.bootstrap_servers, request_timeout_ms=3000, **kafka_python_options(settings)
        )
    except (KafkaError, OSError, ValueError):
        return False
    try:
        admin.list_topics()
        return True
    except (KafkaError, OSError):
        return False
    finally:
        admin.close()
