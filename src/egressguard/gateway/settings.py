"""gateway.toml -> frozen, validated `GatewaySettings` (validated once, at the boundary).

The minimal configuration (every other key has a default)::

    listen = "127.0.0.1:8787"
    state_dir = "./.egressguard"

    [[clients]]
    id = "magento"
    tenant = "shop1"
    key_env = "EG_KEY_MAGENTO"

    [[upstreams]]
    id = "local-llm"
    base_url = "http://127.0.0.1:11434/v1"
    region = "local"

    [policy]
    default_upstream = "local-llm"
    allowed_regions = ["local", "eu"]
    default_action = "tokenize"

Relative paths (`state_dir`, `[tls]`, `[vault] key_file`, dictionaries, CA bundles) are read
relative to the directory of the configuration file. Environment variables are passed in by the
caller (the CLI): this module never reads the process environment itself. Client keys are kept
only as SHA-256 digests. Every error is a `GatewayConfigError` that names the offending key.
"""

from __future__ import annotations

import hashlib
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from egressguard.errors import GatewayConfigError
from egressguard.gateway.detect.model import PiiCategory

CATEGORIES = frozenset(c.value for c in PiiCategory)

ACTIONS = ("allow", "tokenize", "mask", "block")
UPSTREAM_KINDS = ("openai", "anthropic")
ROUTES = (
    "/v1/chat/completions",
    "/v1/completions",
    "/v1/embeddings",
    "/v1/responses",
    "/v1/messages",
    "/v1/models",
)
DEFAULT_MAX_BODY_BYTES = 4 * 1024 * 1024
DEFAULT_TIMEOUT_S = 60.0
DEFAULT_VAULT_TTL_S = 30 * 24 * 3600

UpstreamKind = Literal["openai", "anthropic"]


@dataclass(frozen=True, slots=True)
class ClientSettings:
    id: str
    tenant: str
    key_sha256: bytes = field(repr=False)
    rate_per_minute: float | None = None  # None: the [limits] default


@dataclass(frozen=True, slots=True)
class UpstreamSettings:
    id: str
    base_url: str
    region: str
    kind: UpstreamKind = "openai"
    api_key: str | None = field(default=None, repr=False)
    timeout_s: float = DEFAULT_TIMEOUT_S
    connect_timeout_s: float = 5.0
    retries: int = 1
    ca_bundle: Path | None = None
    fallback: tuple[str, ...] = ()
    models: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class ScopePolicy:
    """Overrides for one route or one tenant; None/empty means inherit."""

    actions: Mapping[str, str] = field(default_factory=dict)
    default_action: str | None = None
    allowed_regions: frozenset[str] | None = None
    upstream: str | None = None
    routes: frozenset[str] | None = None  # tenants only: routes this tenant may call
    models: frozenset[str] | None = None  # tenants only: models this tenant may ask for


@dataclass(frozen=True, slots=True)
class PolicySettings:
    default_upstream: str
    allowed_regions: frozenset[str]
    default_action: str = "tokenize"
    actions: Mapping[str, str] = field(default_factory=dict)
    # category (or "*" for any detected category) -> regions that may receive it
    category_regions: Mapping[str, frozenset[str]] = field(default_factory=dict)
    routes: Mapping[str, ScopePolicy] = field(default_factory=dict)
    tenants: Mapping[str, ScopePolicy] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class TlsSettings:
    cert: Path
    key: Path


@dataclass(frozen=True, slots=True)
class VaultSettings:
    path: Path
    key_file: Path | None = None
    key: bytes | None = field(default=None, repr=False)  # from key_env, already read
    key_env: str | None = None
    ttl_s: int = DEFAULT_VAULT_TTL_S


@dataclass(frozen=True, slots=True)
class DictionarySettings:
    path: Path
    category: str
    columns: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class AuditLogSettings:
    path: Path
    syslog: str | None = None  # tcp://host:port or tls://host:port


