"""A throwaway secured pair for tests and trials: Kafka with SASL/SCRAM over TLS, and a TLS proxy for Elasticsearch.

Kafka: the same jars as the plain broker, started in KRaft mode with one SASL_SSL listener (inter-broker
traffic too), a certificate signed by a self-signed CA made with openssl, and SCRAM users created when
the storage is formatted (``kafka-storage format --add-scram``). The local Elasticsearch node has no
security module, so nginx terminates TLS in front of it and lets a request through only with the
configured API key or basic-auth login; anything else gets a 401 shaped like Elasticsearch's own.

The client side of both comes from ``settings`` (bootstrap, ``es_url``, username, password, API key);
``ca_file`` is the CA clients must trust. Storage, certificates and the broker's own password are made
afresh on every start: nothing here is meant to outlive a test session.
"""

import base64
import os
import re
import secrets
import shutil
import ssl
import subprocess
import urllib.error
import urllib.request
from pathlib import Path
from urllib.parse import urlsplit

from streamsense.infra.local.launcher import InfraError, LocalInfra, _port_in_use
from streamsense.settings import Settings

SCRAM_MECHANISMS = ("SCRAM-SHA-256", "SCRAM-SHA-512")
BROKER_USER = "broker"


def _run(cmd: list[str], what: str) -> None:
    result = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise InfraError(f"{what} failed: {(result.stdout + result.stderr).strip()[-300:]}")


def _nginx_exact(value: str) -> str:
    """An anchored nginx (PCRE) regex matching ``value`` exactly and case-sensitively."""
    return "~^" + re.sub(r"([^A-Za-z0-9])", r"\\\1", value) + "$"


