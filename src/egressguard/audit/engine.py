"""Orchestration: walk -> prefilter -> analysers -> findings -> suppressions -> ScanResult.

One bad input never stops a scan: unreadable, binary, oversized or malformed files and any
analyser failure on a file become SkippedTarget values with a reason.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from egressguard import __version__
from egressguard.audit import platform, sources
from egressguard.audit.analysers import AUDIT_RULES, MalformedInput, default_analysers
from egressguard.audit.analysers.base import Analyser, SourceFile
from egressguard.audit.classify import classify
from egressguard.audit.excerpt import excerpt, mask_line
from egressguard.audit.inventory import LocatedSite, integrations, site_hits
from egressguard.audit.prefilter import Prefilter, build
from egressguard.audit.project import Project
from egressguard.audit.suppress import InlineSuppression, find_suppressions
from egressguard.audit.vendor_checks import VENDOR_RULES, vendor_hits
from egressguard.catalog import Catalog, load_catalog
from egressguard.config import AuditSettings
from egressguard.errors import ConfigError, SourceError
from egressguard.model import (
    DataCategory,
    Exposure,
    Finding,
    Hit,
    IntegrationSite,
    Language,
    Platform,
    RunsIn,
    ScanResult,
    ScanStats,
    SkippedTarget,
    Suppressed,
    Tool,
)
from egressguard.vendor_register import parse_register

Progress = Callable[[int], None]  # files read so far (the total is not known in advance)
# Files that configure an endpoint rather than call it.
_CONFIG_LANGS = frozenset(
    {Language.XML, Language.ENV, Language.SQL, Language.JSON, Language.TOML, Language.YAML}
)


@dataclass(frozen=True, slots=True)
class AuditRequest:
    roots: tuple[Path, ...]
    settings: AuditSettings = field(default_factory=AuditSettings)
    baseline: frozenset[str] = frozenset()
    only_files: frozenset[str] | None = None  # --diff: paths relative to the report base
    vendors: Path | None = None  # vendors.yaml: check the providers found against it


@dataclass
class _Collector:
    findings: list[Finding] = field(default_factory=list)
    sites: list[LocatedSite] = field(default_factory=list)
    skipped: list[SkippedTarget] = field(default_factory=list)
    suppressed: list[Suppressed] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    files: int = 0
    bytes: int = 0
    candidates: int = 0


def report_base(roots: Sequence[Path]) -> Path:
    """Findings' `file` is relative to this: the root itself, or the roots' common parent."""
    if len(roots) == 1:
        root = roots[0]
        return root if root.is_dir() else root.parent
    return Path(os.path.commonpath([str(r.parent) for r in roots]))


def run_audit(request: AuditRequest, progress: Progress | None = None) -> ScanResult:
    """Audit every root and return the result (never raises for a bad input file).

    Pass 1 streams the walk: read, prefilter, drop non-candidates at once (memory does not
    grow with the tree). Pass 2 re-reads and analyses the few candidates, when the project
    index (registration.php, composer.json …) is complete for cross-file analysis.
    """
    started = time.perf_counter()
    for root in request.roots:
        if not root.exists():
            raise SourceError(f"{root}: no such file or directory")
    catalog = load_catalog(request.settings.providers)
    scan = _Scan(request, catalog, build(catalog), default_analysers())
    base = report_base(request.roots)
    candidates = scan.prefilter_pass(base, progress)
    for ref, tags in candidates:
        scan.analyse(ref, tags)
    if request.vendors is not None:
        scan.check_vendors(request.vendors, base)
    return scan.result(scan.platforms(base), time.perf_counter() - started)


class _Scan:
    def __init__(
        self,
        request: AuditRequest,
        catalog: Catalog,
        prefilter: Prefilter,
        analysers: Sequence[Analyser],
    ) -> None:
        self.request = request
        self.settings = request.settings
        self.catalog = catalog
        self.prefilter = prefilter
        self.first = [a for a in analysers if not a.after_sites]
        self.second = [a for a in analysers if a.after_sites]
        self.out = _Collector()
        self.policy = sources.WalkPolicy(
            sources.compile_globs(self.settings.exclude), self.settings.max_file_size
        )
        self.project = Project(Path("."), self.policy.exclude, self.settings.max_file_size)
        self.markers: list[str] = []  # platform marker files found by the walk

    def prefilter_pass(
        self, base: Path, progress: Progress | None
    ) -> list[tuple[sources.FileRef, frozenset[str]]]:
        """Walk, read and prefilter every file; return only the candidates."""
        self.project.base = base
        only = self.request.only_files
        candidates: list[tuple[sources.FileRef, frozenset[str]]] = []
        for root in self.request.roots:
            for item in sources.walk(root, base, self.policy):
                if isinstance(item, SkippedTarget):
                    if only is None or item.file in only:
                        self.out.skipped.append(item)
                    continue
                self.project.add(item.rel)
                if platform.is_marker(item.rel):
                    self.markers.append(item.rel)
                if only is not None and item.rel not in only:
                    continue
                tags = self._prefilter(item)
                if tags:
                    candidates.append((item, tags))
                if progress is not None and self.out.files % 512 == 0:
                    progress(self.out.files)
        if progress is not None:
            progress(self.out.files)
        return candidates

    def _prefilter(self, ref: sources.FileRef) -> frozenset[str]:
        data = sources.read(ref, self.settings.max_file_size)
        if isinstance(data, SkippedTarget):
            self.out.skipped.append(data)
            return frozenset()
        self.out.files += 1
        self.out.bytes += len(data)
        return self.prefilter.tags(data)

    def analyse(self, ref: sources.FileRef, tags: frozenset[str]) -> None:
        """Deep analysis of one candidate (re-read: pass 1 kept no file contents)."""
        data = sources.read(ref, self.settings.max_file_size)
        if isinstance(data, SkippedTarget):
            self.out.skipped.append(data)
            return
        self.out.candidates += 1
        language, exposure = classify(ref.rel)
        f = SourceFile(rel=ref.rel, data=data, language=language, exposure=exposure, tags=tags)
        f.project = self.project
        hits = self._analyse(f)
        for detail in dict.fromkeys(f.partial):
            self.out.skipped.append(SkippedTarget(ref.rel, "parse-error", detail))
        if f.latin1:
            self.out.skipped.append(
                SkippedTarget(ref.rel, "invalid-utf8", "not UTF-8: analysed as Latin-1")
            )
        self._file_findings(f, hits)

    def check_vendors(self, path: Path, base: Path) -> None:
        """Findings for providers in use that the vendor register lacks or leaves uncovered."""
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise ConfigError(f"{path}: cannot read the vendor register ({exc.strerror})") from exc
        f = SourceFile(
            rel=_display_path(path, base),
            data=data,
            language=Language.YAML,
            exposure=Exposure.CONFIG,
            tags=frozenset(),
        )
        register = parse_register(f.text, str(path))
        self._file_findings(
            f, vendor_hits(register, f.text, integrations(self.out.sites, self.catalog))
        )

    def _analyse(self, f: SourceFile) -> list[Hit]:
        hits: list[Hit] = []
        sites: list[IntegrationSite] = []
        for analyser in self.first:
            self._run(analyser, f, hits, sites)
        f.sites = tuple(sorted(set(sites), key=lambda s: (s.line, s.provider, s.host)))
        for analyser in self.second:
            self._run(analyser, f, hits, sites)
        sent = _categories_sent(hits)
        groups: dict[tuple[str, str, RunsIn], list[IntegrationSite]] = {}
        for site in f.sites:
            cats = sent.get((site.provider, site.host), frozenset())
            self.out.sites.append(LocatedSite(f.rel, site, cats))
            groups.setdefault((site.provider, site.host, site.runs_in), []).append(site)
        for first, *others in groups.values():  # one inventory/residency finding per endpoint
            evidence = mask_line(f.line_text(first.line), self.catalog)
            more = [s.line for s in others]
            configured = f.language in _CONFIG_LANGS
            cats = sent.get((first.provider, first.host), frozenset())
            hits.extend(site_hits(first, self.catalog, evidence, more, configured, cats))
        return hits

    def _run(
        self, analyser: Analyser, f: SourceFile, hits: list[Hit], sites: list[IntegrationSite]
    ) -> None:
        """One analyser on one file; its failure skips only its own part of the analysis."""
        if not (analyser.tags & f.tags) or not analyser.wants(f):
            return
        found: list[Hit | IntegrationSite] = []
        try:
            found.extend(analyser.analyse(f, self.catalog))
        except MalformedInput as exc:
            self.out.skipped.append(SkippedTarget(f.rel, "malformed", exc.reason))
            return
        except Exception as exc:
            detail = f"{type(exc).__name__} in {analyser.name}; please report it"
            self.out.skipped.append(SkippedTarget(f.rel, "analyser-error", detail))
            return
        for output in found:
            (hits if isinstance(output, Hit) else sites).append(output)  # type: ignore[arg-type]

    def _file_findings(self, f: SourceFile, hits: list[Hit]) -> None:
        marks = find_suppressions(f.text)
        for mark in marks:
            if not mark.reason:
                rules = ", ".join(sorted(mark.rules))
                self.out.warnings.append(
                    f"{f.rel}:{mark.line}: egressguard-ignore of {rules} has no reason "
                    "('-- <reason>'); not applied"
                )
        occurrences: dict[tuple[str, str], int] = {}
        for hit in sorted(hits, key=lambda h: (h.line, h.rule, h.key)):
            if hit.rule in self.settings.disable_rules:
                continue
            n = occurrences[(hit.rule, hit.key)] = occurrences.get((hit.rule, hit.key), 0) + 1
            finding = self._finding(f, hit, n)
            self._keep(finding, hit, marks)

    def _keep(self, finding: Finding, hit: Hit, marks: list[InlineSuppression]) -> None:
        mark = next((m for m in marks if m.reason and m.covers(hit.rule, hit.line)), None)
        if mark is not None:
            self.out.suppressed.append(
                Suppressed(finding.rule, finding.file, finding.fingerprint, "inline", mark.reason)
            )
        elif finding.fingerprint in self.request.baseline:
            self.out.suppressed.append(
                Suppressed(finding.rule, finding.file, finding.fingerprint, "baseline", "")
            )
        else:
            self.out.findings.append(finding)

    def _finding(self, f: SourceFile, hit: Hit, occurrence: int) -> Finding:
        return self.catalog.finding(
            hit,
            f.rel,
            occurrence,
            severity=self.settings.severity_overrides.get(hit.rule),
            evidence=mask_line(hit.evidence, self.catalog),
            excerpt=excerpt(f, hit.line, self.catalog),
        )

    def platforms(self, base: Path) -> tuple[Platform, ...]:
        found: list[Platform] = []
        for root in self.request.roots:
            label = os.path.relpath(root, base) if len(self.request.roots) > 1 else "."
            found.append(platform.detect_root(root, label.replace(os.sep, "/")))
        found.extend(platform.nested(base, self.markers))
        unique = {(p.kind, p.root): p for p in found}
        return tuple(unique[k] for k in sorted(unique, key=lambda k: (k[1], k[0])))

    def checked_rules(self) -> tuple[str, ...]:
        checked = AUDIT_RULES | (VENDOR_RULES if self.request.vendors is not None else set())
        return tuple(sorted(checked - self.settings.disable_rules))

    def result(self, platforms: tuple[Platform, ...], duration: float) -> ScanResult:
        out = self.out
        findings = sorted(out.findings, key=lambda f: (-f.severity.rank, f.file, f.line, f.rule))
        used = {f.rule for f in findings}
        return ScanResult(
            tool=Tool("egressguard", __version__),
            roots=tuple(str(r) for r in self.request.roots),
            platforms=platforms,
            integrations=integrations(out.sites, self.catalog),
            findings=tuple(findings),
            skipped=tuple(sorted(out.skipped, key=lambda s: (s.file, s.reason))),
            stats=ScanStats(out.files, out.bytes, round(duration, 3), out.candidates),
            suppressed=tuple(sorted(out.suppressed, key=lambda s: (s.file, s.rule, s.fingerprint))),
            warnings=tuple(out.warnings),
            rules=tuple(self.catalog.rule_info(r) for r in sorted(used)),
            checked_rules=self.checked_rules(),
            providers=self.catalog.provider_infos(
                {f.provider for f in findings if f.provider} | {s.site.provider for s in out.sites},
            ),
        )


def _display_path(path: Path, base: Path) -> str:
    try:
        return path.resolve().relative_to(base.resolve()).as_posix()
    except ValueError:
        return str(path)


def _categories_sent(hits: Iterable[Hit]) -> dict[tuple[str, str], frozenset[DataCategory]]:
    """Data categories the data-flow analysis saw sent to each (provider, host) of a file."""
    sent: dict[tuple[str, str], frozenset[DataCategory]] = {}
    for hit in hits:
        if hit.rule == "data-flow-to-ai" and hit.provider and hit.host:
            key = (hit.provider, hit.host)
            sent[key] = sent.get(key, frozenset()) | frozenset(hit.data_categories)
    return sent
