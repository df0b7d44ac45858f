"""Turns settings into the configs of every Kafka and Elasticsearch client, so security is configuration alone.

Each client construction site (Faust app, confluent-kafka producer and admin, Elasticsearch clients) asks
this module, so TLS, SASL/SCRAM, API keys and basic auth are set in one place. Secrets stay ``SecretStr``
in settings and are unwrapped only here, into configs that are handed to client constructors and never
logged. Failures to connect for reasons retrying cannot fix (a refused credential, an untrusted
certificate) become one ``ConnectionSetupError`` with a one-line message.
"""

import ssl
from urllib.parse import urlsplit, urlunsplit

from confluent_kafka import KafkaError
from elastic_transport import TlsError
from elasticsearch import ApiError, AuthenticationException, AuthorizationException
from faust.auth import SASLCredentials, SSLCredentials
from faust.types.auth import CredentialsT

from streamsense.settings import Settings

# librdkafka error codes that mean "fix the configuration", not "wait for the broker"
KAFKA_FATAL_CODES = frozenset({KafkaError._AUTHENTICATION, KafkaError._SSL, KafkaError.SASL_AUTHENTICATION_FAILED})


class ConnectionSetupError(RuntimeError):
    """A broker or node refused this client (credential, certificate, configuration); the message is one line."""


def _uses_sasl(settings: Settings) -> bool:
    return settings.kafka_security_protocol.startswith("SASL_")


def _uses_tls(settings: Settings) -> bool:
    return settings.kafka_security_protocol.endswith("SSL")


def _sasl_login(settings: Settings) -> tuple[str, str]:
    if not settings.kafka_sasl_username or settings.kafka_sasl_password is None:
        raise ConnectionSetupError(
            f"kafka: {settings.kafka_security_protocol} needs STREAMSENSE_KAFKA_SASL_USERNAME and "
            "STREAMSENSE_KAFKA_SASL_PASSWORD"
        )
    return settings.kafka_sasl_username, settings.kafka_sasl_password.get_secret_value()


def tls_context(ca_file: object | None) -> ssl.SSLContext:
    """Verifying client context: the given CA bundle, else the system's; hostnames are checked."""
    return ssl.create_default_context(ssl.Purpose.SERVER_AUTH, cafile=str(ca_file) if ca_file else None)


def kafka_config(settings: Settings) -> dict[str, object]:
    """librdkafka (confluent-kafka) settings: bootstrap plus security; holds the password, so never log it."""
    config: dict[str, object] = {
        "bootstrap.servers": settings.bootstrap_servers,
        "security.protocol": settings.kafka_security_protocol,
    }
    if _uses_sasl(settings):
        username, password = _sasl_login(settings)
        config.update(
            {"sasl.mechanisms": settings.kafka_sasl_mechanism, "sasl.username": username, "sasl.password": password}
        )
    if _uses_tls(settings) and settings.kafka_ssl_ca_file:
        config["ssl.ca.location"] = str(settings.kafka_ssl_ca_file)
    return config


def faust_credentials(settings: Settings) -> CredentialsT | None:
    """``broker_credentials`` of the Faust app (aiokafka underneath); their repr shows the username only."""
    context = tls_context(settings.kafka_ssl_ca_file) if _uses_tls(settings) else None
    if _uses_sasl(settings):
        username, password = _sasl_login(settings)
        return SASLCredentials(
            username=username, password=password, ssl_context=context, mechanism=settings.kafka_sasl_mechanism
        )
    if context is not None:
        return SSLCredentials(context)
    return None


def aiokafka_options(settings: Settings) -> dict[str, object]:
    """Keyword arguments of a plain aiokafka client (bootstrap plus security); holds the password, never log it."""
    options: dict[str, object] = {
        "bootstrap_servers": settings.bootstrap_servers,
        "security_protocol": settings.kafka_security_protocol,
    }
    if _uses_tls(settings):
        options["ssl_context"] = tls_context(settings.kafka_ssl_ca_file)
    if _uses_sasl(settings):
        username, password = _sasl_login(settings)
        options |= {
            "sasl_mechanism": settings.kafka_sasl_mechanism,
            "sasl_plain_username": username,
            "sasl_plain_password": password,
        }
    return options


