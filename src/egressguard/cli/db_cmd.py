"""`egressguard db upgrade`, and which stores a gateway.toml selects.

With `database = "postgresql://…"` at the top of gateway.toml the token vault and the audit
chain live in that PostgreSQL database, shared by every gateway instance that names it; without
it they are SQLite files under `state_dir`. libpq reads its usual environment variables
(PGPASSWORD, PGSSLMODE, PGSSLROOTCERT, …), so the password can stay out of the file.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from egressguard.gateway.settings import GatewaySettings
    from egressguard.gateway.vault import Vault
    from egressguard.store.backend import ChainStore

EXIT_OK = 0
SHARED_KEY_FILES = ("token.key", "audit.key")


def add_parsers(sub: Any) -> None:
    db = sub.add_parser("db", help="the gateway's database (PostgreSQL): apply schema migrations")
    db_sub = db.add_subparsers(dest="db_command", required=True)
    upgrade = db_sub.add_parser("upgrade", help="create or upgrade the vault and audit tables")
    upgrade.add_argument("--config", type=Path, required=True, help="gateway.toml")
    upgrade.set_defaults(handler=run_db_upgrade)


def run_db_upgrade(args: argparse.Namespace) -> int:
    from egressguard.gateway.settings import load_gateway_settings

    settings = load_gateway_settings(args.config, os.environ, serving=False)
    if settings.database is None:
        print(
            "egressguard: no `database` in the config: the SQLite vault and audit chain under "
            f"{settings.state_dir} are upgraded when the gateway opens them",
            file=sys.stderr,
        )
        return EXIT_OK
    from egressguard.gateway.vault_postgres import migrate, redact_dsn
    from egressguard.store.postgres import PostgresChain

    migrate(settings.database)
    PostgresChain(settings.database).close()  # applies the chain's schema
    print(
        f"egressguard: database at {redact_dsn(settings.database)} is up to date "
        "(vault and audit chain)",
        file=sys.stderr,
    )
    return EXIT_OK


def open_vault(settings: GatewaySettings, keyring: Any) -> Vault:
    """The configured vault (migrated on opening)."""
    if settings.database is not None:
        from egressguard.gateway.vault_postgres import PostgresVault

        return PostgresVault(settings.database, keyring)
    from egressguard.gateway.vault import SqliteVault

    return SqliteVault(settings.vault.path, keyring)


def open_chain(settings: GatewaySettings, *, readonly: bool = False) -> ChainStore:
    """The configured audit chain (PostgreSQL: migrated on opening unless ``readonly``)."""
    if settings.database is not None:
        from egressguard.store.postgres import PostgresChain

        return PostgresChain(settings.database, migrate=not readonly)
    from egressguard.store.sqlite import SqliteChain

    return SqliteChain(settings.audit.path, readonly=readonly)


def check_shared_keys(settings: GatewaySettings) -> None:
    """With a shared database every instance must use the same token secret, audit key and
    vault key: refuse to generate them per instance (each would mint its own tokens)."""
    if settings.database is None:
        return
    from egressguard.errors import GatewayConfigError

    names = list(SHARED_KEY_FILES)
    if settings.vault.key is None and settings.vault.key_file is None:
        names.append("vault.key")
    missing = [n for n in names if not (settings.state_dir / n).is_file()]
    if missing:
        raise GatewayConfigError(
            f"database: instances sharing a database must share their keys, but "
            f"{', '.join(missing)} is missing in {settings.state_dir}: create each once "
            "(docs/deployment.md, 'Keys') and give every instance the same files"
        )
