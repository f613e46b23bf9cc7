"""The signed evidence bundle: a round trip verifies; every kind of tampering is caught and
named by file; the private key never enters the bundle."""

from __future__ import annotations

import json
import stat
import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from egressguard.cli.main import run
from egressguard.errors import BundleError
from egressguard.evidence.bundle import (
    MANIFEST,
    PUBLIC_KEY,
    SIGNATURE,
    Member,
    create_bundle,
    verify_bundle,
)
from egressguard.evidence.signing import generate_key, load_private_key, load_public_key

FILES = {
    "reports/report.json": b'{"findings": []}\n',
    "reports/report.html": b"<!doctype html><title>r</title>\n",
    "evidence/crawl.har": b'{"log": {"entries": []}}\n' * 50,
}


@pytest.fixture
def key_path(tmp_path: Path) -> Path:
    return generate_key(tmp_path / "keys" / "signing.key").private


@pytest.fixture
def bundle(tmp_path: Path, key_path: Path) -> Path:
    src = tmp_path / "src"
    members = []
    for name, data in FILES.items():
        path = src / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        members.append(Member(name, path))
    out = tmp_path / "evidence-bundle.zip"
    create_bundle(
        members,
        out,
        load_private_key(key_path),
        created="2026-11-25T00:00:00+00:00",
        tool_version="test",
    )
    return out


def _rewrite(src: Path, dst: Path, change: Callable[[list[tuple[str, bytes]]], None]) -> Path:
    with zipfile.ZipFile(src) as zf:
        members = [(i.filename, zf.read(i.filename)) for i in zf.infolist()]
    change(members)
    with zipfile.ZipFile(dst, "w") as zf:
        for name, data in members:
            zf.writestr(name, data)
    return dst


def _problems(path: Path, trusted: Path | None = None) -> dict[str, str]:
    key = load_public_key(trusted.read_bytes(), "t") if trusted else None
    return {p.member: p.reason for p in verify_bundle(path, key).problems}


def test_round_trip_is_intact_and_trusted(bundle: Path, key_path: Path) -> None:
    pub = load_public_key(key_path.with_name("signing.key.pub").read_bytes(), "pub")
    verdict = verify_bundle(bundle, pub)
    assert verdict.ok and verdict.trusted and verdict.files_checked == len(FILES)


def test_manifest_lists_every_file_with_its_sha256(bundle: Path) -> None:
    import hashlib

    with zipfile.ZipFile(bundle) as zf:
        manifest = json.loads(zf.read(MANIFEST))
        names = set(zf.namelist())
    listed = {f["path"]: f["sha256"] for f in manifest["files"]}
    assert listed == {n: hashlib.sha256(d).hexdigest() for n, d in FILES.items()}
    assert names == set(FILES) | {MANIFEST, SIGNATURE, PUBLIC_KEY}


def test_private_key_never_enters_the_bundle(bundle: Path, key_path: Path) -> None:
    secret = load_private_key(key_path).private_bytes_raw()
    raw = bundle.read_bytes()
    with zipfile.ZipFile(bundle) as zf:
        contents = b"".join(zf.read(n) for n in zf.namelist())
    assert secret not in raw and secret not in contents
    assert b"PRIVATE KEY" not in contents


def test_signing_key_is_private_to_its_owner(key_path: Path) -> None:
    assert stat.S_IMODE(key_path.stat().st_mode) == 0o600


def test_keygen_refuses_to_overwrite(key_path: Path) -> None:
    with pytest.raises(BundleError, match="already exists"):
        generate_key(key_path)


def test_changed_file_is_named(bundle: Path, tmp_path: Path) -> None:
    def change(m: list[tuple[str, bytes]]) -> None:
        i = next(i for i, (n, _) in enumerate(m) if n == "reports/report.json")
        m[i] = (m[i][0], b'{"findings": [1]}\n')

    bad = _rewrite(bundle, tmp_path / "bad.zip", change)
    problems = _problems(bad)
    assert list(problems) == ["reports/report.json"]
    assert (
        "differs" in problems["reports/report.json"] or "bytes" in problems["reports/report.json"]
    )


def test_removed_and_added_files_are_named(bundle: Path, tmp_path: Path) -> None:
    def change(m: list[tuple[str, bytes]]) -> None:
        m[:] = [x for x in m if x[0] != "evidence/crawl.har"]
        m.append(("evidence/extra.txt", b"planted"))

    problems = _problems(_rewrite(bundle, tmp_path / "bad.zip", change))
    assert problems == {
        "evidence/crawl.har": "listed in the manifest but missing",
        "evidence/extra.txt": "not in the manifest (added after signing)",
    }


