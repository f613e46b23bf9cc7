"""Taint values for the PHP engine: which shop data a value carries, and the path it took.

A `Label` is one source's data on its way to a sink: its categories, the steps so far
(source first) and how sure we are. A `Taint` is a set of labels. Sets are capped so a value
built from hundreds of sources stays cheap; traces are capped so loops cannot grow them.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from egressguard.model import Confidence, DataCategory, TraceStep

MAX_LABELS = 24
MAX_STEPS = 14
_RANK = {Confidence.HIGH: 2, Confidence.MEDIUM: 1, Confidence.LOW: 0}


@dataclass(frozen=True, slots=True)
class Label:
    categories: frozenset[DataCategory]
    steps: tuple[TraceStep, ...]
    confidence: Confidence = Confidence.HIGH

    @property
    def source(self) -> TraceStep:
        return self.steps[0]

    def then(self, step: TraceStep) -> Label:
        last = self.steps[-1]
        if len(self.steps) >= MAX_STEPS or (last.file, last.line, last.note) == (
            step.file,
            step.line,
            step.note,
        ):
            return self
        return Label(self.categories, (*self.steps, step), self.confidence)


Taint = frozenset[Label]
EMPTY: Taint = frozenset()


def source(categories: frozenset[DataCategory], step: TraceStep, confidence: Confidence) -> Taint:
    return frozenset({Label(categories, (step,), confidence)})


def union(*taints: Taint) -> Taint:
    merged: set[Label] = set()
    for t in taints:
        merged |= t
    if len(merged) <= MAX_LABELS:
        return frozenset(merged)
    # Keep one label per source (the shortest path), then the first MAX_LABELS by position.
    best: dict[tuple[str, int, str], Label] = {}
    for label in in_order(merged):
        key = (label.source.file, label.source.line, label.source.note)
        if key not in best:
            best[key] = label
    ordered = sorted(best.values(), key=lambda lb: (lb.source.file, lb.source.line, lb.source.note))
    return frozenset(ordered[:MAX_LABELS])


def in_order(taint: Iterable[Label]) -> list[Label]:
    """The labels shortest path first, then by their steps: one order for every run (a set's
    own order follows string hashes, which change from one process to the next)."""
    return sorted(taint, key=_path_order)


def _path_order(label: Label) -> tuple[int, tuple[tuple[str, int, str], ...], list[str], int]:
    steps = tuple((s.file, s.line, s.note) for s in label.steps)
    return (len(steps), steps, sorted(label.categories), _RANK[label.confidence])


def hop(taint: Taint, step: TraceStep) -> Taint:
    """Every label of `taint` with one more step."""
    return frozenset(label.then(step) for label in taint) if taint else taint


def weakest(a: Confidence, b: Confidence) -> Confidence:
    return a if _RANK[a] <= _RANK[b] else b
