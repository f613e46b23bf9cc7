"""Walking scan roots: ignores, size and binary limits, symlink policy.

`walk()` yields `FileRef` values for files to read and `SkippedTarget` values for everything
it will not analyse, each with a reason, so no input is silently lost:

- directories excluded by the settings (one entry per directory, not per file);
- known binary formats by extension (images, fonts, archives …) and files with a NUL byte;
- files over the size cap; unreadable files and directories;
- broken symbolic links and symlink loops (directory links are followed once per inode).
"""

from __future__ import annotations

import errno
import os
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from fnmatch import translate
from pathlib import Path

from egressguard.model import SkippedTarget

# Formats that never hold source code or configuration we can read as text.
BINARY_SUFFIXES = frozenset(
    [
        ".png",
        ".jpg",
        ".jpeg",
        ".gif",
        ".webp",
        ".avif",
        ".ico",
        ".bmp",
        ".tif",
        ".tiff",
        ".psd",
        ".svgz",
        ".woff",
        ".woff2",
        ".ttf",
        ".otf",
        ".eot",
        ".mp3",
        ".mp4",
        ".webm",
        ".ogg",
        ".wav",
        ".mov",
        ".avi",
        ".zip",
        ".gz",
        ".tgz",
        ".bz2",
        ".xz",
        ".7z",
        ".rar",
        ".jar",
        ".phar",
        ".tar",
        ".pdf",
        ".doc",
        ".docx",
        ".xls",
        ".xlsx",
        ".ppt",
        ".pptx",
        ".so",
        ".dll",
        ".dylib",
        ".exe",
        ".bin",
        ".o",
        ".a",
        ".class",
        ".pyc",
        ".wasm",
        ".sqlite",
        ".db",
        ".mo",
    ]
)


@dataclass(frozen=True, slots=True)
class FileRef:
    path: str  # absolute path as the OS sees it
    rel: str  # POSIX path relative to the report base


@dataclass(frozen=True, slots=True)
class WalkPolicy:
    exclude: re.Pattern[str] | None  # matched against the POSIX path relative to the root
    max_file_size: int


def compile_globs(globs: Sequence[str]) -> re.Pattern[str] | None:
    """One regex for a list of gitignore-like globs (`vendor/**`, `**/*.min.js`, `node_modules`).

    A bare name (no slash) matches that name at any depth, like .gitignore does.
    """
    parts: list[str] = []
    for glob in globs:
        g = glob.strip().strip("/")
        if not g:
            continue
        if "/" not in g:
            g = "**/" + g
        rx = translate(g).replace(r"(?s:", "(?:")
        # `**/x` should also match `x` at the top level.
        if g.startswith("**/"):
            rx = "(?:" + rx + "|" + translate(g[3:]).replace(r"(?s:", "(?:") + ")"
        parts.append(rx)
    if not parts:
        return None
    return re.compile("|".join(parts), re.DOTALL)


def walk(root: Path, base: Path, policy: WalkPolicy) -> Iterator[FileRef | SkippedTarget]:
    """Every file under `root` (or `root` itself if it is a file), depth-first, in directory
    order (results are sorted where they are reported)."""
    root_rel = _rel(str(root), base)
    if root.is_file():
        yield from _file_entry(str(root), root_rel, policy)
        return
    links = _Links(os.path.realpath(root))
    stack = [(str(root), "" if root_rel == "." else root_rel + "/", links.root)]
    while stack:
        directory, prefix, real = stack.pop()
        yield from _scan_dir(directory, prefix, real, policy, links, stack)


def _rel(path: str, base: Path) -> str:
    """POSIX path of `path` relative to `base` (called once per root, not per file)."""
    return Path(os.path.relpath(path, base)).as_posix()


@dataclass
class _Links:
    """Symlinked directories: a link into the tree is not followed (its target is scanned
    already or is an ancestor: a loop); a link out of the tree is followed once."""

    root: str
    followed: set[str] = field(default_factory=set)

    def check(self, link: str, here_real: str) -> str | None:
        """None to follow the link, else the skip reason."""
        target = os.path.realpath(link)
        if _inside(here_real, target):
            return "symlink-loop"
        if _inside(target, self.root) or target in self.followed:
            return "symlink-duplicate"
        self.followed.add(target)
        return None


