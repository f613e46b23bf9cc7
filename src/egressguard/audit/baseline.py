"""Fingerprints and the baseline file of accepted findings.

A fingerprint identifies a finding across edits: rule, file and the analyser's stable key
(which never holds a line number or a plaintext secret), plus an occurrence number when the
same key repeats in one file. Baselines store fingerprints only, never evidence.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path

from egressguard.errors import BaselineError
from egressguard.model import Finding

BASELINE_VERSION = 1


def dump_baseline(findings: Iterable[Finding], tool_version: str) -> str:
    entries = [
        {"fingerprint": f.fingerprint, "rule": f.rule, "file": f.file, "id": f.id}
        for f in sorted(findings, key=lambda f: (f.file, f.rule, f.fingerprint))
    ]
    doc = {"version": BASELINE_VERSION, "tool": f"egressguard {tool_version}", "findings": entries}
    return json.dumps(doc, indent=2, ensure_ascii=False) + "\n"


def load_baseline(path: Path) -> frozenset[str]:
    """The fingerprints accepted by a baseline file."""
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise BaselineError(f"{path}: cannot read baseline: {exc}") from exc
    if not isinstance(doc, dict) or doc.get("version") != BASELINE_VERSION:
        version = doc.get("version") if isinstance(doc, dict) else "?"
        raise BaselineError(
            f"{path}: unsupported baseline version {version} (this EgressGuard writes version "
            f"{BASELINE_VERSION}; re-create it with `egressguard baseline`)"
        )
    entries = doc.get("findings")
    if not isinstance(entries, list):
        raise BaselineError(f"{path}: 'findings' must be a list")
    return frozenset(
        str(e["fingerprint"]) for e in entries if isinstance(e, dict) and "fingerprint" in e
    )
