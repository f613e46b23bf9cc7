"""Optional NER backend: person names from a spaCy model the user installed.

Enabled by `[ner] model = "de_core_news_sm"` (any installed spaCy pipeline with an
`ner` component). spaCy is imported only here and only then; nothing is downloaded. A missing
package or model is a configuration error at start-up, never a failure per request.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterator
from typing import Any

from egressguard.errors import GatewayConfigError
from egressguard.gateway.detect.model import PiiCategory, Span

PERSON_LABELS = frozenset({"PERSON", "PER"})


class SpacyNames:
    """Person names found by a spaCy pipeline (`PERSON`/`PER` entities)."""

    def __init__(self, model: str) -> None:
        try:
            spacy = importlib.import_module("spacy")
        except ImportError as exc:
            raise GatewayConfigError(
                f"[ner] model = {model!r} needs spaCy: pip install spacy and the model"
            ) from exc
        try:
            nlp: Any = spacy.load(model, disable=["parser", "lemmatizer", "tagger"])
        except OSError as exc:
            raise GatewayConfigError(f"[ner] spaCy model {model!r} is not installed") from exc
        self._nlp = nlp
        self.rule = f"ner:{model}"

    def find(self, text: str) -> Iterator[Span]:
        doc = self._nlp(text)
        for ent in doc.ents:
            if ent.label_ in PERSON_LABELS:
                start, end = int(ent.start_char), int(ent.end_char)
                yield Span(start, end, PiiCategory.PERSON_NAME, text[start:end], self.rule)
