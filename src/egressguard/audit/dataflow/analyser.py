"""DataFlowAnalyser: which shop data reaches each AI call in a file (rule data-flow-to-ai).

Runs in the second phase, only on files with AI call sites (`f.sites`), in the languages a
language module handles. Each module returns Flow values; flows into the same sink (AI call)
become one finding whose categories are the union and whose trace is the path of the most
severe source; every source is named in the message.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import replace
from functools import cache
from typing import TYPE_CHECKING

from egressguard.audit.analysers.base import SourceFile
from egressguard.audit.analysers.evidence import masked_line
from egressguard.audit.analysers.logging_rules import call_is_logged
from egressguard.audit.dataflow.flow import Flow, flow_hit, severity
from egressguard.model import Hit, Language, Region

if TYPE_CHECKING:
    from egressguard.catalog import Catalog

FlowFinder = Callable[[SourceFile, "Catalog"], list[Flow]]


# Languages a flow finder handles (the finders themselves load tree-sitter: imported lazily).
LANGUAGES = frozenset(
    {
        Language.PHP,
        Language.PHTML,
        Language.JAVASCRIPT,
        Language.TYPESCRIPT,
        Language.LIQUID,
        Language.HTML,
    }
)


@cache
def _finders() -> dict[Language, FlowFinder]:
    """Language -> its flow finder (imported on first use so `egressguard audit` starts fast
    and each language module stays independent)."""
    from egressguard.audit.dataflow import javascript, liquid, php

    def template(f: SourceFile, catalog: Catalog) -> list[Flow]:
        # .phtml: PHP blocks and the page's inline <script> code, which runs in the browser.
        return [*php.find_flows(f, catalog), *liquid.find_flows(f, catalog)]

    return {
        Language.PHP: php.find_flows,
        Language.PHTML: template,
        Language.JAVASCRIPT: javascript.find_flows,
        Language.TYPESCRIPT: javascript.find_flows,
        Language.LIQUID: liquid.find_flows,
        Language.HTML: liquid.find_flows,
    }


class DataFlowAnalyser:
    """Sources -> propagation -> AI sinks, per file (rule data-flow-to-ai)."""

    name = "dataflow"
    tags = frozenset({"ai", "sdk"})
    after_sites = True

    def wants(self, f: SourceFile) -> bool:
        return bool(f.sites) and f.language in LANGUAGES

    def analyse(self, f: SourceFile, catalog: Catalog) -> Iterator[Hit]:
        flows = _finders()[f.language](f, catalog)
        yield from grouped_hits(f, flows, catalog)


def find_flows(f: SourceFile, catalog: Catalog) -> list[Flow]:
    """Every flow in one file (for the precision/recall script and tests)."""
    finder = _finders().get(f.language)
    return finder(f, catalog) if finder is not None and f.sites else []


def grouped_hits(f: SourceFile, flows: Sequence[Flow], catalog: Catalog) -> Iterator[Hit]:
    by_sink: dict[tuple[int, str, str], list[Flow]] = {}
    for flow in flows:
        by_sink.setdefault((_line_here(f, flow), flow.site.provider, flow.site.host), []).append(
            flow
        )
    for (line, _, host), group in sorted(by_sink.items()):
        region = _region(host, group[0].site.provider, catalog)
        logged = _logged(f, group[0], line)
        worst = max(group, key=lambda fl: severity(fl.categories, region, logged).rank)
        merged = Flow(
            categories=frozenset().union(*(fl.categories for fl in group)),
            steps=worst.steps,
            site=worst.site,
            source_line=worst.source_line,
            confidence=min((fl.confidence for fl in group), key=_confidence_rank),
        )
        name = catalog.provider(merged.site.provider).name
        evidence = masked_line(f, line, catalog)
        hit = replace(flow_hit(merged, region, logged, evidence, name), line=line)
        sources = sorted({fl.steps[0].note for fl in group if fl.steps})
        yield _with_sources(hit, sources)


def _region(host: str, provider: str, catalog: Catalog) -> Region:
    match = catalog.classify_host(host)
    return match.region if match is not None else catalog.provider(provider).region


def _line_here(f: SourceFile, flow: Flow) -> int:
    """The line in `f` where the flow leaves: its sink, or (when the sink is in another file,
    reached through an injected dependency) the last step in `f`, the call into it."""
    here = [s.line for s in flow.steps if s.file == f.rel]
    if flow.steps and flow.steps[-1].file == f.rel:
        return flow.steps[-1].line
    return here[-1] if here else flow.site.line


def _logged(f: SourceFile, flow: Flow, line: int) -> bool:
    """Whether the AI call is audit-logged, as the logging analyser decides it (for a sink in
    another file: not known here, so not logged)."""
    if flow.steps and flow.steps[-1].file != f.rel:
        return False
    return call_is_logged(f, line)


def _confidence_rank(c: object) -> int:
    return {"high": 2, "medium": 1, "low": 0}.get(str(c), 0)


def _with_sources(hit: Hit, sources: list[str]) -> Hit:
    if len(sources) <= 1:
        return hit
    shown = "; ".join(sources[:6]) + (f"; +{len(sources) - 6} more" if len(sources) > 6 else "")
    return replace(hit, message=f"{hit.message}. Sources: {shown}")
