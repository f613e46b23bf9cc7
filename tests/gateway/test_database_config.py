"""`database = "postgresql://…"` in gateway.toml and `egressguard db upgrade` (issue 7)."""

from __future__ import annotations

import textwrap
from pathlib import Path

import psycopg
import pytest

from egressguard.cli.main import run
from egressguard.errors import GatewayConfigError
from egressguard.gateway.settings import load_gateway_settings
from tests.gateway.harness import ENV
from tests.store.backends import pg_dsn_for, pg_url_for


def _config(tmp: Path, database: str | None) -> Path:
    line = f'database = "{database}"\n' if database is not None else ""
    text = line + textwrap.dedent(
        """
        listen = "127.0.0.1:0"
        state_dir = "./state"

        [[clients]]
        id = "magento"
        tenant = "shop1"
        key_env = "EG_KEY_A"

        [[upstreams]]
        id = "eu-llm"
        base_url = "http://127.0.0.1:9/v1"
        region = "eu"

        [policy]
        default_upstream = "eu-llm"
        allowed_regions = ["eu"]
        """
    )
    path = tmp / "gateway.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_database_is_read_and_kept_out_of_reprs(tmp_path: Path) -> None:
    url = "postgresql://eg:s3cret-pw@db.internal:5432/egressguard?sslmode=verify-full"
    settings = load_gateway_settings(_config(tmp_path, url), ENV)
    assert settings.database == url and "s3cret" not in repr(settings)
    assert load_gateway_settings(_config(tmp_path, None), ENV).database is None


def test_a_database_that_is_not_a_postgresql_url_is_refused_without_echoing_it(
    tmp_path: Path,
) -> None:
    with pytest.raises(GatewayConfigError, match=r"^database: expected a postgresql://") as caught:
        load_gateway_settings(_config(tmp_path, "mysql://u:pw-leak@h/db"), ENV)
    assert "pw-leak" not in str(caught.value)


def test_instances_sharing_a_database_never_generate_their_own_keys(tmp_path: Path) -> None:
    from egressguard.cli.gateway_cmd import compose

    settings = load_gateway_settings(_config(tmp_path, "postgresql://127.0.0.1:9/x"), ENV)
    with pytest.raises(GatewayConfigError, match=r"token\.key, audit\.key, vault\.key is missing"):
        compose(settings)
    assert not (tmp_path / "state" / "token.key").exists()


@pytest.mark.usefixtures("pg_dsn")
def test_db_upgrade_creates_the_vault_and_chain_tables(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = _config(tmp_path, pg_url_for(tmp_path))
    for _ in range(2):  # idempotent
        assert run(["db", "upgrade", "--config", str(config)]) == 0
        assert "is up to date" in capsys.readouterr().err
    with psycopg.connect(pg_dsn_for(tmp_path)) as conn:
        rows = conn.execute("SELECT component, version FROM egressguard_schema").fetchall()
        tables = {
            r[0]
            for r in conn.execute(
                "SELECT tablename FROM pg_tables WHERE schemaname = current_schema()"
            )
        }
    assert dict(rows) == {"vault": 1, "audit_chain": 1}
    assert {"vault", "vault_responses", "audit_chain"} <= tables


def test_db_upgrade_without_a_database_says_sqlite_needs_none(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(["db", "upgrade", "--config", str(_config(tmp_path, None))]) == 0
    assert "no `database`" in capsys.readouterr().err


def test_db_upgrade_errors_name_no_password(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url = "postgresql://eg:pw-never-shown@127.0.0.1:9/egressguard?connect_timeout=1"
    assert run(["db", "upgrade", "--config", str(_config(tmp_path, url))]) == 2
    err = capsys.readouterr().err
    assert "cannot upgrade the vault" in err and "pw-never-shown" not in err


@pytest.mark.usefixtures("pg_dsn")
def test_vault_and_audit_log_commands_use_the_database(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from egressguard.gateway.vault_keys import load_keyring
    from egressguard.gateway.vault_postgres import PostgresVault
    from egressguard.store.postgres import PostgresChain

    config = _config(tmp_path, pg_url_for(tmp_path))
    dsn = pg_dsn_for(tmp_path)
    keyring = load_keyring(tmp_path / "state")  # state/vault.key, as the instances share it
    with PostgresVault(dsn, keyring) as vault:
        vault.put("shop1", "[EMAIL_1]", "anna@example.de", "email", None)
        vault.put("shop1", "[EMAIL_2]", "bob@example.de", "email", None)
    with PostgresChain(dsn) as chain:
        chain.append_many([{"tenant": "shop1", "n": n} for n in range(3)])
    capsys.readouterr()

    assert run(["vault", "rotate-key", "--config", str(config)]) == 0
    assert "2 entries re-encrypted" in capsys.readouterr().err
    assert run(["vault", "forget", "--config", str(config), "--tenant", "shop1",
                "--value", "Anna@Example.de"]) == 0  # fmt: skip
    assert "erased 1 token(s)" in capsys.readouterr().err
    out = tmp_path / "trail.jsonl"
    assert run(["audit-log", "export", "--config", str(config), "--format", "jsonl",
                "--output", str(out)]) == 0  # fmt: skip
    assert len(out.read_text(encoding="utf-8").splitlines()) == 3
    assert run(["audit-log", "verify", "--config", str(config)]) == 0
    assert "3 record(s)" in capsys.readouterr().err
    with PostgresVault(dsn, load_keyring(tmp_path / "state")) as vault:  # the rotated key
        assert vault.get("shop1", "[EMAIL_1]") is None
        assert vault.get("shop1", "[EMAIL_2]") == "bob@example.de"
