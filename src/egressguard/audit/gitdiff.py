"""`--diff REV`: the files changed since a git revision (tracked changes and new files)."""

from __future__ import annotations

import subprocess
from pathlib import Path

from egressguard.errors import GitError


def changed_files(root: Path, rev: str) -> frozenset[str]:
    """Paths relative to `root` (POSIX) changed since `rev`, plus untracked, non-ignored files."""
    if rev.startswith("-"):
        raise GitError(f"--diff: {rev!r} is not a revision")
    changed = _git(root, "diff", "--name-only", "-z", "--relative", rev, "--")
    untracked = _git(root, "ls-files", "--others", "--exclude-standard", "-z")
    names = {n for n in (changed + "\0" + untracked).split("\0") if n}
    return frozenset(names)


def _git(root: Path, *args: str) -> str:
    try:
        proc = subprocess.run(
            ["git", "-C", str(root), *args],
            capture_output=True,
            text=True,
            check=False,
            timeout=120,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise GitError(f"--diff: cannot run git: {exc}") from exc
    if proc.returncode != 0:
        message = proc.stderr.strip().splitlines()[-1] if proc.stderr.strip() else "git failed"
        raise GitError(f"--diff: git {args[0]}: {message}")
    return proc.stdout