def kafka_failure(error: KafkaError, settings: Settings) -> str | None:
    """One line for an error that retrying cannot fix, or None for one worth waiting out (broker starting)."""
    if error.code() not in KAFKA_FATAL_CODES:
        return None
    who = f" as {settings.kafka_sasl_username!r}" if _uses_sasl(settings) else ""
    what = "TLS handshake failed" if error.code() == KafkaError._SSL else "authentication failed"
    return (
        f"kafka at {settings.bootstrap_servers} ({settings.kafka_security_protocol}"
        f"{' ' + settings.kafka_sasl_mechanism if _uses_sasl(settings) else ''}{who}): {what}: {error.str()}"
    )


def safe_url(url: str) -> str:
    """The URL without any user:password part, for messages and logs."""
    parts = urlsplit(url)
    if parts.username is None and parts.password is None:
        return url
    host = parts.hostname or ""
    host = f"[{host}]" if ":" in host else host  # an IPv6 address keeps its brackets
    netloc = f"{host}:{parts.port}" if parts.port else host
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))


def elasticsearch_options(settings: Settings) -> dict[str, object]:
    """Keyword arguments for ``Elasticsearch``/``AsyncElasticsearch``: hosts, CA, and API key or basic auth."""
    options: dict[str, object] = {"hosts": [settings.elasticsearch_url]}
    if settings.es_ca_file:
        options["ca_certs"] = str(settings.es_ca_file)
    if settings.es_api_key is not None:
        options["api_key"] = settings.es_api_key.get_secret_value()
    elif settings.es_username and settings.es_password is not None:
        options["basic_auth"] = (settings.es_username, settings.es_password.get_secret_value())
    return options


def error_type(body: object) -> str | None:
    """The ``error.type`` of an Elasticsearch answer: a refused request's body, or one bulk item's result."""
    cause = body.get("error") if isinstance(body, dict) else None
    return cause.get("type") if isinstance(cause, dict) else None


def write_blocked(body: object) -> bool:
    """Whether Elasticsearch refused a request or a document because writes are blocked
    (``cluster.blocks.read_only``, an index's write block, a full disk), which it answers 403 or 429 like a refused
    credential: the block is lifted, so the write waits for it rather than failing or dead-lettering meanwhile."""
    return error_type(body) == "cluster_block_exception"


def elasticsearch_failure(error: Exception, settings: Settings) -> str | None:
    """One line for an Elasticsearch error that retrying cannot fix (credential, certificate), else None."""
    if write_blocked(getattr(error, "body", None)):
        return None
    where = f"elasticsearch at {safe_url(settings.elasticsearch_url)}"
    if isinstance(error, AuthenticationException | AuthorizationException):
        how = "API key" if settings.es_api_key else "basic auth" if settings.es_username else "no credential"
        return f"{where} refused the credential ({how}): HTTP {error.meta.status}"
    if isinstance(error, TlsError):
        return f"{where}: TLS failed (is STREAMSENSE_ES_CA_FILE the CA that signed its certificate?): {error.message}"
    if isinstance(error, ApiError) and error.meta.status in (401, 403):
        return f"{where} refused the request: HTTP {error.meta.status}"
    return None


def security_environment(settings: Settings) -> dict[str, str]:
    """``STREAMSENSE_*`` variables that give a child process (a worker) the same security settings."""
    env = {
        "STREAMSENSE_KAFKA_SECURITY_PROTOCOL": settings.kafka_security_protocol,
        "STREAMSENSE_KAFKA_SASL_MECHANISM": settings.kafka_sasl_mechanism,
        "STREAMSENSE_LOG_REDACT_PII": str(settings.log_redact_pii).lower(),
    }
    optional = {
        "STREAMSENSE_KAFKA_SASL_USERNAME": settings.kafka_sasl_username,
        "STREAMSENSE_KAFKA_SASL_PASSWORD": settings.kafka_sasl_password,
        "STREAMSENSE_KAFKA_SSL_CA_FILE": settings.kafka_ssl_ca_file,
        "STREAMSENSE_ES_CA_FILE": settings.es_ca_file,
        "STREAMSENSE_ES_API_KEY": settings.es_api_key,
        "STREAMSENSE_ES_USERNAME": settings.es_username,
        "STREAMSENSE_ES_PASSWORD": settings.es_password,
    }
    for name, value in optional.items():
        if value is not None:
            env[name] = value.get_secret_value() if hasattr(value, "get_secret_value") else str(value)
    return env
