"""The evidence directory of one crawl and its SHA-256 manifest.

    crawl.har                 every request and response, raw (Playwright's HAR recorder)
    persona.json              the canary shopper typed in (so `egressguard har` can re-trace)
    screenshots/NN-step.png   the page after each step
    manifest.json             SHA-256 and size of every file above, plus what was crawled

The HAR, the screenshots and persona.json are raw evidence by design (they hold the canary
values and whatever keys the pages sent); the manifest holds no captured values.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from egressguard import __version__
from egressguard.errors import CrawlError
from egressguard.runtime.canary import persona_to_mapping
from egressguard.runtime.traffic import Persona, StepOutcome

HAR = "crawl.har"
PERSONA = "persona.json"
MANIFEST = "manifest.json"
SCREENSHOTS = "screenshots"
MANIFEST_VERSION = 1


@dataclass(frozen=True, slots=True)
class EvidenceDir:
    root: Path

    @classmethod
    def create(cls, root: Path) -> EvidenceDir:
        """A new or empty directory (evidence of an earlier crawl is never overwritten)."""
        if root.exists() and (not root.is_dir() or any(root.iterdir())):
            raise CrawlError(f"evidence directory {root} exists and is not empty")
        try:
            (root / SCREENSHOTS).mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise CrawlError(f"evidence directory {root}: {exc.strerror or exc}") from exc
        return cls(root)

    @property
    def har(self) -> Path:
        return self.root / HAR

    def screenshot(self, index: int, step: str) -> Path:
        slug = re.sub(r"[^a-z0-9]+", "-", step.lower()).strip("-")[:40] or "step"
        return self.root / SCREENSHOTS / f"{index:02d}-{slug}.png"

    def write_persona(self, persona: Persona) -> None:
        text = json.dumps(persona_to_mapping(persona), indent=2, sort_keys=True)
        (self.root / PERSONA).write_text(text + "\n", encoding="utf-8")

    def write_manifest(self, about: dict[str, object], steps: Iterable[StepOutcome]) -> None:
        files = [_entry(self.root, path) for path in self._files()]
        manifest = {
            "manifest_version": MANIFEST_VERSION,
            "tool": f"egressguard {__version__}",
            "written_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
            **about,
            "steps": [
                {
                    "name": s.name,
                    "url": s.url,
                    "ok": s.ok,
                    "error": s.error,
                    "screenshot": s.screenshot,
                }
                for s in steps
            ],
            "files": files,
        }
        text = json.dumps(manifest, indent=2, sort_keys=True)
        (self.root / MANIFEST).write_text(text + "\n", encoding="utf-8")

    def relative_files(self) -> tuple[str, ...]:
        """Every evidence file, manifest last, as paths relative to the directory."""
        names = [p.relative_to(self.root).as_posix() for p in self._files()]
        return (*names, MANIFEST) if (self.root / MANIFEST).is_file() else tuple(names)

    def _files(self) -> list[Path]:
        found = (p for p in self.root.rglob("*") if p.is_file() and p.name != MANIFEST)
        return sorted(found, key=lambda p: p.relative_to(self.root).as_posix())


def _entry(root: Path, path: Path) -> dict[str, object]:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return {
        "path": path.relative_to(root).as_posix(),
        "sha256": digest.hexdigest(),
        "bytes": path.stat().st_size,
    }
