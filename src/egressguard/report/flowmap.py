"""Layout of the data-flow map: data categories -> features/files -> providers -> regions.

This module only computes geometry and labels (plain values); the HTML template turns
them into SVG elements, so every label is escaped at the template boundary.

Edges come from two sources:
- findings: category -> file, file -> provider, provider -> region (coloured by the worst
  severity among the findings that draw the edge);
- the integration inventory: feature (or call-site file) -> provider -> region (neutral).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from egressguard.model import DataCategory, Finding, Integration, Region, ScanResult, Severity
from egressguard.report.overview import provider_names

COLUMN_TITLES = ("Data categories", "Features / files", "AI providers", "Regions")
PLACEHOLDER = "not yet analysed"
MAX_NODES = 12  # per column; the rest fold into one "+N more" node
LABEL_CHARS = 27

NODE_W, NODE_H, GAP, TOP, MARGIN, COLUMN_GAP = 210, 30, 12, 44, 16, 90

NodeKey = tuple[int, str]  # (column, identity)


@dataclass(frozen=True, slots=True)
class Node:
    key: NodeKey
    label: str
    title: str
    tone: str
    x: int
    y: int
    width: int = NODE_W
    height: int = NODE_H

    @property
    def text_x(self) -> int:
        return self.x + 10

    @property
    def text_y(self) -> int:
        return self.y + NODE_H // 2 + 4


@dataclass(frozen=True, slots=True)
class Edge:
    path: str
    tone: str


@dataclass(frozen=True, slots=True)
class Column:
    title: str
    x: int


@dataclass(frozen=True, slots=True)
class FlowMap:
    width: int
    height: int
    columns: tuple[Column, ...]
    nodes: tuple[Node, ...]
    edges: tuple[Edge, ...]
    categories_analysed: bool


@dataclass(frozen=True, slots=True)
class _Spec:
    """A node before layout: identity, label, hover title and colour class."""

    key: NodeKey
    label: str
    title: str
    tone: str


# Worst severity rank per edge; -1 marks an edge known only from the inventory.
_EdgeRanks = dict[tuple[NodeKey, NodeKey], int]


def build(result: ScanResult) -> FlowMap:
    specs: dict[NodeKey, _Spec] = {}
    ranks: _EdgeRanks = {}
    names = provider_names(result.integrations, result.providers)
    for finding in result.findings:
        _add_finding(finding, names, specs, ranks)
    for integration in result.integrations:
        _add_integration(integration, specs, ranks)
    analysed = any(key[0] == 0 for key in specs)
    if not analysed:
        specs[(0, "")] = _Spec((0, ""), PLACEHOLDER, "No data categories known yet", "placeholder")
    return _layout(specs, ranks, analysed)


def _add_finding(
    finding: Finding, names: dict[str, str], specs: dict[NodeKey, _Spec], ranks: _EdgeRanks
) -> None:
    if not finding.data_categories and finding.provider is None:
        return
    rank = finding.severity.rank
    mid = _file_spec(finding.file)
    specs.setdefault(mid.key, mid)
    for category in finding.data_categories:
        cat = _category_spec(category)
        specs.setdefault(cat.key, cat)
        _link(ranks, cat.key, mid.key, rank)
    if finding.provider is not None:
        provider = _provider_spec(finding.provider, names.get(finding.provider, finding.provider))
        specs.setdefault(provider.key, provider)
        _link(ranks, mid.key, provider.key, rank)
        if finding.region is not None:
            region = _region_spec(finding.region)
            specs.setdefault(region.key, region)
            _link(ranks, provider.key, region.key, rank)


def _add_integration(item: Integration, specs: dict[NodeKey, _Spec], ranks: _EdgeRanks) -> None:
    provider = _provider_spec(item.provider, item.provider_name)
    region = _region_spec(item.region)
    mids = [_feature_spec(f) for f in item.features] or [
        _file_spec(loc.file) for loc in item.locations
    ]
    for spec in (provider, region, *mids):
        specs.setdefault(spec.key, spec)
    _link(ranks, provider.key, region.key, -1)
    for mid in mids:
        _link(ranks, mid.key, provider.key, -1)


def _link(ranks: _EdgeRanks, src: NodeKey, dst: NodeKey, rank: int) -> None:
    ranks[(src, dst)] = max(rank, ranks.get((src, dst), -1))


def _category_spec(category: DataCategory) -> _Spec:
    label = category.value.replace("_", " ")
    tone = (
        "sensitive" if category in (DataCategory.PAYMENT, DataCategory.CREDENTIALS) else "category"
    )
    return _Spec((0, category.value), label, label, tone)


def _file_spec(path: str) -> _Spec:
    return _Spec((1, "file:" + path), _shorten_path(path), path, "file")


def _feature_spec(feature: str) -> _Spec:
    return _Spec((1, "feature:" + feature), _shorten(feature), f"Feature: {feature}", "feature")


def _provider_spec(provider: str, name: str) -> _Spec:
    return _Spec((2, provider), _shorten(name), f"{name} ({provider})", "provider")


def _region_spec(region: Region) -> _Spec:
    label = region.value.upper() if len(region.value) <= 3 else region.value.capitalize()
    tone = "sovereign" if region.is_sovereign else "foreign"
    return _Spec((3, region.value), label, f"Region: {label}", tone)


def _shorten(label: str) -> str:
    return label if len(label) <= LABEL_CHARS else label[: LABEL_CHARS - 1] + "…"


def _shorten_path(path: str) -> str:
    return path if len(path) <= LABEL_CHARS else "…" + path[-(LABEL_CHARS - 1) :]


def _ordered(specs: Iterable[_Spec], column: int) -> list[_Spec]:
    """A column's nodes in a stable order: enum order for categories/regions, else by label."""
    items = [s for s in specs if s.key[0] == column]
    if column == 0:
        order = {c.value: i for i, c in enumerate(DataCategory)}
    elif column == 3:
        order = {r.value: i for i, r in enumerate(Region)}
    else:  # features before files, then alphabetically by full name
        return sorted(items, key=lambda s: (s.tone != "feature", s.title.casefold(), s.key))
    return sorted(items, key=lambda s: order.get(s.key[1], len(order)))