def make_certificates(folder: Path, password: str) -> None:
    """A CA (``ca.pem``) and a server certificate for 127.0.0.1/localhost signed by it (PEM and PKCS12)."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "server.ext").write_text(
        "subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\nkeyUsage=digitalSignature\n"
    )
    p = {name: str(folder / name) for name in ("ca.key", "ca.pem", "server.key", "server.csr", "server.pem")}
    ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
    ca = ["-subj", "/CN=StreamSense test CA", "-addext", "basicConstraints=critical,CA:TRUE"]
    ca_usage = ["-addext", "keyUsage=critical,keyCertSign,cRLSign"]
    _run(
        ["openssl", "req", "-x509", *ec, *ca, *ca_usage, "-keyout", p["ca.key"], "-out", p["ca.pem"], "-days", "3"],
        "openssl: making the CA",
    )
    _run(
        ["openssl", "req", *ec, "-keyout", p["server.key"], "-out", p["server.csr"], "-subj", "/CN=localhost"],
        "openssl: making the server key",
    )
    signer = ["-CA", p["ca.pem"], "-CAkey", p["ca.key"], "-CAcreateserial", "-extfile", str(folder / "server.ext")]
    _run(
        ["openssl", "x509", "-req", "-in", p["server.csr"], *signer, "-out", p["server.pem"], "-days", "3"],
        "openssl: signing the server certificate",
    )
    pair = ["-in", p["server.pem"], "-inkey", p["server.key"], "-certfile", p["ca.pem"], "-name", "server"]
    _run(
        ["openssl", "pkcs12", "-export", *pair, "-out", str(folder / "server.p12"), "-passout", f"pass:{password}"],
        "openssl: making the PKCS12 keystore",
    )
    for path in folder.iterdir():
        path.chmod(0o644 if path.name == "ca.pem" else 0o600)


class SecureInfra(LocalInfra):
    """A SASL_SSL Kafka broker and a credential-checking TLS proxy in front of an existing Elasticsearch node."""

    SERVICES = ("kafka", "es-proxy")

    def __init__(self, settings: Settings, es_upstream: str) -> None:
        super().__init__(settings)
        if settings.kafka_security_protocol != "SASL_SSL" or settings.kafka_sasl_mechanism not in SCRAM_MECHANISMS:
            raise InfraError("the secured broker needs kafka_security_protocol SASL_SSL and a SCRAM mechanism")
        self.es_upstream = es_upstream
        self.tls = self.state / "tls"
        self._keystore_password = secrets.token_hex(16)
        self._broker_password = secrets.token_hex(16)

    @property
    def ca_file(self) -> Path:
        """The CA that signed both servers' certificates: what clients put in their CA-file settings."""
        return self.tls / "ca.pem"

    @property
    def proxy_port(self) -> int:
        return urlsplit(self.settings.elasticsearch_url).port or 443

    # ---- kafka -----------------------------------------------------------------------------------------
    def _kafka_settings(self) -> dict[str, str]:
        s = self.settings
        jaas = (
            "org.apache.kafka.common.security.scram.ScramLoginModule required "
            f'username="{BROKER_USER}" password="{self._broker_password}";'
        )
        return {
            **super()._kafka_settings(),
            "listeners": f"SASL_SSL://127.0.0.1:{s.kafka_port},CONTROLLER://127.0.0.1:{s.kafka_controller_port}",
            "advertised.listeners": f"SASL_SSL://127.0.0.1:{s.kafka_port}",
            "listener.security.protocol.map": "SASL_SSL:SASL_SSL,CONTROLLER:PLAINTEXT",
            "inter.broker.listener.name": "SASL_SSL",
            "sasl.enabled.mechanisms": ",".join(SCRAM_MECHANISMS),
            "sasl.mechanism.inter.broker.protocol": "SCRAM-SHA-512",
            **{f"listener.name.sasl_ssl.{m.lower()}.sasl.jaas.config": jaas for m in SCRAM_MECHANISMS},
            "ssl.keystore.type": "PKCS12",
            "ssl.keystore.location": str(self.tls / "server.p12"),
            "ssl.keystore.password": self._keystore_password,
            "ssl.truststore.type": "PEM",
            "ssl.truststore.location": str(self.ca_file),
        }

    def _storage_format_options(self) -> list[str]:
        s = self.settings
        if not s.kafka_sasl_username or s.kafka_sasl_password is None:
            raise InfraError("the secured broker needs kafka_sasl_username and kafka_sasl_password")
        password = s.kafka_sasl_password.get_secret_value()
        if re.search(r"[\s,=\[\]]", password + s.kafka_sasl_username):
            raise InfraError("SCRAM users made at format time cannot hold spaces, ',', '=', '[' or ']'")
        users = [(BROKER_USER, self._broker_password), (s.kafka_sasl_username, password)]
        options = []
        for mechanism in SCRAM_MECHANISMS:
            for name, secret in users:
                options += ["--add-scram", f"{mechanism}=[name={name},password={secret}]"]
        return options

    def start_kafka(self) -> None:
        super().start_kafka()
        (self._service_dir("kafka") / "server.properties").chmod(0o600)

    # ---- elasticsearch proxy ---------------------------------------------------------------------------
    def _accepted_authorization(self) -> list[str]:
        """The Authorization header values the proxy lets through."""
        s = self.settings
        accepted = []
        if s.es_api_key is not None:
            accepted.append(f"ApiKey {s.es_api_key.get_secret_value()}")
        if s.es_username and s.es_password is not None:
            login = f"{s.es_username}:{s.es_password.get_secret_value()}".encode()
            accepted.append(f"Basic {base64.b64encode(login).decode()}")
        if not accepted:
            raise InfraError("the Elasticsearch proxy needs es_api_key or es_username and es_password")
        return accepted

    def _nginx_conf(self) -> str:
        folder = self._service_dir("es-proxy")
        temp = folder / "tmp"
        # a regex per credential: plain map strings would compare ignoring case
        allowed = "\n".join(f'        "{_nginx_exact(value)}" 1;' for value in self._accepted_authorization())
        refusal = '{"error":{"type":"security_exception","reason":"missing or wrong credential"},"status":401}'
        return f"""daemon off;
worker_processes 1;
pid {folder / "nginx.pid"};
error_log {folder / "error.log"} warn;
events {{ worker_connections 256; }}
http {{
    access_log off;
    client_body_temp_path {temp}/body;
    proxy_temp_path {temp}/proxy;
    fastcgi_temp_path {temp}/fastcgi;
    uwsgi_temp_path {temp}/uwsgi;
    scgi_temp_path {temp}/scgi;
    client_max_body_size 200m;
    client_body_buffer_size 4m;
    map $http_authorization $credential_ok {{
        default 0;
{allowed}
    }}
    upstream elasticsearch {{ server {self.es_upstream}; keepalive 8; }}
    server {{
        listen 127.0.0.1:{self.proxy_port} ssl;
        ssl_certificate {self.tls / "server.pem"};
        ssl_certificate_key {self.tls / "server.key"};
        location / {{
            default_type application/json;
            if ($credential_ok = 0) {{
                add_header X-Elastic-Product Elasticsearch always;
                add_header WWW-Authenticate "ApiKey, Basic" always;
                return 401 '{refusal}';
            }}
            proxy_pass http://elasticsearch;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_set_header Authorization "";
            proxy_read_timeout 120s;
        }}
    }}
}}
"""

    def _proxy_healthy(self) -> bool:
        request = urllib.request.Request(
            f"https://127.0.0.1:{self.proxy_port}/_cluster/health",
            headers={"Authorization": self._accepted_authorization()[0]},
        )
        context = ssl.create_default_context(cafile=str(self.ca_file))
        try:
            with urllib.request.urlopen(request, timeout=2, context=context) as response:
                return response.status == 200
        except (urllib.error.URLError, OSError):
            return False

    def start_proxy(self) -> None:
        if self._read_pid("es-proxy"):
            return
        nginx = shutil.which("nginx") or "/usr/sbin/nginx"
        if not os.path.exists(nginx):
            raise InfraError("nginx is not installed (apt-get install -y nginx; `make install` does it as root)")
        if _port_in_use(self.proxy_port):
            raise InfraError(f"es-proxy: port {self.proxy_port} is already taken by another process")
        folder = self._service_dir("es-proxy")
        (folder / "tmp").mkdir(parents=True, exist_ok=True)
        (folder / "tmp").chmod(0o777)  # nginx workers run as an unprivileged user when started as root
        conf = folder / "nginx.conf"
        conf.write_text(self._nginx_conf())
        conf.chmod(0o600)
        cmd = [nginx, "-p", str(folder), "-e", str(folder / "error.log"), "-c", str(conf)]
        pid = self._spawn("es-proxy", cmd, dict(os.environ), folder)
        self._wait("es-proxy", pid, self._proxy_healthy)

    # ---- public ----------------------------------------------------------------------------------------
    def up(self) -> None:
        """Start both afresh: whatever an earlier ``up`` left is stopped, its storage and certificates replaced."""
        self.resolve()
        self.down()
        shutil.rmtree(self._service_dir("kafka"), ignore_errors=True)
        make_certificates(self.tls, self._keystore_password)
        self.start_kafka()
        self.start_proxy()
