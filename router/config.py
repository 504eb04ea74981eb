"""`router.yaml`: the router's configuration, validated on load.

Every option has a default, so an empty file (or none) is a valid configuration.
Unknown keys, wrong types and impossible values are errors that name the
offending key (`traffic.retries: must be >= 0`). docs/configuration.md
documents every option; a test keeps the two in step.
"""

from __future__ import annotations

import ipaddress
import os
import re
from dataclasses import dataclass, field, fields, is_dataclass
from pathlib import Path
from typing import Any, Literal, get_type_hints

import yaml

from router.http_fields import name_problem, value_problem


class ConfigError(ValueError):
    """router.yaml could not be read, or a key has a bad value (the message names it)."""


Problems = list[tuple[str, str]]  # (key relative to the section, message)


def _at_least(problems: Problems, obj: Any, minimum: float, *names: str) -> None:
    for name in names:
        value = getattr(obj, name)
        if value is not None and value < minimum:
            problems.append((name, f"must be >= {minimum}, got {value!r}"))


@dataclass(frozen=True)
class HeaderRule:
    """One step of header propagation to a subgraph: propagate, insert or remove."""

    propagate: str | None = None  # a client request header to forward
    rename: str | None = None  # propagate: send it under this name
    default: str | None = None  # propagate: the value when the client sent none
    insert: str | None = None  # a header to set
    value: str | None = None  # insert: a fixed value
    from_claim: str | None = None  # insert: the value of this JWT claim
    remove: str | None = None  # drop this header (set by an earlier rule)

    def problems(self) -> Problems:
        """What is wrong with the rule: (key, message) pairs, none when valid."""
        kinds = [k for k in ("propagate", "insert", "remove") if getattr(self, k) is not None]
        if len(kinds) != 1:
            return [("", "a header rule needs exactly one of propagate, insert, remove")]
        # what could never go on the wire is refused here, not at the first request
        out: Problems = [
            (key, problem)
            for key, check in (
                ("propagate", name_problem),
                ("rename", name_problem),
                ("insert", name_problem),
                ("remove", name_problem),
                ("value", value_problem),
                ("default", value_problem),
            )
            if getattr(self, key) is not None
            and (problem := check(getattr(self, key))) is not None
        ]
        if self.insert is not None and (self.value is None) == (self.from_claim is None):
            out.append(("insert", "give exactly one of value, from_claim"))
        if self.propagate is None and (self.rename is not None or self.default is not None):
            out.append(("rename" if self.rename is not None else "default", "only with propagate"))
        if self.insert is None and (self.value is not None or self.from_claim is not None):
            out.append(("value" if self.value is not None else "from_claim", "only with insert"))
        return out


def _default_header_rules() -> list[HeaderRule]:
    return [
        HeaderRule(propagate="authorization"),
        HeaderRule(propagate="x-request-id"),
        # with the client's address appended by the router (accounts throttles by it)
        HeaderRule(propagate="x-forwarded-for"),
    ]


@dataclass(frozen=True)
class SubgraphConfig:
    """One subgraph's section: its URL, timeout, retries and header rules."""

    url: str | None = None  # override the URL from the supergraph
    timeout: float | None = None  # seconds; falls back to traffic.subgraph_timeout
    retries: int | None = None  # falls back to traffic.retries
    headers: list[HeaderRule] = field(default_factory=list)  # after the top-level rules

    def problems(self) -> Problems:
        """What is wrong with the section: (key, message) pairs."""
        out: Problems = []
        _at_least(out, self, 0, "retries")
        if self.timeout is not None and self.timeout <= 0:
            out.append(("timeout", f"must be > 0, got {self.timeout!r}"))
        return out