def _fold(column: int, items: list[_Spec]) -> tuple[list[_Spec], dict[NodeKey, NodeKey]]:
    """Keep MAX_NODES nodes; the rest become one '+N more' node (returns the redirections)."""
    if len(items) <= MAX_NODES:
        return items, {}
    kept, rest = items[: MAX_NODES - 1], items[MAX_NODES - 1 :]
    more = _Spec((column, "\0more"), f"+{len(rest)} more", ", ".join(s.title for s in rest), "more")
    return [*kept, more], {s.key: more.key for s in rest}


def _layout(specs: dict[NodeKey, _Spec], ranks: _EdgeRanks, analysed: bool) -> FlowMap:
    columns: list[list[_Spec]] = []
    moved: dict[NodeKey, NodeKey] = {}
    for index in range(len(COLUMN_TITLES)):
        kept, redirected = _fold(index, _ordered(specs.values(), index))
        columns.append(kept)
        moved.update(redirected)
    tallest = max(len(c) for c in columns)
    height = TOP + tallest * (NODE_H + GAP) + MARGIN
    nodes = {
        s.key: _place(i, j, s, len(col), tallest)
        for i, col in enumerate(columns)
        for j, s in enumerate(col)
    }
    edges = _edges(ranks, moved, nodes)
    titles = tuple(Column(t, _column_x(i)) for i, t in enumerate(COLUMN_TITLES))
    width = _column_x(len(COLUMN_TITLES) - 1) + NODE_W + MARGIN
    return FlowMap(width, height, titles, tuple(nodes.values()), edges, analysed)


def _column_x(index: int) -> int:
    return MARGIN + index * (NODE_W + COLUMN_GAP)


def _place(column: int, row: int, spec: _Spec, count: int, tallest: int) -> Node:
    offset = (tallest - count) * (NODE_H + GAP) // 2  # centre short columns
    y = TOP + offset + row * (NODE_H + GAP)
    return Node(spec.key, spec.label, spec.title, spec.tone, _column_x(column), y)


def _edges(
    ranks: _EdgeRanks, moved: dict[NodeKey, NodeKey], nodes: dict[NodeKey, Node]
) -> tuple[Edge, ...]:
    merged: _EdgeRanks = {}
    for (src, dst), rank in ranks.items():
        _link(merged, moved.get(src, src), moved.get(dst, dst), rank)
    ordered = sorted(
        merged.items(), key=lambda item: (item[1], item[0])
    )  # worst drawn last (on top)
    return tuple(_edge(nodes[src], nodes[dst], rank) for (src, dst), rank in ordered)


def _edge(src: Node, dst: Node, rank: int) -> Edge:
    x1, y1 = src.x + src.width, src.y + NODE_H // 2
    x2, y2 = dst.x, dst.y + NODE_H // 2
    bend = (x2 - x1) // 2
    path = f"M{x1},{y1} C{x1 + bend},{y1} {x2 - bend},{y2} {x2},{y2}"
    return Edge(path, _tone(rank))


def _tone(rank: int) -> str:
    for severity in Severity:
        if severity.rank == rank:
            return severity.value
    return "inventory"
