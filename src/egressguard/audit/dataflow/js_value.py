"""What the JavaScript evaluator knows about one expression: the shop data it may carry.

A `Value` is a small immutable set of `Origin`s, at most one per data category and GraphQL
selection path (the best-confidence, then shortest, trace wins), plus two markers that are
not data yet:

    element   the expression is a DOM/jQuery element; `.value`, `.val()` or `new FormData(…)`
              on it reads what the shopper typed. The marker carries a field hint (the
              selector or form-element name) that the field classifier may turn into
              customer_pii (`#email`) instead of shopper_text.
    pending   categories an Admin GraphQL selection asks for: the *result* of the call that
              sends the query carries them, the query string itself carries nothing.

A value may also know its shape: `fields` maps the keys of an object literal to what each
carries (`{customerInfo: {email: e}, storeInfo: {...}}`), so reading `.storeInfo` yields only
that key's data instead of everything in the object (field-sensitive objects). `origins` always
holds everything (the fields' data included): code that ignores shapes stays sound. A shape is
dropped (fields None) when the object also gets data at an unknown key.

Values are joined with `|` and extended with `hop`; both are cheap (a handful of origins).
"""

from __future__ import annotations

from dataclasses import dataclass

from egressguard.model import Confidence, DataCategory, TraceStep

MAX_STEPS = 10  # longer traces keep their source, first hops and the sink
MAX_ORIGINS = 24  # GraphQL selections beyond this many distinct paths are not tracked
MAX_FIELDS = 16  # object literals with more keys are not tracked field by field
MAX_SHAPE_DEPTH = 3  # nor nested deeper than this
_CONFIDENCE_RANK = {Confidence.LOW: 0, Confidence.MEDIUM: 1, Confidence.HIGH: 2}


@dataclass(frozen=True, slots=True)
class Origin:
    """One category of shop data and the path it took so far (source first)."""

    category: DataCategory
    steps: tuple[TraceStep, ...]
    confidence: Confidence = Confidence.HIGH
    # A GraphQL selection path ("customers.nodes.email"): reading `.email` keeps this origin,
    # reading `.numberOfOrders` drops it (field-sensitive responses). "" for other sources.
    path: str = ""


@dataclass(frozen=True, slots=True)
class Value:
    origins: tuple[Origin, ...] = ()
    element: str | None = None
    pending: tuple[Origin, ...] = ()
    fields: tuple[tuple[str, Value], ...] | None = None  # sorted by key; None: shape unknown

    def __bool__(self) -> bool:
        return bool(self.origins or self.pending) or self.element is not None

    def __or__(self, other: Value) -> Value:
        if not other:
            return self
        if not self:
            return other
        return Value(
            _merge(self.origins, other.origins),
            self.element if self.element is not None else other.element,
            _merge(self.pending, other.pending),
            _merge_fields(self, other),
        )

    def field(self, key: str) -> Value | None:
        """What `value.key` carries when the shape is known (NONE for a missing key), else
        None."""
        if self.fields is None:
            return None
        return next((v for k, v in self.fields if k == key), NONE)

    def flat(self) -> Value:
        """The same data without its shape."""
        return self if self.fields is None else Value(self.origins, self.element, self.pending)

    @property
    def categories(self) -> frozenset[DataCategory]:
        return frozenset(o.category for o in self.origins)

    def data(self) -> Value:
        """Only the shop data (no element or GraphQL markers)."""
        if self.element is None and not self.pending:
            return self
        return Value(self.origins, fields=self.fields)

    def hop(self, step: TraceStep) -> Value:
        """Every origin extended by one step (skipped when the last step is the same line)."""
        if not self.origins:
            return self
        fields = None
        if self.fields is not None:
            fields = tuple((k, v.hop(step)) for k, v in self.fields)
        return Value(
            tuple(_extend(o, step) for o in self.origins), self.element, self.pending, fields
        )

    def weaker(self, confidence: Confidence) -> Value:
        """Origins capped at `confidence`."""
        capped = tuple(
            Origin(o.category, o.steps, min_confidence(o.confidence, confidence), o.path)
            for o in self.origins
        )
        fields = None
        if self.fields is not None:
            fields = tuple((k, v.weaker(confidence)) for k, v in self.fields)
        return Value(capped, self.element, self.pending, fields)


NONE = Value()


def select(value: Value, prop: str) -> Value:
    """`value.prop` for a GraphQL response: only the selections under `prop`, when any."""
    if not any(o.path for o in value.origins):
        return value
    kept = tuple(o for o in value.origins if not o.path or prop in o.path.split("."))
    if all(not o.path for o in kept):
        return value  # `prop` is a wrapper (data, nodes, edges) or unknown: keep everything
    return Value(kept, value.element, value.pending)


def shaped(fields: dict[str, Value], pending: tuple[Origin, ...] = ()) -> Value:
    """An object literal's value: the union of its keys' data, with its shape when it is
    small enough to track (keys carrying nothing are left out)."""
    out = Value(pending=pending)
    kept: list[tuple[str, Value]] = []
    for key in sorted(fields):
        v = fields[key]
        out |= Value(v.origins, None, v.pending)
        if v.origins:
            kept.append((key, v if _depth(v) < MAX_SHAPE_DEPTH else v.flat()))
    if not out.origins or len(kept) > MAX_FIELDS:
        return out
    return Value(out.origins, None, out.pending, tuple(kept))


def _depth(value: Value) -> int:
    if not value.fields:
        return 0
    return 1 + max(_depth(v) for _, v in value.fields)


def _merge_fields(a: Value, b: Value) -> tuple[tuple[str, Value], ...] | None:
    """Shapes join key by key; a shape joined with shapeless data has no shape any more."""
    if not b.origins:
        return a.fields
    if not a.origins:
        return b.fields
    if a.fields is None or b.fields is None:
        return None
    if a.fields == b.fields:
        return a.fields
    merged = dict(a.fields)
    for k, v in b.fields:
        merged[k] = merged[k] | v if k in merged else v
    return None if len(merged) > MAX_FIELDS else tuple(sorted(merged.items(), key=lambda kv: kv[0]))


def source(category: DataCategory, step: TraceStep, confidence: Confidence) -> Value:
    return Value((Origin(category, (step,), confidence),))


def min_confidence(a: Confidence, b: Confidence) -> Confidence:
    return a if _CONFIDENCE_RANK[a] <= _CONFIDENCE_RANK[b] else b


def _extend(origin: Origin, step: TraceStep) -> Origin:
    last = origin.steps[-1]
    if (last.line == step.line and last.file == step.file) or len(origin.steps) >= MAX_STEPS:
        return origin
    return Origin(origin.category, (*origin.steps, step), origin.confidence, origin.path)


def _merge(a: tuple[Origin, ...], b: tuple[Origin, ...]) -> tuple[Origin, ...]:
    if not b:
        return a
    if not a:
        return b
    by_cat = {(o.category, o.path): o for o in a}
    changed = False
    for o in b:
        mine = by_cat.get((o.category, o.path))
        if mine is None or _better(o, mine):
            if mine is None and o.path and len(by_cat) >= MAX_ORIGINS:
                continue
            by_cat[(o.category, o.path)] = o
            changed = True
    return tuple(by_cat.values()) if changed else a


def _better(new: Origin, old: Origin) -> bool:
    """Higher confidence first, then the shorter path."""
    rn, ro = _CONFIDENCE_RANK[new.confidence], _CONFIDENCE_RANK[old.confidence]
    return rn > ro or (rn == ro and len(new.steps) < len(old.steps))