@dataclass(frozen=True)
class CircuitBreakerConfig:
    """When a subgraph's circuit opens and for how long."""

    enabled: bool = True
    failure_threshold: int = 5  # consecutive failed requests that open the circuit
    open_seconds: float = 10.0  # how long to fail fast before letting one trial through

    def problems(self) -> Problems:
        """What is wrong with the section: (key, message) pairs."""
        out: Problems = []
        _at_least(out, self, 1, "failure_threshold")
        _at_least(out, self, 0, "open_seconds")
        return out


@dataclass(frozen=True)
class TrafficConfig:
    """How the router talks to subgraphs and what one request may cost."""

    # seconds per subgraph request, waiting for a free connection included
    subgraph_timeout: float = 10.0
    max_body_bytes: int = 2 * 1024 * 1024
    # sockets open to one subgraph origin (scheme, host, port); more requests wait their turn
    max_connections_per_origin: int = 100
    max_subgraph_response_bytes: int = 64 * 1024 * 1024  # a larger subgraph answer is an error
    # extra attempts for a query no working subgraph answered (connection failed or closed
    # before a response, connect timeout, 502/503/504); mutations are never retried
    retries: int = 2
    retry_backoff: float = 0.05  # seconds before the first retry, doubled for each next one
    # identical subgraph queries in flight at once (same body and headers) share one call
    deduplicate_queries: bool = True
    # entity fetches to one subgraph that a plan runs in parallel go as one request
    batch_entity_fetches: bool = True
    # requests executing at once while the event loop is saturated (0: no limit); the
    # others wait their turn, so each runs with its data still in the CPU caches
    max_concurrent_executions: int = 8
    circuit_breaker: CircuitBreakerConfig = field(default_factory=CircuitBreakerConfig)
    # proxies (addresses or CIDR networks) whose X-Forwarded-For is kept; for any other
    # peer the router writes only the peer's address there
    trusted_proxies: list[str] = field(default_factory=list)

    def problems(self) -> Problems:
        """What is wrong with the section: (key, message) pairs."""
        out: Problems = []
        if self.subgraph_timeout <= 0:
            out.append(("subgraph_timeout", f"must be > 0, got {self.subgraph_timeout!r}"))
        _at_least(
            out,
            self,
            1,
            "max_body_bytes",
            "max_connections_per_origin",
            "max_subgraph_response_bytes",
        )
        _at_least(out, self, 0, "retries", "retry_backoff")
        for index, entry in enumerate(self.trusted_proxies):
            try:
                ipaddress.ip_network(entry, strict=False)
            except ValueError:
                problem = f"not an IP address or network: {entry!r}"
                out.append((f"trusted_proxies[{index}]", problem))
        return out


@dataclass(frozen=True)
class ServerConfig:
    """What one client connection may cost the HTTP server (router/server/http_server.py)."""

    max_head_bytes: int = 64 * 1024  # request line and headers; larger: 431
    head_timeout: float = 10.0  # seconds to send a request's head (from its first byte)
    body_timeout: float = 30.0  # seconds to send its body (from the end of the head)
    keep_alive_timeout: float = 5.0  # idle seconds between requests before closing
    max_connections: int = 10_000  # open client connections; one more: 503 and closed

    def problems(self) -> Problems:
        """What is wrong with the section: (key, message) pairs."""
        out: Problems = []
        _at_least(out, self, 1024, "max_head_bytes")
        _at_least(out, self, 1, "max_connections")
        for name in ("head_timeout", "body_timeout", "keep_alive_timeout"):
            if getattr(self, name) <= 0:
                out.append((name, f"must be > 0, got {getattr(self, name)!r}"))
        return out


# Nesting beyond this would overflow the interpreter's stack in later stages, so no
# configuration may lift the limit past it.
NESTING_CEILING = 128


