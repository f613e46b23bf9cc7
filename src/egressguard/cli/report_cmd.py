"""`egressguard report` (the compliance pack) and `egressguard vendors init` (issue 6).

    egressguard report audit.json [crawl.json …] --output-dir DIR [--vendors vendors.yaml]
        [--history FILE --target NAME] [--sign-key KEY]

writes ropa.csv, ropa.xlsx, dpia.md, dpia.html, control-matrix.csv, control-matrix.html,
summary.md, summary.html, incident.md/.html (only when a possible leak was found) and, with
--sign-key, evidence-bundle.zip holding all of them and the input reports.
`SOURCE_DATE_EPOCH` fixes the generation time (reproducible documents).
"""

from __future__ import annotations

import argparse
import os
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from egressguard import __version__
from egressguard.cli.outputs import EXIT_OK, err, read_reports

BUNDLE_NAME = "evidence-bundle.zip"


def add_parsers(sub: Any) -> None:
    report = sub.add_parser("report", help="ROPA, DPIA draft, control matrix, summary, bundle")
    report.add_argument("reports", nargs="+", type=Path, metavar="REPORT.json")
    report.add_argument("--output-dir", type=Path, required=True, help="folder for the documents")
    report.add_argument("--vendors", type=Path, help="vendor/DPA register (vendors.yaml)")
    report.add_argument(
        "--history", metavar="FILE|URL", help="scan history (SQLite file or postgresql:// URL)"
    )
    report.add_argument("--target", help="the history target whose trend to show")
    report.add_argument("--sign-key", type=Path, help="Ed25519 key: also write a signed bundle")
    report.set_defaults(handler=_report)
    vendors = sub.add_parser("vendors", help="the vendor/DPA register")
    verbs = vendors.add_subparsers(dest="vendors_command", required=True)
    init = verbs.add_parser("init", help="pre-fill vendors.yaml from the providers found")
    init.add_argument("reports", nargs="+", type=Path, metavar="REPORT.json")
    init.add_argument("-o", "--output", type=Path, required=True, help="vendors.yaml to write")
    init.set_defaults(handler=_vendors_init)


def generated_at() -> datetime:
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    now = datetime.fromtimestamp(int(epoch), UTC) if epoch else datetime.now(UTC)
    return now.replace(microsecond=0)


def _register(path: Path | None) -> Any:
    from egressguard.compliance.vendors import Register, parse_register
    from egressguard.errors import ConfigError

    if path is None:
        return Register()
    try:
        return parse_register(path.read_text(encoding="utf-8"), str(path))
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read: {exc}") from exc


def _report(args: argparse.Namespace) -> int:
    from egressguard.compliance.pack import build_pack
    from egressguard.report.merge import merge_results

    result = merge_results(read_reports(args.reports))
    pack = build_pack(result, _register(args.vendors), _scans(args), generated_at())
    out: Path = args.output_dir
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for name, data in pack.items():
        path = out / name
        path.write_bytes(data)
        written.append(path)
    err(f"egressguard: wrote {', '.join(p.name for p in written)} to {out}")
    if args.sign_key is not None:
        _bundle(args, written)
    return EXIT_OK


def _scans(args: argparse.Namespace) -> Any:
    """The target's recorded scans (oldest first) for the trend and charts; () without one."""
    if args.target is None:
        return ()
    from egressguard.cli.history_cmd import default_location
    from egressguard.store.history import open_history

    store = open_history(args.history or default_location())
    try:
        return tuple(store.scans(args.target))
    finally:
        store.close()


def _bundle(args: argparse.Namespace, documents: list[Path]) -> None:
    from egressguard.evidence.bundle import Member, create_bundle
    from egressguard.evidence.signing import fingerprint, load_private_key

    key = load_private_key(args.sign_key)
    members = [Member(f"documents/{p.name}", p) for p in documents]
    members += [Member(f"results/{n}-{p.name}", p) for n, p in enumerate(args.reports, 1)]
    out = args.output_dir / BUNDLE_NAME
    created = generated_at().isoformat()
    create_bundle(members, out, key, created=created, tool_version=__version__)
    err(f"egressguard: wrote {out}, signed by {fingerprint(key.public_key())}")


def _vendors_init(args: argparse.Namespace) -> int:
    from egressguard.compliance.vendors import register_template
    from egressguard.report.merge import merge_results

    result = merge_results(read_reports(args.reports))
    existing = _register(args.output) if args.output.is_file() else None
    args.output.write_text(register_template(result, existing), encoding="utf-8")
    err(f"egressguard: wrote {args.output}: complete the DPA and transfer fields")
    return EXIT_OK
