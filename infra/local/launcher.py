"""Starts and stops a real Kafka broker (KRaft) and Elasticsearch node from Maven Central artifacts.

Docker is not needed: the jars are resolved once with Maven into a cache outside the repo, then the
services run as plain JVM processes whose process groups, logs and data live under a state folder.
Only processes this launcher started (recorded in PID files) are ever stopped.
"""

import os
import shutil
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from streamsense.settings import Settings

MAVEN_DIR = Path(__file__).parent / "maven"
ES_ARTIFACT = "org.elasticsearch.distribution.integ-test-zip:elasticsearch:{version}:zip"
UNPRIVILEGED_UID = 65534  # 'nobody': Elasticsearch refuses to run as root
CLUSTER_ID = "c3RyZWFtc2Vuc2UtbG9jYWw"  # fixed KRaft cluster id: the storage is formatted once per state folder


class InfraError(RuntimeError):
    """A local service could not be resolved, started or reached; the message is one line for the user."""


@dataclass(frozen=True)
class ServiceStatus:
    name: str
    running: bool
    healthy: bool
    pid: int | None
    detail: str


def _port_in_use(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.settimeout(0.5)
        return sock.connect_ex(("127.0.0.1", port)) == 0


def _alive(pid: int) -> bool:
    """True while the process exists and is not a zombie (our own dead children are reaped here)."""
    try:
        if os.waitpid(pid, os.WNOHANG)[0] == pid:
            return False
    except ChildProcessError:
        pass
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _tail(path: Path, lines: int = 5) -> str:
    if not path.exists():
        return ""
    text = path.read_text(errors="replace").strip().splitlines()
    return " | ".join(line.strip() for line in text[-lines:])


class LocalInfra:
    """Kafka + Elasticsearch on this machine, driven by one ``Settings`` object."""

    SERVICES = ("kafka", "elasticsearch")

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.state = settings.state_dir
        self.jars = settings.cache_dir / "jars"

    # ---- paths -----------------------------------------------------------------------------------------
    def _service_dir(self, name: str) -> Path:
        return self.state / name

    def _pid_file(self, name: str) -> Path:
        return self._service_dir(name) / "pid"

    def _log_file(self, name: str) -> Path:
        return self._service_dir(name) / "stdout.log"

    def _kafka_jars(self) -> Path:
        return self.jars / f"kafka-{self.settings.kafka_version}"

    def _es_home(self) -> Path:
        return self.jars / f"elasticsearch-{self.settings.es_version}"

    # ---- resolving artifacts ---------------------------------------------------------------------------
    def _mvn(self, *args: str) -> None:
        if shutil.which("mvn") is None:
            raise InfraError(
                "Maven ('mvn') is not on PATH: it is needed once to fetch the Kafka and Elasticsearch jars"
            )
        result = subprocess.run(["mvn", "-q", "-B", *args], capture_output=True, text=True, check=False)
        if result.returncode != 0:
            lines = [ln for ln in (result.stdout + result.stderr).splitlines() if "ERROR" in ln]
            raise InfraError(f"Maven failed: {lines[0] if lines else result.returncode}")

    def resolve(self) -> None:
        """Fetch the jars once; later calls find them in the cache and return at once."""
        self.jars.mkdir(parents=True, exist_ok=True)
        kafka = self._kafka_jars()
        if not kafka.exists():
            tmp = kafka.with_suffix(".partial")
            shutil.rmtree(tmp, ignore_errors=True)
            self._mvn(
                "-f",
                str(MAVEN_DIR / "kafka" / "pom.xml"),
                "dependency:copy-dependencies",
                f"-Dkafka.version={self.settings.kafka_version}",
                "-DincludeScope=runtime",
                f"-DoutputDirectory={tmp}",
            )
            tmp.rename(kafka)
        home = self._es_home()
        if not home.exists():
            download = self.jars / "downloads"
            self._mvn(
                "dependency:copy",
                f"-Dartifact={ES_ARTIFACT.format(version=self.settings.es_version)}",
                f"-DoutputDirectory={download}",
            )
            archive = download / f"elasticsearch-{self.settings.es_version}.zip"
            tmp = home.with_suffix(".partial")
            shutil.rmtree(tmp, ignore_errors=True)
            with zipfile.ZipFile(archive) as zf:
                for info in zf.infolist():
                    target = Path(zf.extract(info, tmp))
                    mode = (info.external_attr >> 16) & 0o777
                    if mode:
                        target.chmod(mode)
            (tmp / f"elasticsearch-{self.settings.es_version}").rename(home)
            tmp.rmdir()
            archive.unlink()

    # ---- process bookkeeping ---------------------------------------------------------------------------
    def _read_pid(self, name: str) -> int | None:
        path = self._pid_file(name)
        if not path.exists():
            return None
        pid = int(path.read_text().strip())
        return pid if _alive(pid) else None

    def _spawn(self, name: str, cmd: list[str], env: dict[str, str], cwd: Path) -> int:
        log = self._log_file(name).open("ab")
        proc = subprocess.Popen(
            cmd,
            stdout=log,
            stderr=subprocess.STDOUT,
            env=env,
            cwd=cwd,
            start_new_session=True,
            stdin=subprocess.DEVNULL,
        )
        self._pid_file(name).write_text(str(proc.pid))
        return proc.pid

    def _wait(self, name: str, pid: int, healthy: Callable[[], bool]) -> None:
        deadline = time.monotonic() + self.settings.infra_start_timeout_s
        while time.monotonic() < deadline:
            if not _alive(pid):
                self._pid_file(name).unlink(missing_ok=True)
                raise InfraError(f"{name} exited while starting: {_tail(self._log_file(name))}")
            if healthy():
                return
            time.sleep(0.5)
        raise InfraError(
            f"{name} was not healthy after {self.settings.infra_start_timeout_s:.0f}s; see {self._log_file(name)}"
        )

    # ---- kafka -----------------------------------------------------------------------------------------
    def _kafka_settings(self) -> dict[str, str]:
        """The broker's server.properties as a dict, so a variant (the SASL_SSL broker) can change entries."""
        s = self.settings
        return {
            "process.roles": "broker,controller",
            "node.id": "1",
            "controller.quorum.voters": f"1@127.0.0.1:{s.kafka_controller_port}",
            "listeners": f"PLAINTEXT://127.0.0.1:{s.kafka_port},CONTROLLER://127.0.0.1:{s.kafka_controller_port}",
            "advertised.listeners": f"PLAINTEXT://127.0.0.1:{s.kafka_port}",
            "controller.listener.names": "CONTROLLER",
            "listener.security.protocol.map": "PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT",
            "inter.broker.listener.name": "PLAINTEXT",
            "log.dirs": str(self._service_dir("kafka") / "data"),
            "num.partitions": str(s.topic_partitions),
            "offsets.topic.replication.factor": "1",
            "offsets.topic.num.partitions": "12",
            "transaction.state.log.replication.factor": "1",
            "transaction.state.log.min.isr": "1",
            "group.initial.rebalance.delay.ms": "0",
            "auto.create.topics.enable": "false",
            "log.retention.hours": "168",
        }

    def _kafka_properties(self) -> str:
        return "".join(f"{key}={value}\n" for key, value in self._kafka_settings().items())

    def _storage_format_options(self) -> list[str]:
        """Extra ``kafka-storage format`` arguments (SCRAM users for the SASL_SSL broker); none here."""
        return []

    def _kafka_healthy(self) -> bool:
        from confluent_kafka.admin import AdminClient

        from streamsense.streams.connections import kafka_config

        if not _port_in_use(self.settings.kafka_port):
            return False
        admin = AdminClient({**kafka_config(self.settings), "log_level": 0})
        try:
            metadata = admin.list_topics(timeout=2)
        except Exception:
            return False
        return bool(metadata.brokers)

    def start_kafka(self) -> None:
        if self._read_pid("kafka"):
            return
        s = self.settings
        for port in (s.kafka_port, s.kafka_controller_port):
            if _port_in_use(port):
                raise InfraError(f"kafka: port {port} is already taken by another process")
        folder = self._service_dir("kafka")
        folder.mkdir(parents=True, exist_ok=True)
        props = folder / "server.properties"
        props.write_text(self._kafka_properties())
        (folder / "log4j2.properties").write_text(
            "rootLogger.level=WARN\nrootLogger.appenderRef.out.ref=OUT\nappender.out.type=Console\n"
            "appender.out.name=OUT\nappender.out.layout.type=PatternLayout\n"
            "appender.out.layout.pattern=[%d] %p %m (%c)%n\n"
            "logger.kafka.name=kafka\nlogger.kafka.level=INFO\n"
        )
        java = str(s.java_home / "bin" / "java")
        classpath = f"{self._kafka_jars()}/*"
        logging = f"-Dlog4j2.configurationFile={folder / 'log4j2.properties'}"
        if not (folder / "data" / "meta.properties").exists():
            fmt = subprocess.run(
                [
                    java,
                    logging,
                    "-cp",
                    classpath,
                    "kafka.tools.StorageTool",
                    "format",
                    "-t",
                    CLUSTER_ID,
                    "-c",
                    str(props),
                    *self._storage_format_options(),
                ],
                capture_output=True,
                text=True,
                check=False,
            )
            if fmt.returncode != 0:
                raise InfraError(f"kafka: formatting storage failed: {(fmt.stdout + fmt.stderr).strip()[-300:]}")
        cmd = [java, f"-Xms{s.kafka_heap}", f"-Xmx{s.kafka_heap}", logging, "-cp", classpath, "kafka.Kafka", str(props)]
        pid = self._spawn("kafka", cmd, dict(os.environ), folder)
        self._wait("kafka", pid, self._kafka_healthy)

    # ---- elasticsearch ---------------------------------------------------------------------------------
    def _es_get(self, path: str) -> dict | None:
        import json

        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{self.settings.es_port}{path}", timeout=2) as resp:
                return json.loads(resp.read())
        except (urllib.error.URLError, OSError, ValueError):
            return None

    def _es_healthy(self) -> bool:
        health = self._es_get("/_cluster/health")
        return bool(health) and health.get("status") in ("green", "yellow")

    def start_elasticsearch(self) -> None:
        if self._read_pid("elasticsearch"):
            return
        s = self.settings
        for port in (s.es_port, s.es_transport_port):
            if _port_in_use(port):
                raise InfraError(f"elasticsearch: port {port} is already taken by another process")
        folder = self._service_dir("elasticsearch")
        conf = folder / "config"
        for sub in ("data", "logs", "tmp", "config"):
            (folder / sub).mkdir(parents=True, exist_ok=True)
        home = self._es_home()
        for name in ("jvm.options", "log4j2.properties"):
            shutil.copy(home / "config" / name, conf / name)
        (conf / "jvm.options.d").mkdir(exist_ok=True)
        (conf / "elasticsearch.yml").write_text(
            "\n".join(
                [
                    "cluster.name: streamsense-local",
                    "node.name: local-1",
                    f"path.data: {folder / 'data'}",
                    f"path.logs: {folder / 'logs'}",
                    "network.host: 127.0.0.1",
                    f"http.port: {s.es_port}",
                    f"transport.port: {s.es_transport_port}",
                    "discovery.type: single-node",
                    "xpack.security.enabled: false",
                    "cluster.routing.allocation.disk.threshold_enabled: false",
                    "action.auto_create_index: +streamsense-*,-*",
                    "",
                ]
            )
        )
        env = dict(os.environ)
        env.update(
            ES_JAVA_HOME=str(s.java_home),
            ES_PATH_CONF=str(conf),
            ES_TMPDIR=str(folder / "tmp"),
            ES_JAVA_OPTS=f"-Xms{s.es_heap} -Xmx{s.es_heap}",
        )
        cmd = [str(home / "bin" / "elasticsearch")]
        if os.geteuid() == 0:
            for path in [folder, *folder.rglob("*")]:
                os.chown(path, UNPRIVILEGED_UID, UNPRIVILEGED_UID)
            for parent in folder.parents:
                if parent == Path("/"):
                    break
                if not os.stat(parent).st_mode & 0o001:
                    raise InfraError(f"elasticsearch: {parent} is not traversable by the unprivileged user 'nobody'")
            cmd = ["setpriv", f"--reuid={UNPRIVILEGED_UID}", f"--regid={UNPRIVILEGED_UID}", "--clear-groups", *cmd]
        pid = self._spawn("elasticsearch", cmd, env, home)
        self._wait("elasticsearch", pid, self._es_healthy)

    # ---- public ----------------------------------------------------------------------------------------
    def up(self) -> None:
        self.resolve()
        self.state.mkdir(parents=True, exist_ok=True)
        self.state.chmod(0o755)
        self.start_kafka()
        self.start_elasticsearch()

    def stop(self, name: str, timeout_s: float = 30.0) -> bool:
        """Stop one service we started (its whole process group); returns False if it was not running."""
        pid = self._read_pid(name)
        if pid is None:
            self._pid_file(name).unlink(missing_ok=True)
            return False
        os.killpg(pid, signal.SIGTERM)
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline and _alive(pid):
            time.sleep(0.2)
        if _alive(pid):
            os.killpg(pid, signal.SIGKILL)
            while _alive(pid):
                time.sleep(0.1)
        self._pid_file(name).unlink(missing_ok=True)
        return True

    def down(self) -> list[str]:
        return [name for name in reversed(self.SERVICES) if self.stop(name)]

    def status(self) -> list[ServiceStatus]:
        result = []
        for name, healthy, port in (
            ("kafka", self._kafka_healthy, self.settings.kafka_port),
            ("elasticsearch", self._es_healthy, self.settings.es_port),
        ):
            pid = self._read_pid(name)
            ok = pid is not None and healthy()
            detail = f"port {port}" + ("" if pid else " (not started by streamsense)" if _port_in_use(port) else "")
            result.append(ServiceStatus(name, pid is not None, ok, pid, detail))
        return result