@dataclass(frozen=True)
class LimitsConfig:
    """What one operation may cost the router before it is refused."""

    max_depth: int = 32  # 0 = no limit
    max_aliases: int = 64  # 0 = no limit
    max_root_fields: int = 32  # 0 = no limit
    introspection: bool = True
    max_tokens: int = 15_000  # lexical tokens of the query text
    max_nesting: int = 64  # selection sets, fragment spreads and list/object values
    max_fields: int = 4_000  # fields once every fragment is expanded (0 = no limit)
    max_fragments: int = 256  # fragment definitions in one document
    planning_budget: float = 2.0  # CPU seconds to normalize and plan one operation
    planning_queue: int = 64  # cold operations waiting for the planner; more: 503 PLANNER_BUSY
    planning_wait: float = 10.0  # seconds a request waits for its plan; longer: 503 PLANNER_BUSY
    max_deferred_parts: int = 32  # @defer fragments in one operation (each spread counts)

    def problems(self) -> Problems:
        """What is wrong with the section: (key, message) pairs."""
        out: Problems = []
        _at_least(out, self, 0, "max_depth", "max_aliases", "max_root_fields", "max_fields")
        _at_least(out, self, 1, "max_tokens", "max_nesting", "max_fragments", "planning_queue")
        _at_least(out, self, 1, "max_deferred_parts")
        if self.max_nesting > NESTING_CEILING:
            out.append(
                ("max_nesting", f"must be at most {NESTING_CEILING}, got {self.max_nesting}")
            )
        for name in ("planning_budget", "planning_wait"):
            if getattr(self, name) <= 0:
                out.append((name, f"must be > 0, got {getattr(self, name)!r}"))
        return out


@dataclass(frozen=True)
class JwtConfig:
    """Edge authentication: where the keys come from and what a token must carry."""

    secret: str | None = None  # shared secret for HS256/384/512
    secret_env: str | None = None  # or: the environment variable holding it
    jwks_file: str | None = None  # or: a JSON Web Key Set file
    jwks_url: str | None = None  # or: a JSON Web Key Set URL (fetched, then refreshed)
    jwks_refresh_seconds: float = 300.0
    algorithms: list[str] = field(default_factory=list)  # [] = HS256 for a secret, else RS256/ES256
    issuer: str | None = None  # required `iss` when set
    audience: str | None = None  # required `aud` when set
    header: str = "authorization"
    prefix: str = "Bearer"
    required: bool = False  # refuse requests without a token (invalid tokens are always refused)
    public_key_file: str | None = None  # or: a PEM public key file (RSA, EC, Ed25519)
    public_key_env: str | None = None  # or: the environment variable holding a PEM or its path

    @property
    def enabled(self) -> bool:
        """Whether a secret or key set is configured (tokens are then verified)."""
        return any(getattr(self, k) for k in _KEY_SOURCES)

    def problems(self) -> Problems:
        """What is wrong with the section: (key, message) pairs."""
        sources = [k for k in _KEY_SOURCES if getattr(self, k)]
        out: Problems = []
        if len(sources) > 1:
            out.append((sources[1], f"give only one of {', '.join(_KEY_SOURCES)} "
                                    f"(also set: {sources[0]})"))
        for key in ("secret_env", "public_key_env"):
            name = getattr(self, key)
            if name and not os.environ.get(name):
                out.append((key, f"environment variable {name} is not set"))
        if self.public_key_file and not Path(self.public_key_file).is_file():
            out.append(("public_key_file", f"no such file: {self.public_key_file}"))
        if self.required and not self.enabled:
            out.append(("required", f"needs one of {', '.join(_KEY_SOURCES)}"))
        _at_least(out, self, 1, "jwks_refresh_seconds")
        return out


# where the keys that verify tokens may come from: one of them
_KEY_SOURCES = (
    "secret", "secret_env", "jwks_file", "jwks_url", "public_key_file", "public_key_env"
)


@dataclass(frozen=True)
class AuthConfig:
    """The `auth` section."""

    jwt: JwtConfig = field(default_factory=JwtConfig)