def _inside(path: str, ancestor: str) -> bool:
    return path == ancestor or path.startswith(ancestor.rstrip("/") + "/")


def _scan_dir(
    directory: str,
    prefix: str,
    real: str,
    policy: WalkPolicy,
    links: _Links,
    stack: list[tuple[str, str, str]],
) -> Iterator[FileRef | SkippedTarget]:
    """One directory; `prefix` is its POSIX path relative to the base, with a trailing slash,
    `real` its resolved path."""
    try:
        with os.scandir(directory) as it:
            entries = sorted(it, key=lambda e: e.name)
    except OSError as exc:
        yield SkippedTarget(prefix.rstrip("/") or ".", "unreadable", _os_reason(exc))
        return
    subdirs: list[tuple[str, str, str]] = []
    for entry in entries:
        rel = prefix + entry.name
        yield from _entry(entry, rel, real, policy, links, subdirs)
    stack.extend(reversed(subdirs))


def _entry(
    entry: os.DirEntry[str],
    rel: str,
    real: str,
    policy: WalkPolicy,
    links: _Links,
    subdirs: list[tuple[str, str, str]],
) -> Iterator[FileRef | SkippedTarget]:
    try:
        is_dir = entry.is_dir()
        is_file = not is_dir and entry.is_file()
    except OSError as exc:
        yield SkippedTarget(rel, "unreadable", _os_reason(exc))
        return
    if policy.exclude is not None and policy.exclude.fullmatch(rel):
        yield SkippedTarget(rel + ("/" if is_dir else ""), "excluded", "matches an exclude pattern")
        return
    if is_dir and entry.is_symlink():
        reason = links.check(entry.path, real)
        if reason is not None:
            yield SkippedTarget(rel, reason, "symbolic link to a directory scanned elsewhere")
            return
        subdirs.append((entry.path, rel + "/", os.path.realpath(entry.path)))
    elif is_dir:
        subdirs.append((entry.path, rel + "/", real + "/" + entry.name))
    elif is_file:
        yield from _file_entry(entry.path, rel, policy)
    elif entry.is_symlink():
        yield SkippedTarget(rel, "broken-symlink", "link target does not exist or loops")
    else:
        yield SkippedTarget(rel, "not-a-regular-file", "device, socket or pipe")


def _file_entry(path: str, rel: str, policy: WalkPolicy) -> Iterator[FileRef | SkippedTarget]:
    suffix = os.path.splitext(rel)[1].lower()
    if suffix in BINARY_SUFFIXES:
        yield SkippedTarget(rel, "binary", f"{suffix} files hold no source text")
        return
    yield FileRef(path, rel)


def read(ref: FileRef, max_size: int) -> bytes | SkippedTarget:
    """The file's bytes, or why it cannot be analysed (unreadable, too large, binary)."""
    try:
        fd = os.open(ref.path, os.O_RDONLY)
        try:
            size = os.fstat(fd).st_size
            if size > max_size:
                detail = f"{size} bytes, over the {max_size}-byte cap (--max-file-size)"
                return SkippedTarget(ref.rel, "too-large", detail)
            data = _read_all(fd, size, max_size + 1)
        finally:
            os.close(fd)
    except OSError as exc:
        return SkippedTarget(ref.rel, "unreadable", _os_reason(exc))
    if len(data) > max_size:
        return SkippedTarget(
            ref.rel, "too-large", f"over the {max_size}-byte cap (--max-file-size)"
        )
    if b"\x00" in data[:8192]:
        return SkippedTarget(ref.rel, "binary", "NUL byte in the first 8 KiB")
    return data


def _read_all(fd: int, size: int, limit: int) -> bytes:
    """Up to `limit` bytes. A regular file of `size` bytes comes back in one read (no second
    read to see EOF); a short read (a file still being written, a pipe) keeps reading."""
    first = os.read(fd, limit)
    if not first or len(first) >= limit or len(first) == size:
        return first
    chunks = [first]
    total = len(first)
    while total < limit:
        chunk = os.read(fd, limit - total)
        if not chunk:
            break
        chunks.append(chunk)
        total += len(chunk)
    return b"".join(chunks)


def _os_reason(exc: OSError) -> str:
    name = errno.errorcode.get(exc.errno or 0, "error")
    return f"{name}: {exc.strerror or exc}"
