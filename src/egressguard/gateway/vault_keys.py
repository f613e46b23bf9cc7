"""Vault keys: the ``Keyring`` and where its keys come from.

A key is 32 random bytes written as base64. A key source holds one or more keys, separated by
newlines or commas (``#`` starts a comment line): the first is the *current* key, used for every
new write; the others are older keys, kept only to read entries written before a rotation.

Sources, in order: the value of the configured environment variable (the caller reads the
environment and passes the text), the configured key file, or ``state_dir/vault.key``. When
none exists, a new key is generated into ``state_dir/vault.key`` with mode 0600 and
``Keyring.generated`` names the file, so the CLI can tell the user to back it up.

Key ids are derived from the key (a truncated SHA-256), so they need no storage of their own
and a wrong key shows up as an unknown key id rather than as garbage.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from egressguard.errors import VaultError

KEY_BYTES = 32
DEFAULT_KEY_FILE = "vault.key"
_HEADER = (
    "# EgressGuard vault keys (AES-256-GCM), base64. The first line is the current key;\n"
    "# later lines are older keys kept for reading. Back this file up: without it the vault\n"
    "# cannot be decrypted.\n"
)


def key_id(key: bytes) -> str:
    """A short public name for a key (64 bits of a domain-separated SHA-256)."""
    return hashlib.sha256(b"egressguard-vault-key-id/v1\x00" + key).hexdigest()[:16]


def new_key() -> bytes:
    return os.urandom(KEY_BYTES)


@dataclass(frozen=True, slots=True)
class Keyring:
    """The current key and older keys (read-only). ``generated``: a key file just created."""

    current: bytes = field(repr=False)
    older: tuple[bytes, ...] = field(default=(), repr=False)
    generated: Path | None = None

    def __post_init__(self) -> None:
        for key in (self.current, *self.older):
            if len(key) != KEY_BYTES:
                raise VaultError(f"a vault key must be {KEY_BYTES} bytes, not {len(key)}")
        if len({self.current, *self.older}) != 1 + len(self.older):
            raise VaultError("the vault keyring holds the same key twice")

    @property
    def current_id(self) -> str:
        return key_id(self.current)

    def keys(self) -> dict[str, bytes]:
        """Every key by id, the current one first."""
        return {key_id(key): key for key in (self.current, *self.older)}

    def with_new_current(self, key: bytes) -> Keyring:
        """The keyring after a rotation: ``key`` current, every old key kept for reading."""
        return Keyring(key, (self.current, *self.older))


def encode_keys(keys: Sequence[bytes]) -> str:
    return _HEADER + "".join(base64.b64encode(key).decode("ascii") + "\n" for key in keys)


def parse_keys(text: str, source: str) -> list[bytes]:
    """Keys from their text form; every error names the source and the key's position."""
    items = [
        item.strip()
        for line in text.splitlines()
        if not line.lstrip().startswith("#")
        for item in line.split(",")
        if item.strip()
    ]
    if not items:
        raise VaultError(f"{source}: no vault key found")
    keys = []
    for number, item in enumerate(items, start=1):
        try:
            key = base64.b64decode(item, validate=True)
        except binascii.Error as exc:
            raise VaultError(f"{source}: key {number} is not valid base64") from exc
        if len(key) != KEY_BYTES:
            raise VaultError(f"{source}: key {number} decodes to {len(key)} bytes, not 32")
        keys.append(key)
    return keys


def _keyring(keys: Sequence[bytes], generated: Path | None = None) -> Keyring:
    return Keyring(keys[0], tuple(keys[1:]), generated)


def read_key_file(path: Path) -> list[bytes]:
    try:
        text = path.read_text(encoding="ascii")
    except (OSError, UnicodeDecodeError) as exc:
        raise VaultError(f"cannot read the vault key file {path}: {exc}") from exc
    return parse_keys(text, str(path))


def write_key_file(path: Path, keys: Sequence[bytes], *, replace: bool = True) -> bool:
    """Write keys to ``path`` with mode 0600, atomically; ``False`` if it exists and not replace.

    The file is written under a temporary name and then linked (new) or renamed (replace) into
    place, so a reader never sees a half-written key and two processes generating a key at
    the same moment agree on one.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{os.urandom(4).hex()}.tmp")
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w", encoding="ascii") as handle:
            os.fchmod(handle.fileno(), 0o600)  # whatever the umask
            handle.write(encode_keys(keys))
            handle.flush()
            os.fsync(handle.fileno())
        if replace:
            os.replace(tmp, path)
            return True
        try:
            os.link(tmp, path)
        except FileExistsError:
            return False
        return True
    except OSError as exc:
        raise VaultError(f"cannot write the vault key file {path}: {exc}") from exc
    finally:
        tmp.unlink(missing_ok=True)


def load_keyring(
    state_dir: Path,
    *,
    key_file: Path | None = None,
    key_text: str | bytes | None = None,
    generate: bool = True,
) -> Keyring:
    """The keyring from ``key_text`` (an environment variable's value), ``key_file``, or
    ``state_dir/vault.key`` (generated when missing and ``generate``; see the module docstring).
    """
    if key_text is not None:
        text = key_text.decode("ascii", "replace") if isinstance(key_text, bytes) else key_text
        return _keyring(parse_keys(text, "the vault key environment variable"))
    if key_file is not None:
        return _keyring(read_key_file(key_file))
    default = state_dir / DEFAULT_KEY_FILE
    if default.exists() or not generate:
        return _keyring(read_key_file(default))
    created = write_key_file(default, [new_key()], replace=False)
    return _keyring(read_key_file(default), default if created else None)
