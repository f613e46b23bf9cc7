"""Finding fingerprints and ids, shared by every producer of findings (audit, runtime).

A fingerprint is the SHA-256 of rule, file (or page), a stable key and the occurrence number:
no line number (so a baseline survives edits) and never a plaintext secret (the key holds a
secret's own fingerprint instead).
"""

from __future__ import annotations

import hashlib


def fingerprint(rule: str, file: str, key: str, occurrence: int) -> str:
    material = "\0".join((rule, file, key, str(occurrence)))
    return hashlib.sha256(material.encode("utf-8", "surrogatepass")).hexdigest()[:32]


def finding_id(fp: str) -> str:
    return "EG-" + fp[:10]
