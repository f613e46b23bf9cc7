"""Fleet audits: many stores (repositories) from one list file, audited in parallel.

List file: one store per line, `NAME PATH` or just `PATH` (the name is then the folder's
name); `#` starts a comment; relative paths are relative to the list file. Each store is
audited in its own process with its own `.egressguard.toml` (if it has one); a store that
cannot be audited is an outcome with its error, never the end of the fleet run.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass, replace
from pathlib import Path

from egressguard.audit.engine import AuditRequest, run_audit
from egressguard.config import CONFIG_FILE_NAME, AuditSettings, load_settings
from egressguard.errors import ConfigError, EgressGuardError
from egressguard.model import ScanResult


@dataclass(frozen=True, slots=True)
class Store:
    name: str
    path: Path
    line: int


@dataclass(frozen=True, slots=True)
class StoreOutcome:
    store: Store
    result: ScanResult | None
    error: str = ""


def parse_fleet(text: str, base: Path, source: str) -> tuple[Store, ...]:
    stores: list[Store] = []
    seen: dict[str, int] = {}
    for n, raw in enumerate(text.splitlines(), 1):
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        parts = line.split(None, 1)
        name, where = (parts[0], parts[1].strip()) if len(parts) == 2 else (None, parts[0])
        path = Path(where).expanduser()
        path = path if path.is_absolute() else base / path
        name = name or path.name
        if name in seen:
            raise ConfigError(
                f"{source}:{n}: store name {name!r} already used on line {seen[name]}"
            )
        seen[name] = n
        stores.append(Store(name, path, n))
    if not stores:
        raise ConfigError(f"{source}: lists no store")
    return tuple(stores)


def audit_store(store: Store, overrides: AuditSettings | None) -> StoreOutcome:
    """One store's audit (runs in a worker process)."""
    try:
        config = store.path / CONFIG_FILE_NAME
        settings = load_settings(config if config.is_file() else None)
        if overrides is not None:
            settings = replace(
                settings,
                exclude=settings.exclude + overrides.exclude,
                max_file_size=overrides.max_file_size,
            )
        return StoreOutcome(store, run_audit(AuditRequest(roots=(store.path,), settings=settings)))
    except (EgressGuardError, OSError) as exc:
        return StoreOutcome(store, None, str(exc))


def run_fleet(
    stores: Sequence[Store],
    jobs: int,
    overrides: AuditSettings | None = None,
    audit: Callable[[Store, AuditSettings | None], StoreOutcome] = audit_store,
) -> Iterator[StoreOutcome]:
    """Outcomes as stores finish (jobs=1: in this process, in list order)."""
    if jobs <= 1:
        for store in stores:
            yield audit(store, overrides)
        return
    with ProcessPoolExecutor(max_workers=min(jobs, len(stores))) as pool:
        futures = [pool.submit(audit, s, overrides) for s in stores]
        for future in as_completed(futures):
            yield future.result()


def default_jobs() -> int:
    return max(1, min(4, os.cpu_count() or 1))
