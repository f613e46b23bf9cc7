"""The command line as a user meets it: exit codes, one-line errors, bad input never crashes."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from egressguard.cli.main import run

# A synthetic OpenAI project key (right shape, random, never issued).
FAKE_KEY = (
    "sk-proj-"
    + "Q7vLw2Zk9TnB4xYc1RdF8mHs3JpG6aKe0UiO5tWq"
    + "T3BlbkFJ"
    + "Xr7Nz2Lm9Vb4Ck1Jh6Df3Sa8Pq5Wt0Ey"
)


def _audit_json(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, dict[str, object]]:
    code = run(["audit", *args, "--format", "json", "--no-progress"])
    out = capsys.readouterr().out
    return code, json.loads(out)


def _bad_tree(root: Path) -> None:
    web = root / "view/frontend/web/js"
    web.mkdir(parents=True)
    (web / "chat.js").write_text(
        "fetch('https://api.openai.com/v1/chat/completions', "
        f"{{headers: {{Authorization: 'Bearer {FAKE_KEY}'}}}});\n"
    )
    (root / "binary.dat").write_bytes(b"openai\x00\x01\x02" * 100)
    (root / "huge.js").write_text("// openai\n" + "x" * 6_000_000)
    (root / "latin1.php").write_bytes(
        b"<?php // Stra\xdfe openai\n$u = 'https://api.openai.com/v1/chat/completions';\n"
    )
    etc = root / "etc/adminhtml"
    etc.mkdir(parents=True)
    (etc / "system.xml").write_text("<config><section id='openai'><field id='api_key'")
    (root / "composer.json").write_text('{"require": {"openai-php/client": ')
    (root / "broken.php").write_text("<?php class { openai ((( 'https://api.openai.com/v1' ")
    (root / "loop").symlink_to(root)
    (root / "dangling.js").symlink_to(root / "nowhere.js")


def test_bad_input_never_crashes_and_every_unanalysed_file_is_listed(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _bad_tree(tmp_path)
    code, doc = _audit_json(capsys, str(tmp_path), "--fail-on", "none")
    assert code == 0
    skipped = {s["file"]: s["reason"] for s in doc["skipped"]}  # type: ignore[union-attr,index]
    assert skipped["binary.dat"] == "binary"
    assert skipped["huge.js"] == "too-large"
    assert skipped["latin1.php"] == "invalid-utf8"
    assert skipped["loop"] == "symlink-loop"
    assert skipped["dangling.js"] == "broken-symlink"
    assert skipped["etc/adminhtml/system.xml"] == "malformed"
    assert skipped["composer.json"] == "malformed"
    rules = {f["rule"] for f in doc["findings"]}  # type: ignore[union-attr,index]
    assert "ai-key-browser-exposed" in rules  # the good file was still analysed
    files = {f["file"] for f in doc["findings"]}  # type: ignore[union-attr,index]
    assert "latin1.php" in files  # analysed as Latin-1, and said so


def test_empty_tree_is_a_clean_scan(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, doc = _audit_json(capsys, str(tmp_path))
    assert code == 0
    assert doc["findings"] == [] and doc["skipped"] == []
    assert doc["stats"]["files_scanned"] == 0  # type: ignore[index]


def test_missing_path_is_a_one_line_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = run(["audit", str(tmp_path / "nope")])
    err = capsys.readouterr().err
    assert code == 2
    assert err.count("\n") == 1 and "no such file or directory" in err


@pytest.mark.parametrize(
    "argv",
    [
        [],
        ["audit"],
        ["audit", ".", "--format", "pdf"],
        ["audit", ".", "--output", "x.json"],
        ["audit", ".", "--fail-on", "severe"],
        ["frobnicate"],
    ],
)
def test_bad_command_line_is_a_one_line_error(
    argv: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith("egressguard: error:") and err.count("\n") == 1


def test_exit_code_follows_fail_on(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _bad_tree(tmp_path)
    assert run(["audit", str(tmp_path), "--format", "json", "--no-progress"]) == 1
    assert run(["audit", str(tmp_path), "--format", "json", "--fail-on", "none"]) == 0
    capsys.readouterr()


def test_several_formats_from_one_scan(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _bad_tree(tmp_path / "tree")
    out = tmp_path / "out"
    argv = ["audit", str(tmp_path / "tree"), "--fail-on", "none", "--no-progress"]
    for fmt, name in (
        ("json", "r.json"),
        ("sarif", "r.sarif"),
        ("html", "r.html"),
        ("markdown", "r.md"),
    ):
        argv += ["--format", fmt, "--output", str(out / name)]
    assert run(argv) == 0
    capsys.readouterr()
    for name in ("r.json", "r.sarif", "r.html", "r.md"):
        text = (out / name).read_text(encoding="utf-8")
        assert text
        assert FAKE_KEY not in text  # never leak what we protect
        assert FAKE_KEY[8:40] not in text


def test_baseline_accepts_known_findings(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _bad_tree(tmp_path / "tree")
    baseline = tmp_path / "baseline.json"
    assert run(["baseline", str(tmp_path / "tree"), "-o", str(baseline)]) == 0
    assert FAKE_KEY not in baseline.read_text()
    code, doc = _audit_json(capsys, str(tmp_path / "tree"), "--baseline", str(baseline))
    assert code == 0 and doc["findings"] == []
    assert doc["suppressed"]


def test_inline_suppression_needs_a_reason(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    web = tmp_path / "view/frontend/web/js"
    web.mkdir(parents=True)
    (web / "a.js").write_text(
        "// egressguard-ignore: ai-key-browser-exposed -- revoked key kept for a regression test\n"
        f"const k = '{FAKE_KEY}';\n"
    )
    (web / "b.js").write_text(
        f"const k = '{FAKE_KEY}'; // egressguard-ignore: ai-key-browser-exposed\n"
    )
    code = run(["audit", str(tmp_path), "--format", "json", "--no-progress", "--fail-on", "none"])
    captured = capsys.readouterr()
    doc = json.loads(captured.out)
    exposed = [f["file"] for f in doc["findings"] if f["rule"] == "ai-key-browser-exposed"]
    assert exposed == ["view/frontend/web/js/b.js"]
    assert "has no reason" in captured.err
    assert code == 0


def test_diff_scans_only_changed_files(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    web = tmp_path / "view/frontend/web/js"
    web.mkdir(parents=True)
    (web / "old.js").write_text(f"const k = '{FAKE_KEY}';\n")

    def git(*a: str) -> None:
        subprocess.run(["git", "-C", str(tmp_path), *a], check=True, capture_output=True)

    git("init", "-q")
    git("-c", "user.email=t@t", "-c", "user.name=t", "add", ".")
    git("-c", "user.email=t@t", "-c", "user.name=t", "commit", "-qm", "init")
    (web / "new.js").write_text("fetch('https://api.anthropic.com/v1/messages')\n")
    code, doc = _audit_json(capsys, str(tmp_path), "--diff", "HEAD", "--fail-on", "none")
    assert code == 0
    assert {f["file"] for f in doc["findings"]} == {"view/frontend/web/js/new.js"}  # type: ignore[union-attr,index]
    assert run(["audit", str(tmp_path), "--diff", "no-such-rev"]) == 2
    capsys.readouterr()


def test_python_dash_m_works(tmp_path: Path) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "egressguard", "audit", str(tmp_path), "--format", "json"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["schema_version"]