def test_duplicate_member_name_is_refused(bundle: Path, tmp_path: Path) -> None:
    def change(m: list[tuple[str, bytes]]) -> None:
        m.append(("reports/report.json", b"shadow copy"))

    with pytest.warns(UserWarning):  # zipfile warns about the duplicate name it writes
        bad = _rewrite(bundle, tmp_path / "bad.zip", change)
    assert "more than once" in _problems(bad)["reports/report.json"]


def test_altered_manifest_breaks_the_signature(bundle: Path, tmp_path: Path) -> None:
    def change(m: list[tuple[str, bytes]]) -> None:
        i = next(i for i, (n, _) in enumerate(m) if n == MANIFEST)
        doc = json.loads(m[i][1])
        doc["created"] = "2020-01-01T00:00:00+00:00"
        m[i] = (MANIFEST, json.dumps(doc, sort_keys=True, separators=(",", ":")).encode())

    problems = _problems(_rewrite(bundle, tmp_path / "bad.zip", change))
    assert list(problems) == [MANIFEST] and "signature" in problems[MANIFEST]


def test_resigned_by_another_key_is_caught_with_the_trusted_key(
    bundle: Path, tmp_path: Path, key_path: Path
) -> None:
    other = generate_key(tmp_path / "other.key").private
    with zipfile.ZipFile(bundle) as zf:
        members = [
            Member(n, _dump(tmp_path / "x" / n, zf.read(n)))
            for n in zf.namelist()
            if n not in (MANIFEST, SIGNATURE, PUBLIC_KEY)
        ]
    forged = tmp_path / "forged.zip"
    create_bundle(members, forged, load_private_key(other), created="x", tool_version="t")
    assert verify_bundle(forged).ok  # self-consistent: integrity alone proves no authorship
    problems = _problems(forged, key_path.with_name("signing.key.pub"))
    assert PUBLIC_KEY in problems and "not by the trusted key" in problems[PUBLIC_KEY]


def test_not_a_zip_is_a_failed_verification(tmp_path: Path) -> None:
    junk = tmp_path / "junk.zip"
    junk.write_bytes(b"\x00\x01 not a zip" * 10)
    verdict = verify_bundle(junk)
    assert not verdict.ok and "not a readable zip" in verdict.problems[0].reason


def test_truncated_bundle_fails(bundle: Path, tmp_path: Path) -> None:
    cut = tmp_path / "cut.zip"
    cut.write_bytes(bundle.read_bytes()[:-200])
    assert not verify_bundle(cut).ok


@pytest.mark.parametrize("name", ["../escape", "/abs", "a/../b", "a\\b", "", MANIFEST])
def test_unsafe_member_names_are_refused(tmp_path: Path, key_path: Path, name: str) -> None:
    f = tmp_path / "f"
    f.write_bytes(b"x")
    with pytest.raises(BundleError):
        create_bundle(
            [Member(name, f)],
            tmp_path / "b.zip",
            load_private_key(key_path),
            created="x",
            tool_version="t",
        )


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(st.sampled_from(sorted(FILES)), st.integers(min_value=0), st.integers(1, 255))
def test_any_flipped_byte_is_detected(
    bundle: Path, tmp_path: Path, name: str, pos: int, xor: int
) -> None:
    def change(m: list[tuple[str, bytes]]) -> None:
        i = next(i for i, (n, _) in enumerate(m) if n == name)
        data = bytearray(m[i][1])
        data[pos % len(data)] ^= xor
        m[i] = (name, bytes(data))

    assert list(_problems(_rewrite(bundle, tmp_path / "flip.zip", change))) == [name]


def test_cli_keygen_create_verify_and_tamper(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    key = tmp_path / "k" / "bundle.key"
    assert run(["bundle", "keygen", str(key)]) == 0
    fp = capsys.readouterr().out.strip()
    reports = tmp_path / "demo-output"
    reports.mkdir()
    (reports / "report.json").write_text("{}\n")
    (reports / "ropa.csv").write_text("a,b\n")
    out = tmp_path / "evidence-bundle.zip"
    assert run(["bundle", "create", str(reports), "--key", str(key), "-o", str(out)]) == 0
    assert capsys.readouterr().out.strip() == fp
    pub = str(key) + ".pub"
    assert run(["bundle", "verify", str(out), "--public-key", pub]) == 0
    assert "OK 2 file(s) intact" in capsys.readouterr().out

    def change(m: list[tuple[str, bytes]]) -> None:
        i = next(i for i, (n, _) in enumerate(m) if n == "demo-output/ropa.csv")
        m[i] = (m[i][0], b"a,c\n")

    bad = _rewrite(out, tmp_path / "bad.zip", change)
    assert run(["bundle", "verify", str(bad), "--public-key", pub]) == 1
    assert "FAIL demo-output/ropa.csv: content changed" in capsys.readouterr().out
    assert run(["bundle", "verify", str(tmp_path / "missing.zip")]) == 2


def _dump(path: Path, data: bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path
