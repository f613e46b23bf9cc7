"""Vault operations the CLI calls (``egressguard vault forget``, ``vault rotate-key``).

They return values and raise ``VaultError``; they never print.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from egressguard.gateway.vault import SqliteVault, Vault
from egressguard.gateway.vault_keys import (
    DEFAULT_KEY_FILE,
    Keyring,
    load_keyring,
    new_key,
    read_key_file,
    write_key_file,
)

DEFAULT_VAULT_FILE = "vault.sqlite3"

OpenVault = Callable[[Keyring], Vault]  # another backend (PostgreSQL): keyring -> open vault


@contextmanager
def _opened(path: Path, keyring: Keyring, open_vault: OpenVault | None) -> Iterator[Vault]:
    vault: Vault = open_vault(keyring) if open_vault else SqliteVault(path, keyring)
    try:
        yield vault
    finally:
        vault.close()


def forget_subject(
    state_dir: Path,
    tenant: str,
    value: str,
    *,
    keyring: Keyring | None = None,
    vault_path: Path | None = None,
    open_vault: OpenVault | None = None,
) -> int:
    """Erase every token of ``value`` for ``tenant`` (GDPR Art. 17); the number erased.

    Without ``keyring`` the keys are read from ``state_dir/vault.key``; a missing key file is a
    ``VaultError`` (erasure never generates a key, which would match nothing).
    """
    keys = keyring if keyring is not None else load_keyring(state_dir, generate=False)
    with _opened(vault_path or state_dir / DEFAULT_VAULT_FILE, keys, open_vault) as vault:
        return vault.forget(tenant, value)


@dataclass(frozen=True, slots=True)
class RotationReport:
    new_key_id: str
    reencrypted: int
    key_file: Path | None  # None: the keys come from an environment variable
    retired_old_keys: bool


def rotate_vault_key(
    state_dir: Path,
    *,
    key_file: Path | None = None,
    key_text: str | bytes | None = None,
    vault_path: Path | None = None,
    retire_old_keys: bool = False,
    open_vault: OpenVault | None = None,
) -> RotationReport:
    """Rotate the vault key and re-encrypt every entry under it.

    With a key file (``key_file`` or ``state_dir/vault.key``): a new key is generated and
    written first in the file, the old keys after it; entries are re-encrypted; with
    ``retire_old_keys`` the old keys are then removed from the file (only safe when no gateway
    process still runs with the old keyring).

    With ``key_text`` (the keys live in an environment variable, which this cannot write): the
    operator puts the new key first in the variable and this re-encrypts under it.
    """
    path = vault_path or state_dir / DEFAULT_VAULT_FILE
    if key_text is not None:
        keyring = load_keyring(state_dir, key_text=key_text)
        with _opened(path, keyring, open_vault) as vault:
            count = vault.rotate()
        return RotationReport(keyring.current_id, count, None, False)
    file = key_file or state_dir / DEFAULT_KEY_FILE
    old = read_key_file(file)
    keyring = Keyring(old[0], tuple(old[1:])).with_new_current(new_key())
    write_key_file(file, [keyring.current, *keyring.older])
    with _opened(path, keyring, open_vault) as vault:
        count = vault.rotate()
    if retire_old_keys:
        write_key_file(file, [keyring.current])
    return RotationReport(keyring.current_id, count, file, retire_old_keys)