@dataclass(frozen=True, slots=True)
class LimitsSettings:
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES
    rate_per_minute: float = 600.0
    max_response_bytes: int = 32 * 1024 * 1024


@dataclass(frozen=True, slots=True)
class GatewaySettings:
    host: str
    port: int
    state_dir: Path
    clients: tuple[ClientSettings, ...]
    upstreams: tuple[UpstreamSettings, ...]
    policy: PolicySettings
    vault: VaultSettings
    audit: AuditLogSettings
    limits: LimitsSettings = LimitsSettings()
    tls: TlsSettings | None = None
    dictionaries: tuple[DictionarySettings, ...] = ()
    ner_model: str | None = None  # [ner] model: an installed spaCy pipeline for person names
    # database = "postgresql://…": the vault and audit chain live there (shared by several
    # instances); None: SQLite files under state_dir. May hold a password: never in a repr.
    database: str | None = field(default=None, repr=False)

    def upstream(self, upstream_id: str) -> UpstreamSettings:
        for up in self.upstreams:
            if up.id == upstream_id:
                return up
        raise KeyError(upstream_id)

    @property
    def base_url(self) -> str:
        scheme = "https" if self.tls else "http"
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{scheme}://{host}:{self.port}"


def key_digest(key: str) -> bytes:
    """How a client key is stored: SHA-256 of its UTF-8 bytes."""
    return hashlib.sha256(key.encode("utf-8")).digest()


