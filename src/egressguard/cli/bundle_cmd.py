"""`egressguard bundle keygen|create|verify`: the signed evidence bundle (issue 6).

Exit codes of `verify`: 0 intact (and signed by the trusted key when one is given),
1 tampered or signed by another key (each problem names its file), 2 cannot run.
"""

from __future__ import annotations

import argparse
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from egressguard import __version__
from egressguard.cli.outputs import EXIT_FINDINGS, EXIT_OK, err
from egressguard.errors import BundleError


def add_parsers(sub: Any) -> None:
    """Add `bundle` and its subcommands to the main parser's subparsers."""
    bundle = sub.add_parser("bundle", help="signed evidence bundles (create, verify, keygen)")
    verbs = bundle.add_subparsers(dest="bundle_command", required=True)
    keygen = verbs.add_parser("keygen", help="write a new Ed25519 signing key (0600) and .pub")
    keygen.add_argument("key", type=Path, metavar="KEYFILE")
    keygen.set_defaults(handler=_keygen)
    create = verbs.add_parser("create", help="zip files with a signed SHA-256 manifest")
    create.add_argument("paths", nargs="+", type=Path, metavar="PATH", help="files or folders")
    create.add_argument("--key", type=Path, required=True, help="Ed25519 private key (PEM)")
    create.add_argument("-o", "--output", type=Path, required=True, help="bundle to write")
    create.set_defaults(handler=_create)
    verify = verbs.add_parser("verify", help="check a bundle's signature and every file")
    verify.add_argument("bundle", type=Path, metavar="BUNDLE")
    verify.add_argument("--public-key", type=Path, help="the signer's public key you trust")
    verify.set_defaults(handler=_verify)


def _keygen(args: argparse.Namespace) -> int:
    from egressguard.evidence.signing import generate_key

    keys = generate_key(args.key)
    err(f"egressguard: wrote signing key {keys.private} (0600) and {keys.public}")
    print(keys.fingerprint)
    return EXIT_OK


def _create(args: argparse.Namespace) -> int:
    from egressguard.evidence.bundle import create_bundle
    from egressguard.evidence.signing import fingerprint, load_private_key

    key = load_private_key(args.key)
    members = _members(args.paths, exclude={args.key.resolve(), args.output.resolve()})
    created = datetime.now(UTC).replace(microsecond=0).isoformat()
    entries = create_bundle(members, args.output, key, created=created, tool_version=__version__)
    err(f"egressguard: wrote {args.output}: {len(entries)} file(s), signed by")
    print(fingerprint(key.public_key()))
    return EXIT_OK


def _members(paths: list[Path], exclude: set[Path]) -> list[Any]:
    from egressguard.evidence.bundle import Member

    members: list[Member] = []
    for path in paths:
        if path.is_dir():
            for file in sorted(p for p in path.rglob("*") if p.is_file() and not p.is_symlink()):
                if file.resolve() not in exclude and not file.name.endswith((".key", ".pem")):
                    rel = file.relative_to(path.parent).as_posix()
                    members.append(Member(rel, file))
        elif path.is_file():
            members.append(Member(path.name, path))
        else:
            raise BundleError(f"{path}: no such file or directory")
    return members


def _verify(args: argparse.Namespace) -> int:
    from egressguard.evidence.bundle import verify_bundle
    from egressguard.evidence.signing import load_public_key

    trusted = None
    if args.public_key is not None:
        try:
            data = args.public_key.read_bytes()
        except OSError as exc:
            raise BundleError(f"{args.public_key}: cannot read ({exc.strerror})") from exc
        trusted = load_public_key(data, str(args.public_key))
    verdict = verify_bundle(args.bundle, trusted)
    for problem in verdict.problems:
        print(f"FAIL {problem.member}: {problem.reason}")
    if not verdict.ok:
        err(f"egressguard: {args.bundle}: verification failed ({len(verdict.problems)} problem(s))")
        return EXIT_FINDINGS
    who = "the trusted key" if verdict.trusted else "an embedded key (pass --public-key to pin it)"
    print(f"OK {verdict.files_checked} file(s) intact, signed by {verdict.signer} = {who}")
    return EXIT_OK