@dataclass(frozen=True)
class AuthorizationErrorsConfig:
    """Where a request learns what authorization removed, and whether the router logs it."""

    log: bool = True  # one log line per request that had something removed
    # "errors": in the response's errors; "extensions": in extensions.authorizationErrors;
    # "disabled": not said at all
    response: Literal["errors", "extensions", "disabled"] = "errors"


@dataclass(frozen=True)
class AuthorizationDirectivesConfig:
    """How @authenticated, @requiresScopes and @policy of the supergraph are enforced."""

    enabled: bool = True
    dry_run: bool = False  # report what would be removed, remove nothing
    reject_unauthorized: bool = False  # refuse the whole request (data null) if anything would be
    errors: AuthorizationErrorsConfig = field(default_factory=AuthorizationErrorsConfig)

    def problems(self) -> Problems:
        """What is wrong with the section: (key, message) pairs."""
        if self.dry_run and self.reject_unauthorized:
            return [("reject_unauthorized", "cannot be combined with dry_run")]
        return []


_HOOK = re.compile(r"[A-Za-z_][\w]*(\.[A-Za-z_][\w]*)*:[A-Za-z_][\w]*(\.[A-Za-z_][\w]*)*")


@dataclass(frozen=True)
class AuthorizationConfig:
    """The `authorization` section: authorization directives and anonymous requests."""

    require_authentication: bool = False  # refuse requests without a verified token (401)
    directives: AuthorizationDirectivesConfig = field(
        default_factory=AuthorizationDirectivesConfig
    )
    # "module:function" deciding which @policy policies a request is granted
    policy_hook: str | None = None

    def problems(self) -> Problems:
        """What is wrong with the section: (key, message) pairs."""
        if self.policy_hook is not None and not _HOOK.fullmatch(self.policy_hook):
            return [("policy_hook", f"must be 'module:function', got {self.policy_hook!r}")]
        return []


@dataclass(frozen=True)
class LoggingConfig:
    """The router's log level and format (text or json)."""

    format: Literal["json", "text"] = "json"
    level: Literal["debug", "info", "warning", "error"] = "info"
    requests: bool = True  # one log line per GraphQL request


@dataclass(frozen=True)
class TracingConfig:
    """OpenTelemetry tracing: whether, where to export and whether to propagate."""

    enabled: bool = False  # needs the opentelemetry-sdk package (pip install shopgraph[tracing])
    service_name: str = "shopgraph-router"
    exporter: Literal["console", "otlp"] = "console"  # otlp needs opentelemetry-exporter-otlp
    endpoint: str | None = None  # otlp: the collector URL (default: the exporter's)
    propagate: bool = True  # send W3C traceparent to subgraphs


@dataclass(frozen=True)
class InlineTraceConfig:
    """Who may ask for a request's fetch trace in `extensions.trace` (`shopgraph-trace: 1`)."""

    enabled: bool = False
    # development: anyone who asks (shopgraph dev); scopes: a verified JWT with one of `scopes`
    allow: Literal["development", "scopes"] = "scopes"
    scopes: list[str] = field(default_factory=lambda: ["admin"])


@dataclass(frozen=True)
class TelemetryConfig:
    """Metrics, logging, tracing and the inline fetch trace."""

    metrics: bool = True  # Prometheus text at /metrics
    logging: LoggingConfig = field(default_factory=LoggingConfig)
    tracing: TracingConfig = field(default_factory=TracingConfig)
    inline_trace: InlineTraceConfig = field(default_factory=InlineTraceConfig)


@dataclass(frozen=True)
class HealthConfig:
    """How /ready probes the subgraphs."""

    ready_timeout: float = 2.0  # seconds each subgraph gets to answer the /ready probe

    def problems(self) -> Problems:
        """What is wrong with the section: (key, message) pairs."""
        if self.ready_timeout <= 0:
            return [("ready_timeout", f"must be > 0, got {self.ready_timeout!r}")]
        return []