def load_gateway_settings(
    path: Path, environ: Mapping[str, str], *, serving: bool = True
) -> GatewaySettings:
    """Read and validate `path`; `environ` supplies the variables named by `*_env` keys.

    With `serving=False` (maintenance commands: audit-log, vault) client and upstream keys
    need not be set: those settings come back without them.
    """
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise GatewayConfigError(f"{path}: cannot read: {exc.strerror or exc}") from exc
    except (UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise GatewayConfigError(f"{path}: not valid TOML: {exc}") from exc
    return parse_gateway_settings(raw, base=path.parent.resolve(), environ=environ, serving=serving)


_TOP_KEYS = frozenset(
    {
        "listen",
        "state_dir",
        "clients",
        "upstreams",
        "policy",
        "tls",
        "vault",
        "dictionaries",
        "audit",
        "limits",
        "ner",
        "database",
    }
)


def parse_gateway_settings(
    raw: Mapping[str, Any], *, base: Path, environ: Mapping[str, str], serving: bool = True
) -> GatewaySettings:
    _no_unknown(raw, _TOP_KEYS, "")
    host, port = _listen(_req(raw, "listen", str, ""))
    state_dir = _path(base, _req(raw, "state_dir", str, ""))
    limits = _limits(_table(raw, "limits"))
    keys = environ if serving else _Lenient(environ)
    clients = _clients(_array(raw, "clients"), keys)
    upstreams = _upstreams(_array(raw, "upstreams"), base, keys)
    ids = {u.id for u in upstreams}
    policy = _policy(_table(raw, "policy", required=True), ids)
    for up in upstreams:
        for fb in up.fallback:
            if fb not in ids or fb == up.id:
                raise GatewayConfigError(f"upstreams.{up.id}.fallback: unknown upstream {fb!r}")
    tls_raw = raw.get("tls")
    tls = _tls(_as_table(tls_raw, "tls"), base) if tls_raw is not None else None
    return GatewaySettings(
        host=host,
        port=port,
        state_dir=state_dir,
        clients=clients,
        upstreams=upstreams,
        policy=policy,
        vault=_vault(_table(raw, "vault"), base, state_dir, environ),
        audit=_audit(_table(raw, "audit"), base, state_dir),
        limits=limits,
        tls=tls,
        dictionaries=_dictionaries(_array(raw, "dictionaries", required=False), base),
        ner_model=_ner(_table(raw, "ner")),
        database=_database(raw),
    )


def _listen(value: str) -> tuple[str, int]:
    host, sep, port_text = value.rpartition(":")
    host = host.strip("[]")
    if not sep or not host or not port_text.isdigit() or not 0 <= int(port_text) <= 65535:
        raise GatewayConfigError(f"listen: {value!r} is not HOST:PORT (e.g. 127.0.0.1:8787)")
    return host, int(port_text)


def _clients(
    items: list[Mapping[str, Any]], environ: Mapping[str, str]
) -> tuple[ClientSettings, ...]:
    clients: list[ClientSettings] = []
    seen_ids: set[str] = set()
    seen_keys: set[bytes] = set()
    for i, item in enumerate(items):
        where = f"clients[{i}]"
        _no_unknown(item, {"id", "tenant", "key_env", "rate_per_minute"}, where)
        cid = _req(item, "id", str, where)
        if cid in seen_ids:
            raise GatewayConfigError(f"{where}.id: duplicate client id {cid!r}")
        seen_ids.add(cid)
        key = _env_value(environ, _req(item, "key_env", str, where), f"{where}.key_env")
        if len(key) < 16:
            raise GatewayConfigError(f"{where}.key_env: the key must be at least 16 characters")
        digest = key_digest(key)
        if digest in seen_keys:
            raise GatewayConfigError(f"{where}.key_env: two clients share the same key")
        seen_keys.add(digest)
        rate = _opt_number(item, "rate_per_minute", where, minimum=0.001)
        clients.append(ClientSettings(cid, _req(item, "tenant", str, where), digest, rate))
    return tuple(clients)


_UPSTREAM_KEYS = frozenset(
    {
        "id",
        "base_url",
        "region",
        "kind",
        "api_key_env",
        "timeout_s",
        "connect_timeout_s",
        "retries",
        "ca_bundle",
        "fallback",
        "models",
    }
)


def _upstreams(
    items: list[Mapping[str, Any]], base: Path, environ: Mapping[str, str]
) -> tuple[UpstreamSettings, ...]:
    ups: list[UpstreamSettings] = []
    for i, item in enumerate(items):
        where = f"upstreams[{i}]"
        _no_unknown(item, _UPSTREAM_KEYS, where)
        uid = _req(item, "id", str, where)
        if any(u.id == uid for u in ups):
            raise GatewayConfigError(f"{where}.id: duplicate upstream id {uid!r}")
        url = _req(item, "base_url", str, where).rstrip("/")
        if not url.startswith(("http://", "https://")):
            raise GatewayConfigError(
                f"{where}.base_url: {url!r} must start with http:// or https://"
            )
        kind = _opt(item, "kind", str, where) or "openai"
        if kind not in UPSTREAM_KINDS:
            raise GatewayConfigError(f"{where}.kind: {kind!r} is not one of openai, anthropic")
        key_env = _opt(item, "api_key_env", str, where)
        ca = _opt(item, "ca_bundle", str, where)
        ca_path = _path(base, ca) if ca else None
        if ca_path is not None and not ca_path.is_file():
            raise GatewayConfigError(f"{where}.ca_bundle: {ca_path}: no such file")
        retries = _opt(item, "retries", int, where)
        if retries is not None and not 0 <= retries <= 10:
            raise GatewayConfigError(f"{where}.retries: must be between 0 and 10")
        ups.append(
            UpstreamSettings(
                id=uid,
                base_url=url,
                region=_req(item, "region", str, where),
                kind="anthropic" if kind == "anthropic" else "openai",
                api_key=_env_value(environ, key_env, f"{where}.api_key_env") if key_env else None,
                timeout_s=_opt_number(item, "timeout_s", where, 0.001) or DEFAULT_TIMEOUT_S,
                connect_timeout_s=_opt_number(item, "connect_timeout_s", where, 0.001) or 5.0,
                retries=1 if retries is None else retries,
                ca_bundle=ca_path,
                fallback=_str_tuple(item, "fallback", where),
                models=_str_tuple(item, "models", where),
            )
        )
    return tuple(ups)


_SCOPE_KEYS = frozenset(
    {"actions", "default_action", "allowed_regions", "upstream", "routes", "models"}
)


def _policy(raw: Mapping[str, Any], upstream_ids: set[str]) -> PolicySettings:
    keys = {
        "default_upstream",
        "allowed_regions",
        "default_action",
        "actions",
        "regions",
        "routes",
        "tenants",
    }
    _no_unknown(raw, keys, "policy")
    default_upstream = _req(raw, "default_upstream", str, "policy")
    if default_upstream not in upstream_ids:
        raise GatewayConfigError(
            f"policy.default_upstream: {default_upstream!r} is not a declared upstream"
        )
    regions_raw = _as_table(raw.get("regions", {}), "policy.regions")
    category_regions = {
        (cat if cat == "*" else _category(cat, f"policy.regions.{cat}")): frozenset(
            _str_list(v, f"policy.regions.{cat}")
        )
        for cat, v in regions_raw.items()
    }
    routes: dict[str, ScopePolicy] = {}
    for route, value in _as_table(raw.get("routes", {}), "policy.routes").items():
        if route not in ROUTES:
            raise GatewayConfigError(f"policy.routes.{route}: unknown route")
        routes[route] = _scope(
            _as_table(value, f"policy.routes.{route}"), f"policy.routes.{route}", upstream_ids
        )
    tenants = {
        str(t): _scope(_as_table(v, f"policy.tenants.{t}"), f"policy.tenants.{t}", upstream_ids)
        for t, v in _as_table(raw.get("tenants", {}), "policy.tenants").items()
    }
    return PolicySettings(
        default_upstream=default_upstream,
        allowed_regions=frozenset(
            _str_list(_req(raw, "allowed_regions", list, "policy"), "policy.allowed_regions")
        ),
        default_action=_action(
            _opt(raw, "default_action", str, "policy") or "tokenize", "policy.default_action"
        ),
        actions=_actions(raw.get("actions", {}), "policy.actions"),
        category_regions=category_regions,
        routes=routes,
        tenants=tenants,
    )


def _scope(raw: Mapping[str, Any], where: str, upstream_ids: set[str]) -> ScopePolicy:
    _no_unknown(raw, _SCOPE_KEYS, where)
    upstream = _opt(raw, "upstream", str, where)
    if upstream is not None and upstream not in upstream_ids:
        raise GatewayConfigError(f"{where}.upstream: {upstream!r} is not a declared upstream")
    default_action = _opt(raw, "default_action", str, where)
    regions = raw.get("allowed_regions")
    routes = raw.get("routes")
    if routes is not None:
        for r in _str_list(routes, f"{where}.routes"):
            if r not in ROUTES:
                raise GatewayConfigError(f"{where}.routes: unknown route {r!r}")
    models = raw.get("models")
    return ScopePolicy(
        actions=_actions(raw.get("actions", {}), f"{where}.actions"),
        default_action=_action(default_action, f"{where}.default_action")
        if default_action
        else None,
        allowed_regions=frozenset(_str_list(regions, f"{where}.allowed_regions"))
        if regions is not None
        else None,
        upstream=upstream,
        routes=frozenset(_str_list(routes, f"{where}.routes")) if routes is not None else None,
        models=frozenset(_str_list(models, f"{where}.models")) if models is not None else None,
    )


def _actions(raw: Any, where: str) -> dict[str, str]:
    table = _as_table(raw, where)
    return {
        _category(cat, f"{where}.{cat}"): _action(v, f"{where}.{cat}") for cat, v in table.items()
    }


def _category(name: str, where: str) -> str:
    if name not in CATEGORIES:
        raise GatewayConfigError(
            f"{where}: unknown data category {name!r} (one of {', '.join(sorted(CATEGORIES))})"
        )
    return name


def _action(value: Any, where: str) -> str:
    if value not in ACTIONS:
        raise GatewayConfigError(f"{where}: {value!r} is not one of {', '.join(ACTIONS)}")
    return str(value)


def _tls(raw: Mapping[str, Any], base: Path) -> TlsSettings:
    _no_unknown(raw, {"cert", "key"}, "tls")
    cert = _path(base, _req(raw, "cert", str, "tls"))
    key = _path(base, _req(raw, "key", str, "tls"))
    for name, p in (("cert", cert), ("key", key)):
        if not p.is_file():
            raise GatewayConfigError(f"tls.{name}: {p}: no such file")
    return TlsSettings(cert, key)


def _vault(
    raw: Mapping[str, Any], base: Path, state_dir: Path, environ: Mapping[str, str]
) -> VaultSettings:
    _no_unknown(raw, {"path", "key_file", "key_env", "ttl_s"}, "vault")
    key_file = _opt(raw, "key_file", str, "vault")
    key_env = _opt(raw, "key_env", str, "vault")
    if key_file and key_env:
        raise GatewayConfigError("vault: set key_file or key_env, not both")
    key: bytes | None = None
    if key_env:
        key = _env_value(environ, key_env, "vault.key_env").encode("utf-8")
    ttl = _opt(raw, "ttl_s", int, "vault")
    if ttl is not None and ttl <= 0:
        raise GatewayConfigError("vault.ttl_s: must be a positive number of seconds")
    path = _opt(raw, "path", str, "vault")
    return VaultSettings(
        path=_path(base, path) if path else state_dir / "vault.sqlite3",
        key_file=_path(base, key_file) if key_file else None,
        key=key,
        key_env=key_env,
        ttl_s=ttl or DEFAULT_VAULT_TTL_S,
    )


def _audit(raw: Mapping[str, Any], base: Path, state_dir: Path) -> AuditLogSettings:
    _no_unknown(raw, {"path", "syslog"}, "audit")
    syslog = _opt(raw, "syslog", str, "audit")
    if syslog is not None:
        scheme, _, rest = syslog.partition("://")
        host, _, port = rest.rpartition(":")
        if scheme not in ("tcp", "tls") or not host or not port.isdigit():
            raise GatewayConfigError(
                f"audit.syslog: {syslog!r} is not tcp://HOST:PORT or tls://HOST:PORT"
            )
    path = _opt(raw, "path", str, "audit")
    return AuditLogSettings(
        path=_path(base, path) if path else state_dir / "audit.sqlite3", syslog=syslog
    )


def _database(raw: Mapping[str, Any]) -> str | None:
    """A postgresql:// URL (libpq also reads PGPASSWORD, PGSSLMODE, … from the environment,
    so the password can stay out of the file). Errors never repeat the value."""
    value = raw.get("database")
    if value is None:
        return None
    if not isinstance(value, str) or not value.startswith(("postgresql://", "postgres://")):
        raise GatewayConfigError(
            "database: expected a postgresql://USER@HOST:PORT/DB URL (or leave it out for "
            "SQLite under state_dir)"
        )
    return value


def _ner(raw: Mapping[str, Any]) -> str | None:
    _no_unknown(raw, {"model"}, "ner")
    model: str | None = _opt(raw, "model", str, "ner")
    return model


def _limits(raw: Mapping[str, Any]) -> LimitsSettings:
    _no_unknown(raw, {"max_body_bytes", "rate_per_minute", "max_response_bytes"}, "limits")
    body = _opt(raw, "max_body_bytes", int, "limits")
    resp = _opt(raw, "max_response_bytes", int, "limits")
    if body is not None and body <= 0:
        raise GatewayConfigError("limits.max_body_bytes: must be a positive number of bytes")
    if resp is not None and resp <= 0:
        raise GatewayConfigError("limits.max_response_bytes: must be a positive number of bytes")
    rate = _opt_number(raw, "rate_per_minute", "limits", minimum=0.001)
    d = LimitsSettings()
    return LimitsSettings(
        max_body_bytes=body or d.max_body_bytes,
        rate_per_minute=rate or d.rate_per_minute,
        max_response_bytes=resp or d.max_response_bytes,
    )


def _dictionaries(items: list[Mapping[str, Any]], base: Path) -> tuple[DictionarySettings, ...]:
    out: list[DictionarySettings] = []
    for i, item in enumerate(items):
        where = f"dictionaries[{i}]"
        _no_unknown(item, {"path", "category", "columns"}, where)
        path = _path(base, _req(item, "path", str, where))
        if not path.is_file():
            raise GatewayConfigError(f"{where}.path: {path}: no such file")
        out.append(
            DictionarySettings(
                path, _req(item, "category", str, where), _str_tuple(item, "columns", where)
            )
        )
    return tuple(out)


# --- small validators: each error names its key ------------------------------------------------


def _no_unknown(raw: Mapping[str, Any], known: frozenset[str] | set[str], where: str) -> None:
    for key in raw:
        if key not in known:
            name = f"{where}.{key}" if where else key
            raise GatewayConfigError(f"{name}: unknown key")


def _req(raw: Mapping[str, Any], key: str, typ: type, where: str) -> Any:
    name = f"{where}.{key}" if where else key
    if key not in raw:
        raise GatewayConfigError(f"{name}: required key is missing")
    value = raw[key]
    if not isinstance(value, typ) or (typ is str and not value):
        raise GatewayConfigError(f"{name}: expected a non-empty {typ.__name__}")
    return value


def _opt(raw: Mapping[str, Any], key: str, typ: type, where: str) -> Any:
    if key not in raw:
        return None
    value = raw[key]
    if not isinstance(value, typ) or (isinstance(value, bool) and typ is int):
        raise GatewayConfigError(f"{where}.{key}: expected {typ.__name__}")
    return value


def _opt_number(raw: Mapping[str, Any], key: str, where: str, minimum: float) -> float | None:
    if key not in raw:
        return None
    value = raw[key]
    if isinstance(value, bool) or not isinstance(value, int | float) or value < minimum:
        raise GatewayConfigError(f"{where}.{key}: expected a number >= {minimum}")
    return float(value)


def _table(raw: Mapping[str, Any], key: str, *, required: bool = False) -> Mapping[str, Any]:
    if key not in raw:
        if required:
            raise GatewayConfigError(f"[{key}]: required table is missing")
        return {}
    return _as_table(raw[key], key)


def _as_table(value: Any, where: str) -> Mapping[str, Any]:
    if not isinstance(value, dict):
        raise GatewayConfigError(f"{where}: expected a table")
    return value


def _array(raw: Mapping[str, Any], key: str, *, required: bool = True) -> list[Mapping[str, Any]]:
    value = raw.get(key)
    if value is None:
        if required:
            raise GatewayConfigError(f"[[{key}]]: at least one entry is required")
        return []
    if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
        raise GatewayConfigError(f"{key}: expected an array of tables ([[{key}]])")
    if required and not value:
        raise GatewayConfigError(f"[[{key}]]: at least one entry is required")
    return value


def _str_list(value: Any, where: str) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        raise GatewayConfigError(f"{where}: expected a list of strings")
    return value


def _str_tuple(raw: Mapping[str, Any], key: str, where: str) -> tuple[str, ...]:
    if key not in raw:
        return ()
    return tuple(_str_list(raw[key], f"{where}.{key}"))


class _Lenient(dict[str, str]):
    """An environment in which every variable is set (to a unique dummy value)."""

    def __init__(self, environ: Mapping[str, str]) -> None:
        super().__init__(environ)

    def __missing__(self, name: str) -> str:
        return f"unset:{name}:not-a-usable-key"

    def get(self, name: str, default: Any = None) -> Any:
        return self[name]


def _env_value(environ: Mapping[str, str], name: str, where: str) -> str:
    value = environ.get(name)
    if not value:
        raise GatewayConfigError(f"{where}: environment variable {name} is not set")
    return value


def _path(base: Path, value: str) -> Path:
    p = Path(value).expanduser()
    return p if p.is_absolute() else base / p
