"""The walker: every file is either yielded for reading or listed as skipped, with a reason."""

from __future__ import annotations

import os
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from egressguard.audit import sources
from egressguard.model import SkippedTarget


def _policy(exclude: tuple[str, ...] = (), cap: int = 1000) -> sources.WalkPolicy:
    return sources.WalkPolicy(sources.compile_globs(exclude), cap)


def _walk(root: Path, **kw: object) -> tuple[list[str], dict[str, str]]:
    files: list[str] = []
    skipped: dict[str, str] = {}
    for item in sources.walk(root, root, _policy(**kw)):  # type: ignore[arg-type]
        if isinstance(item, SkippedTarget):
            skipped[item.file] = item.reason
        else:
            files.append(item.rel)
    return files, skipped


def test_walk_lists_every_file_or_its_skip_reason(tmp_path: Path) -> None:
    (tmp_path / "a.php").write_text("<?php")
    (tmp_path / "logo.png").write_bytes(b"\x89PNG")
    (tmp_path / "big.js").write_text("x" * 2000)
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "b.js").write_text("1")
    (tmp_path / "dangling").symlink_to(tmp_path / "missing")
    files, skipped = _walk(tmp_path)
    assert files == ["a.php", "big.js", "sub/b.js"]  # size is checked when the file is read
    assert skipped == {"logo.png": "binary", "dangling": "broken-symlink"}
    big = sources.read(sources.FileRef(str(tmp_path / "big.js"), "big.js"), 1000)
    assert isinstance(big, SkippedTarget) and big.reason == "too-large"


def test_symlink_loop_is_reported_not_followed_forever(tmp_path: Path) -> None:
    (tmp_path / "d").mkdir()
    (tmp_path / "d" / "f.php").write_text("<?php")
    (tmp_path / "d" / "loop").symlink_to(tmp_path / "d")
    files, skipped = _walk(tmp_path)
    assert files == ["d/f.php"]
    assert skipped == {"d/loop": "symlink-loop"}


def test_symlink_into_the_tree_is_not_scanned_twice(tmp_path: Path) -> None:
    (tmp_path / "packages" / "mod").mkdir(parents=True)
    (tmp_path / "packages" / "mod" / "m.php").write_text("<?php")
    (tmp_path / "vendor").mkdir()
    (tmp_path / "vendor" / "mod").symlink_to(tmp_path / "packages" / "mod")
    files, skipped = _walk(tmp_path)
    assert files == ["packages/mod/m.php"]
    assert skipped == {"vendor/mod": "symlink-duplicate"}


def test_excluded_directory_is_one_skipped_entry(tmp_path: Path) -> None:
    (tmp_path / "node_modules" / "x").mkdir(parents=True)
    (tmp_path / "node_modules" / "x" / "i.js").write_text("1")
    (tmp_path / "app.min.js").write_text("1")
    files, skipped = _walk(tmp_path, exclude=("node_modules", "**/*.min.js"))
    assert files == []
    assert skipped == {"node_modules/": "excluded", "app.min.js": "excluded"}


def test_read_reports_nul_bytes_and_vanished_files(tmp_path: Path) -> None:
    p = tmp_path / "weird.txt"
    p.write_bytes(b"abc\x00def")
    ref = sources.FileRef(str(p), "weird.txt")
    got = sources.read(ref, 100)
    assert isinstance(got, SkippedTarget) and got.reason == "binary"
    os.unlink(p)
    got = sources.read(ref, 100)
    assert isinstance(got, SkippedTarget) and got.reason == "unreadable"
    assert "ENOENT" in got.detail


def test_file_that_grew_past_the_cap_is_skipped(tmp_path: Path) -> None:
    p = tmp_path / "grow.php"
    p.write_text("x" * 50)
    got = sources.read(sources.FileRef(str(p), "grow.php"), 20)
    assert isinstance(got, SkippedTarget) and got.reason == "too-large"


@given(st.lists(st.sampled_from(["vendor/**", "*.min.js", "node_modules", "a/b", "**/x.php", ""])))
def test_compile_globs_always_compiles(globs: list[str]) -> None:
    rx = sources.compile_globs(globs)
    if rx is not None:
        rx.fullmatch("vendor/acme/x.php")


def test_glob_semantics() -> None:
    rx = sources.compile_globs(["vendor/**", "node_modules", "**/*.min.js"])
    assert rx is not None
    assert rx.fullmatch("vendor/a/b.php")
    assert rx.fullmatch("node_modules")
    assert rx.fullmatch("deep/node_modules")
    assert rx.fullmatch("x.min.js") and rx.fullmatch("a/b/x.min.js")
    assert not rx.fullmatch("app/code/vendor.php")
