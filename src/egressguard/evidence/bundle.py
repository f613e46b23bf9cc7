"""The signed evidence bundle: one zip of reports, raw results and evidence files.

Layout of the archive:

    manifest.json      canonical JSON: format, creation time, tool, signer fingerprint and,
                       for every other member, its path, size and SHA-256
    manifest.sig       Ed25519 signature over the exact bytes of manifest.json
    signing-key.pub    the signer's public key (PEM); the private key never enters a bundle
    <members>          the files, under the paths the manifest names

Verification never extracts anything. It reports every problem it finds, each naming the
member it concerns: a changed, missing or added file, a duplicate name, a manifest or
signature that does not match, a signer other than the trusted key.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
import zipfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import IO, Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)

from egressguard.errors import BundleError
from egressguard.evidence.signing import (
    fingerprint,
    load_public_key,
    public_pem,
    signature_valid,
)

FORMAT = "egressguard-evidence-bundle/1"
MANIFEST = "manifest.json"
SIGNATURE = "manifest.sig"
PUBLIC_KEY = "signing-key.pub"
RESERVED = frozenset({MANIFEST, SIGNATURE, PUBLIC_KEY})
MAX_MANIFEST_BYTES = 16 * 1024 * 1024
_FIXED_TIME = (1980, 1, 1, 0, 0, 0)  # members carry no wall-clock time: same input, same zip
_CHUNK = 1 << 20


@dataclass(frozen=True, slots=True)
class Member:
    """One file to put in the bundle under `name` (a relative POSIX path)."""

    name: str
    source: Path


@dataclass(frozen=True, slots=True)
class ManifestEntry:
    path: str
    size: int
    sha256: str


@dataclass(frozen=True, slots=True)
class Problem:
    member: str
    reason: str


@dataclass(frozen=True, slots=True)
class Verdict:
    """What `verify_bundle` found. `ok` only when nothing is wrong and the signer is trusted
    or no trusted key was given (then `trusted` is False: integrity, not authorship)."""

    signer: str
    trusted: bool
    files_checked: int
    problems: tuple[Problem, ...]

    @property
    def ok(self) -> bool:
        return not self.problems


def create_bundle(
    members: Sequence[Member],
    out: Path,
    key: Ed25519PrivateKey,
    *,
    created: str,
    tool_version: str,
) -> tuple[ManifestEntry, ...]:
    """Write the signed bundle to `out` atomically; return the manifest entries."""
    _check_names([m.name for m in members])
    entries = tuple(_entry(m) for m in sorted(members, key=lambda m: m.name))
    manifest = manifest_bytes(entries, created, tool_version, fingerprint(key.public_key()))
    out.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".bundle-", dir=out.parent)
    try:
        with os.fdopen(fd, "wb") as raw, zipfile.ZipFile(raw, "w", zipfile.ZIP_DEFLATED) as zf:
            _write_bytes(zf, MANIFEST, manifest)
            _write_bytes(zf, SIGNATURE, key.sign(manifest))
            _write_bytes(zf, PUBLIC_KEY, public_pem(key.public_key()))
            by_name = {m.name: m for m in members}
            for entry in entries:
                _write_file(zf, entry, by_name[entry.path].source)
        os.replace(tmp, out)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return entries


def manifest_bytes(
    entries: Iterable[ManifestEntry], created: str, tool_version: str, signer: str
) -> bytes:
    doc = {
        "format": FORMAT,
        "created": created,
        "tool": {"name": "egressguard", "version": tool_version},
        "signer": signer,
        "files": [{"path": e.path, "size": e.size, "sha256": e.sha256} for e in entries],
    }
    return json.dumps(doc, sort_keys=True, separators=(",", ":"), ensure_ascii=True).encode()


def verify_bundle(path: Path, trusted: Ed25519PublicKey | None = None) -> Verdict:
    """Check the signature, every listed file and that nothing was added or removed."""
    try:
        zf = zipfile.ZipFile(path)
    except FileNotFoundError as exc:
        raise BundleError(f"{path}: no such file") from exc
    except (zipfile.BadZipFile, OSError) as exc:
        return Verdict("", False, 0, (Problem(path.name, f"not a readable zip archive ({exc})"),))
    with zf:
        return _verify_open(zf, trusted)


def _verify_open(zf: zipfile.ZipFile, trusted: Ed25519PublicKey | None) -> Verdict:
    problems: list[Problem] = []
    names = [info.filename for info in zf.infolist()]
    seen: set[str] = set()
    for name in names:
        if name in seen:
            problems.append(Problem(name, "appears more than once in the archive"))
        seen.add(name)
    problems.extend(
        Problem(required, "missing from the archive")
        for required in (MANIFEST, SIGNATURE, PUBLIC_KEY)
        if required not in seen
    )
    if problems:
        return Verdict("", False, 0, tuple(problems))
    manifest = _read_small(zf, MANIFEST)
    embedded = load_public_key(_read_small(zf, PUBLIC_KEY), PUBLIC_KEY)
    key = trusted or embedded
    signer = fingerprint(embedded)
    if trusted is not None and fingerprint(trusted) != signer:
        problems.append(Problem(PUBLIC_KEY, f"signed by {signer}, not by the trusted key"))
    if not signature_valid(key, _read_small(zf, SIGNATURE), manifest):
        problems.append(
            Problem(MANIFEST, "signature does not match (manifest altered or another signer)")
        )
    entries = _parse_manifest(manifest, problems)
    listed = {e.path for e in entries}
    for entry in entries:
        if entry.path not in seen:
            problems.append(Problem(entry.path, "listed in the manifest but missing"))
        else:
            reason = _check_member(zf, entry)
            if reason:
                problems.append(Problem(entry.path, reason))
    problems.extend(
        Problem(name, "not in the manifest (added after signing)")
        for name in sorted(seen - listed - RESERVED)
    )
    return Verdict(signer, trusted is not None, len(entries), tuple(problems))


def _parse_manifest(data: bytes, problems: list[Problem]) -> list[ManifestEntry]:
    try:
        doc: Any = json.loads(data)
        if doc.get("format") != FORMAT:
            problems.append(Problem(MANIFEST, f"unknown format {doc.get('format')!r}"))
            return []
        return [
            ManifestEntry(str(f["path"]), int(f["size"]), str(f["sha256"])) for f in doc["files"]
        ]
    except (ValueError, TypeError, KeyError, AttributeError):
        problems.append(Problem(MANIFEST, "not a valid manifest"))
        return []


def _check_member(zf: zipfile.ZipFile, entry: ManifestEntry) -> str:
    digest = hashlib.sha256()
    size = 0
    try:
        with zf.open(entry.path) as fh:
            while chunk := fh.read(_CHUNK):
                size += len(chunk)
                if size > entry.size:
                    return f"larger than the {entry.size} bytes the manifest lists"
                digest.update(chunk)
    except (zipfile.BadZipFile, OSError, EOFError) as exc:
        return f"cannot be read ({exc})"
    if size != entry.size:
        return f"{size} bytes, the manifest lists {entry.size}"
    if digest.hexdigest() != entry.sha256:
        return "content changed (SHA-256 differs from the manifest)"
    return ""


def _read_small(zf: zipfile.ZipFile, name: str) -> bytes:
    with zf.open(name) as fh:
        data = fh.read(MAX_MANIFEST_BYTES + 1)
    if len(data) > MAX_MANIFEST_BYTES:
        raise BundleError(f"{name}: larger than {MAX_MANIFEST_BYTES} bytes")
    return data


def _entry(member: Member) -> ManifestEntry:
    digest = hashlib.sha256()
    size = 0
    try:
        with member.source.open("rb") as fh:
            while chunk := fh.read(_CHUNK):
                size += len(chunk)
                digest.update(chunk)
    except OSError as exc:
        raise BundleError(f"{member.source}: cannot read ({exc.strerror})") from exc
    return ManifestEntry(member.name, size, digest.hexdigest())


def _check_names(names: Sequence[str]) -> None:
    seen: set[str] = set()
    for name in names:
        pure = PurePosixPath(name)
        if (
            not name
            or "\\" in name
            or pure.is_absolute()
            or ".." in pure.parts
            or str(pure) != name
        ):
            raise BundleError(f"{name!r}: a member name must be a plain relative path")
        if name in RESERVED:
            raise BundleError(f"{name!r}: reserved for the bundle's own files")
        if name in seen:
            raise BundleError(f"{name!r}: given twice")
        seen.add(name)


def _write_bytes(zf: zipfile.ZipFile, name: str, data: bytes) -> None:
    info = zipfile.ZipInfo(name, date_time=_FIXED_TIME)
    info.compress_type = zipfile.ZIP_DEFLATED
    zf.writestr(info, data)


def _write_file(zf: zipfile.ZipFile, entry: ManifestEntry, source: Path) -> None:
    info = zipfile.ZipInfo(entry.path, date_time=_FIXED_TIME)
    info.compress_type = zipfile.ZIP_DEFLATED
    digest = hashlib.sha256()
    with source.open("rb") as src, zf.open(info, "w", force_zip64=True) as dst:
        _copy(src, dst, digest)
    if digest.hexdigest() != entry.sha256:
        raise BundleError(f"{source}: changed while the bundle was written")


def _copy(src: IO[bytes], dst: IO[bytes], digest: Any) -> None:
    while chunk := src.read(_CHUNK):
        digest.update(chunk)
        dst.write(chunk)