@dataclass(frozen=True)
class PlaygroundConfig:
    """Whether the playground and /plan are served."""

    enabled: bool = True  # GraphiQL at /playground and at /graphql for browsers
    plan: bool = True  # POST /plan shows query plans (the playground's plan view)


@dataclass(frozen=True)
class PersistedQueriesConfig:
    """Automatic persisted queries (APQ) and the persisted-query safelist."""

    enabled: bool = True  # APQ: hash-only requests, registration with query + hash
    cache_entries: int = 2048  # registered queries kept, least recently used evicted first
    cache_bytes: int = 4 * 1024 * 1024  # and at most this many bytes of query text
    manifest: str | None = None  # an Apollo persisted query manifest (JSON) to load
    safelist: Literal[False, True, "log"] = False  # refuse (or only log) unlisted operations

    def problems(self) -> Problems:
        """What is wrong with the section: (key, message) pairs."""
        out: Problems = []
        _at_least(out, self, 0, "cache_entries", "cache_bytes")
        if not isinstance(self.safelist, bool) and self.safelist != "log":
            out.append(("safelist", f"expected true, false or log, got {self.safelist!r}"))
        if self.safelist is not False and self.manifest is None:
            out.append(("safelist", "needs persisted_queries.manifest"))
        return out


@dataclass(frozen=True)
class SubscriptionsConfig:
    """Subscriptions over graphql-transport-ws and graphql-sse (docs/subscriptions.md)."""

    enabled: bool = True  # false: subscriptions are refused (SUBSCRIPTIONS_NOT_SUPPORTED)
    max_per_connection: int = 32  # running at once on one WebSocket; more: an error, id closed
    max_total: int = 10_000  # running at once in the router process; more: SUBSCRIPTION_LIMIT
    # running at once for one client address (WebSocket and SSE together); more: the same
    max_per_client: int = 100
    heartbeat_interval: float = 15.0  # seconds: ws `ping` / SSE `:` comment; 0 = none
    init_timeout: float = 10.0  # seconds for connection_init (ws) / connection_ack (upstream)
    max_event_bytes: int = 1024 * 1024  # one message from a subgraph; larger: the stream ends
    max_message_bytes: int = 64 * 1024  # one message from a client over the WebSocket
    idle_timeout: float = 300.0  # seconds a ws connection may run no subscription; 0 = forever
    # seconds of silence on a subgraph's subscription socket before the router sends a
    # `ping`; as long again without any message ends the subscription; 0 = no check
    upstream_ping_interval: float = 15.0

    def problems(self) -> Problems:
        """What is wrong with the section: (key, message) pairs."""
        out: Problems = []
        _at_least(out, self, 1, "max_per_connection", "max_total", "max_per_client")
        _at_least(out, self, 1024, "max_event_bytes", "max_message_bytes")
        _at_least(out, self, 0, "heartbeat_interval", "idle_timeout", "upstream_ping_interval")
        if self.init_timeout <= 0:
            out.append(("init_timeout", f"must be > 0, got {self.init_timeout!r}"))
        return out


