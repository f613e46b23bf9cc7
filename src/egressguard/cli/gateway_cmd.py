"""`egressguard gateway`, `audit-log verify|export` and `vault forget|rotate-key`.

This module composes the gateway (vault, detector, tokenizer, audit sink -> app -> server) and
is the only place of the gateway that prints, reads the environment and picks exit codes.
Heavy imports happen inside the commands, so `egressguard audit` does not pay for them.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO

if TYPE_CHECKING:
    from egressguard.gateway.settings import GatewaySettings

EXIT_OK, EXIT_BROKEN, EXIT_ERROR = 0, 1, 2
TOKEN_KEY_FILE = "token.key"
AUDIT_KEY_FILE = "audit.key"

Handler = Callable[[argparse.Namespace], int]


@dataclass
class Composed:
    """A ready gateway app, what to tell the user, and how to shut its stores down."""

    app: Any
    sink: Any
    close: Callable[[], None]
    notes: list[str] = field(default_factory=list)


def add_parsers(sub: Any) -> None:
    """Add the gateway's subcommands to the main parser's subparsers."""
    gw = sub.add_parser("gateway", help="run the sovereign AI gateway (OpenAI/Anthropic proxy)")
    _config_arg(gw)
    gw.set_defaults(handler=run_gateway)

    log = sub.add_parser("audit-log", help="verify or export the gateway's audit trail")
    log_sub = log.add_subparsers(dest="audit_log_command", required=True)
    verify = log_sub.add_parser("verify", help="check the chain; exit 1 names the first bad record")
    _config_arg(verify)
    verify.set_defaults(handler=run_audit_verify)
    export = log_sub.add_parser("export", help="write the trail as JSON lines, syslog or CEF")
    _config_arg(export)
    export.add_argument("--format", required=True, choices=["jsonl", "cef", "syslog"])
    export.add_argument("--output", type=Path, help="file to write (default: standard output)")
    export.add_argument("--tenant", help="only this tenant's records")
    export.add_argument(
        "--send",
        action="store_true",
        help="with --format syslog: send to the collector in [audit] syslog instead of writing",
    )
    export.set_defaults(handler=run_audit_export)

    vault = sub.add_parser("vault", help="erase a data subject's tokens or rotate the vault key")
    vault_sub = vault.add_subparsers(dest="vault_command", required=True)
    forget = vault_sub.add_parser("forget", help="erase every token of one value (GDPR Art. 17)")
    _config_arg(forget)
    forget.add_argument("--tenant", required=True)
    forget.add_argument(
        "--value",
        required=True,
        help="the value to erase (never printed); '-' reads it from standard input, which keeps "
        "it out of shell history and the process list",
    )
    forget.set_defaults(handler=run_vault_forget)
    rotate = vault_sub.add_parser("rotate-key", help="new vault key; re-encrypt every entry")
    _config_arg(rotate)
    rotate.add_argument(
        "--retire-old-keys",
        action="store_true",
        help="drop old keys from the key file afterwards (stop running gateways first)",
    )
    rotate.set_defaults(handler=run_vault_rotate)


def _config_arg(p: argparse.ArgumentParser) -> None:
    p.add_argument("--config", type=Path, required=True, help="gateway.toml")


def _err(message: str) -> None:
    print(message, file=sys.stderr)


def load(args: argparse.Namespace, *, serving: bool = False) -> GatewaySettings:
    from egressguard.gateway.settings import load_gateway_settings

    return load_gateway_settings(args.config, os.environ, serving=serving)


# --- gateway ------------------------------------------------------------------------------------


def run_gateway(args: argparse.Namespace) -> int:
    from egressguard.gateway.server import serve

    settings = load(args, serving=True)
    composed = compose(settings)
    for note in composed.notes:
        _err(f"egressguard: {note}")
    url = settings.base_url
    _err(f"egressguard: gateway listening on {url} (OpenAI-compatible base URL: {url}/v1)")
    try:
        serve(settings, composed.app)
    finally:
        composed.close()
    return EXIT_OK


def compose(settings: GatewaySettings) -> Composed:
    """Build the app from its parts (vault, tokenizer, detector, audit sink)."""
    from egressguard.cli.db_cmd import check_shared_keys, open_chain, open_vault
    from egressguard.gateway.app import build_app
    from egressguard.gateway.detect.engine import build_detector
    from egressguard.gateway.tokens import Tokenizer
    from egressguard.store.sink import ChainSink

    notes: list[str] = []
    # first what can fail on configuration (dictionaries, NER model), before stores open
    detector = build_detector(_dictionary_specs(settings), ner_model=settings.ner_model)
    settings.state_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    check_shared_keys(settings)  # database = …: keys are shared, never generated per instance
    keyring = _keyring(settings, generate=True)
    if keyring.generated is not None:
        notes.append(
            f"generated a new vault key in {keyring.generated} (mode 0600): back it up; "
            "without it the vault cannot be read"
        )
    secret, created = _token_secret(settings.state_dir)
    if created:
        notes.append(
            f"generated a token secret in {settings.state_dir / TOKEN_KEY_FILE} (mode 0600)"
        )
    digest_key, created = _audit_digest_key(settings.state_dir)
    if created:
        notes.append(
            f"generated an audit digest key in {settings.state_dir / AUDIT_KEY_FILE} (mode 0600)"
        )
    vault = open_vault(settings, keyring)  # database = "postgresql://…" or SQLite in state_dir
    try:
        chain = open_chain(settings)
    except BaseException:
        vault.close()
        raise
    sink = ChainSink(chain, digest_key=digest_key)  # durable: committed before emit returns
    closed = False

    def close() -> None:
        nonlocal closed
        if closed:
            return
        closed = True
        try:
            sink.close()  # drains the queue: every acknowledged exchange is stored
        finally:
            chain.close()
            vault.close()

    app = build_app(
        settings,
        sink=sink,
        vault=vault,
        detector=detector,
        tokenizer=Tokenizer(secret),
        on_shutdown=close,
    )
    return Composed(app, sink, close, notes)


def _keyring(settings: GatewaySettings, *, generate: bool) -> Any:
    from egressguard.gateway.vault_keys import load_keyring

    v = settings.vault
    return load_keyring(settings.state_dir, key_file=v.key_file, key_text=v.key, generate=generate)


def _token_secret(state_dir: Path) -> tuple[bytes, bool]:
    """The deployment secret tokens are keyed with (`state_dir/token.key`, made when missing)."""
    from egressguard.gateway.vault_keys import new_key, read_key_file, write_key_file

    path = state_dir / TOKEN_KEY_FILE
    created = False
    if not path.exists():
        created = write_key_file(path, [new_key()], replace=False)
    return read_key_file(path)[0], created


def _audit_digest_key(state_dir: Path) -> tuple[Any, bool]:
    """The key audit records' body digests are keyed with (`state_dir/audit.key`, the first
    key of the file; older keys after it are kept for auditors, never used to write)."""
    from egressguard.gateway.audit_events import DigestKey
    from egressguard.gateway.vault_keys import new_key, read_key_file, write_key_file

    path = state_dir / AUDIT_KEY_FILE
    created = False
    if not path.exists():
        created = write_key_file(path, [new_key()], replace=False)
    return DigestKey(read_key_file(path)[0]), created


def _dictionary_specs(settings: GatewaySettings) -> list[Any]:
    from egressguard.gateway.detect.model import DictionarySpec, PiiCategory

    return [
        DictionarySpec(path=d.path, category=PiiCategory(d.category), columns=d.columns)
        for d in settings.dictionaries
    ]


# --- audit-log ----------------------------------------------------------------------------------


def run_audit_verify(args: argparse.Namespace) -> int:
    from egressguard.cli.db_cmd import open_chain

    settings = load(args)
    chain = open_chain(settings, readonly=True)
    try:
        report = chain.verify()
    finally:
        chain.close()
    if report.ok:
        _err(f"egressguard: audit log ok: {report.count} record(s), head {report.head_hash[:16]}…")
        return EXIT_OK
    _err(f"egressguard: audit log BROKEN at record {report.first_bad_seq}: {report.reason}")
    return EXIT_BROKEN


def run_audit_export(args: argparse.Namespace) -> int:
    import socket

    from egressguard.cli.db_cmd import open_chain

    settings = load(args)
    host = socket.gethostname()
    source = open_chain(settings, readonly=True) if settings.database else settings.audit.path
    try:
        return _export(args, settings, source, host)
    finally:
        if not isinstance(source, Path):
            source.close()


def _export(args: argparse.Namespace, settings: GatewaySettings, source: Any, host: str) -> int:
    from egressguard.store.export import SyslogTarget
    from egressguard.store.ops import export_chain, send_chain_syslog

    if args.send:
        if args.format != "syslog" or not settings.audit.syslog:
            _err(
                "egressguard: error: --send needs --format syslog and [audit] syslog in the config"
            )
            return EXIT_ERROR
        scheme, _, rest = settings.audit.syslog.partition("://")
        target_host, _, port = rest.rpartition(":")
        target = SyslogTarget(target_host.strip("[]"), int(port), tls=scheme == "tls")
        count = send_chain_syslog(source, target, tenant=args.tenant, hostname=host)
        _err(f"egressguard: sent {count} record(s) to {settings.audit.syslog}")
        return EXIT_OK
    if args.output is None:
        out: BinaryIO = sys.stdout.buffer
        count = export_chain(source, args.format, out, tenant=args.tenant, hostname=host)
        out.flush()
    else:
        args.output.parent.mkdir(parents=True, exist_ok=True)
        with args.output.open("wb") as handle:
            count = export_chain(source, args.format, handle, tenant=args.tenant, hostname=host)
        _err(f"egressguard: wrote {count} record(s) to {args.output}")
    return EXIT_OK


# --- vault --------------------------------------------------------------------------------------


def run_vault_forget(args: argparse.Namespace) -> int:
    from egressguard.gateway.vault_ops import forget_subject

    settings = load(args)
    value = sys.stdin.readline().rstrip("\r\n") if args.value == "-" else args.value
    if not value:
        from egressguard.errors import GatewayConfigError

        raise GatewayConfigError("vault forget: the value to erase is empty")
    erased = forget_subject(
        settings.state_dir,
        args.tenant,
        value,
        keyring=_keyring(settings, generate=False),
        vault_path=settings.vault.path,
        open_vault=_vault_opener(settings),
    )
    _err(f"egressguard: erased {erased} token(s) of tenant {args.tenant}")
    return EXIT_OK


def run_vault_rotate(args: argparse.Namespace) -> int:
    from egressguard.gateway.vault_ops import rotate_vault_key

    settings = load(args)
    v = settings.vault
    report = rotate_vault_key(
        settings.state_dir,
        key_file=v.key_file,
        key_text=v.key,
        vault_path=v.path,
        retire_old_keys=args.retire_old_keys,
        open_vault=_vault_opener(settings),
    )
    where = report.key_file or f"${v.key_env} (put the new key first in it)"
    _err(
        f"egressguard: vault key rotated: new key {report.new_key_id} in {where}; "
        f"{report.reencrypted} entr{'y' if report.reencrypted == 1 else 'ies'} re-encrypted"
    )
    return EXIT_OK


def _vault_opener(settings: GatewaySettings) -> Callable[[Any], Any] | None:
    """How vault commands open the configured vault (None: the SQLite file)."""
    if settings.database is None:
        return None
    from egressguard.cli.db_cmd import open_vault

    return lambda keyring: open_vault(settings, keyring)
