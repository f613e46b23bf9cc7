"""Run the JavaScript/Liquid flow finders on an in-memory file, with the endpoint analyser's
AI call sites, as the engine does."""

from __future__ import annotations

from egressguard.audit.analysers.base import SourceFile
from egressguard.audit.analysers.endpoints import EndpointAnalyser
from egressguard.audit.dataflow import javascript, liquid
from egressguard.audit.dataflow.flow import Flow
from egressguard.catalog import load_catalog
from egressguard.model import Language
from tests.audit.helpers import source_file

AI = "const AI = 'https://api.openai.com/v1/chat/completions';\n"


def prepared(rel: str, code: str) -> SourceFile:
    f = source_file(rel, code)
    f.sites = tuple(EndpointAnalyser().analyse(f, load_catalog()))
    return f


def flows(rel: str, code: str) -> list[Flow]:
    f = prepared(rel, code)
    finder = liquid if f.language in (Language.LIQUID, Language.HTML) else javascript
    return finder.find_flows(f, load_catalog())


def categories(rel: str, code: str) -> set[str]:
    return {c.value for fl in flows(rel, code) for c in fl.categories}