@dataclass(frozen=True)
class RouterConfig:
    """router.yaml, validated; every section has its defaults."""

    listen: str = "127.0.0.1:4000"
    supergraph: str | None = None
    plan_cache_size: int = 1024
    plan_cache_mib: int = 40  # and at most this much memory (estimated) over all its entries
    # progressive @override labels to enable (percent(n) labels roll by themselves)
    override_labels: list[str] = field(default_factory=list)
    traffic: TrafficConfig = field(default_factory=TrafficConfig)
    server: ServerConfig = field(default_factory=ServerConfig)
    limits: LimitsConfig = field(default_factory=LimitsConfig)
    auth: AuthConfig = field(default_factory=AuthConfig)
    authorization: AuthorizationConfig = field(default_factory=AuthorizationConfig)
    headers: list[HeaderRule] = field(default_factory=_default_header_rules)
    subgraphs: dict[str, SubgraphConfig] = field(default_factory=dict)
    telemetry: TelemetryConfig = field(default_factory=TelemetryConfig)
    health: HealthConfig = field(default_factory=HealthConfig)
    playground: PlaygroundConfig = field(default_factory=PlaygroundConfig)
    persisted_queries: PersistedQueriesConfig = field(default_factory=PersistedQueriesConfig)
    subscriptions: SubscriptionsConfig = field(default_factory=SubscriptionsConfig)

    def problems(self) -> Problems:
        """What is wrong with the whole configuration: (key, message) pairs."""
        host, _, port = self.listen.rpartition(":")
        if not host or not port.isdigit():
            return [("listen", f"must be HOST:PORT, got {self.listen!r}")]
        out: Problems = []
        _at_least(out, self, 1, "plan_cache_size", "plan_cache_mib")
        if self.authorization.require_authentication and not self.auth.jwt.enabled:
            # without edge JWT validation no request is ever authenticated
            out.append(("authorization.require_authentication", "needs auth.jwt configured"))
        return out


def _build(cls: type, data: Any, where: str) -> Any:
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ConfigError(f"{where or 'config'}: expected a mapping, got {type(data).__name__}")
    hints = get_type_hints(cls)
    known = {f.name for f in fields(cls)}
    values: dict[str, Any] = {}
    for key, value in data.items():
        path = f"{where}.{key}" if where else str(key)
        if key not in known:
            raise ConfigError(f"{path}: unknown option (known: {', '.join(sorted(known))})")
        values[key] = _coerce(hints[key], value, path)
    built = cls(**values)
    check = getattr(built, "problems", None)
    for key, message in check() if check else ():
        path = ".".join(p for p in (where, key) if p) or "config"
        raise ConfigError(f"{path}: {message}")
    return built


def _coerce(hint: Any, value: Any, path: str) -> Any:
    origin = getattr(hint, "__origin__", None)
    args = getattr(hint, "__args__", ())
    if is_dataclass(hint):
        return _build(hint, value, path)  # type: ignore[arg-type]
    if origin is dict:
        if not isinstance(value, dict):
            raise ConfigError(f"{path}: expected a mapping")
        return {str(k): _coerce(args[1], v, f"{path}.{k}") for k, v in value.items()}
    if origin is list:
        if not isinstance(value, list):
            raise ConfigError(f"{path}: expected a list, got {value!r}")
        return [_coerce(args[0], v, f"{path}[{i}]") for i, v in enumerate(value)]
    if origin is Literal:
        if value in args:
            return value
        choices = ", ".join(str(a) for a in args)
        raise ConfigError(f"{path}: expected one of {choices}, got {value!r}")
    if type(None) in args:  # Optional[X]
        if value is None:
            return None
        inner = next(a for a in args if a is not type(None))
        return _coerce(inner, value, path)
    if hint is float and isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    if hint is int and isinstance(value, int) and not isinstance(value, bool):
        return value
    if hint is str and isinstance(value, str):
        return value
    if hint is bool and isinstance(value, bool):
        return value
    raise ConfigError(f"{path}: expected {getattr(hint, '__name__', hint)}, got {value!r}")


def parse_config(data: Any) -> RouterConfig:
    """A validated RouterConfig from already-parsed YAML (a mapping or None)."""
    config: RouterConfig = _build(RouterConfig, data, "")
    return config


def load_config(path: str | Path | None) -> RouterConfig:
    """The validated configuration in the YAML file at `path` (defaults without one)."""
    if path is None:
        return RouterConfig()
    try:
        data = yaml.safe_load(Path(path).read_text())
    except OSError as error:
        raise ConfigError(f"cannot read {path}: {error.strerror}") from error
    except yaml.YAMLError as error:
        raise ConfigError(f"{path} is not valid YAML: {error}") from error
    return parse_config(data)
