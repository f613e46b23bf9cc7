"""Whole collections, dumps and logs read in a file that calls an AI provider.

ai-bulk-data-export: runs after the endpoint analyser and only on files with AI sites. A bulk
source is one of BULK_SOURCES (every attribute of a collection, `SELECT *`, a whole collection
turned into data, a repository `getList()` of a search criteria with no filter in the method,
log files and exports read from disk, full REST/Admin API lists). The finding is one per
source line; confidence is high when an AI site is in the same method, medium otherwise.

Not bulk: a collection narrowed in the same method to one entity (`getFirstItem()`, a filter
on entity_id/increment_id/customer_id) or to a small page (`setPageSize(<100)`).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

from egressguard.audit.analysers.evidence import masked_line
from egressguard.audit.analysers.lexical import CODE_LANGUAGES, Block, Blocks, CodeView
from egressguard.model import Confidence, DataCategory, Hit

if TYPE_CHECKING:
    from egressguard.audit.analysers.base import SourceFile
    from egressguard.catalog import Catalog

RULE = "ai-bulk-data-export"


@dataclass(frozen=True, slots=True)
class BulkSource:
    pattern: str  # regex over the comment-free code
    what: str  # what it reads, for the message
    infer: bool = True  # infer the data category from the line and its collection variable
    collection: bool = False  # a collection, which the method may narrow (not bulk then)


BULK_SOURCES: tuple[BulkSource, ...] = (
    BulkSource(
        r"->\s*(?:addAttributeToSelect|addFieldToSelect)\s*\(\s*['\"]\*['\"]",
        "every attribute of a collection",
        collection=True,
    ),
    BulkSource(r"\bSELECT\s+\*\s+FROM\b", "SELECT * from a table"),
    BulkSource(
        r"->\s*getCollection\s*\(\s*\)(?=[^;]{0,400}?->\s*(?:getData|toArray|getItems)\s*\(\s*\))",
        "a whole collection",
        collection=True,
    ),
    BulkSource(
        r"\$(?:this\s*->\s*)?\w*[Cc]ollection\w*\s*->\s*(?:load\s*\(\s*\)\s*->\s*)?(?:getData|toArray|getItems)"
        r"\s*\(\s*\)",
        "a whole collection",
        collection=True,
    ),
    BulkSource(
        r"->\s*getList\s*\(\s*\$this\s*->\s*searchCriteriaBuilder\s*->\s*create\s*\(\s*\)\s*\)",
        "a repository list without filters",
    ),
    BulkSource(
        r"\b(?:file_get_contents|file|fopen|readfile|SplFileObject|readFileSync|createReadStream"
        r"|readFile)\s*\((?=[^;)]{0,200}?(?:var/log|\.log\b|var/export|var/backups|importexport"
        r"|\.sql\b|\.csv\b))",
        "a log file or data export read from disk",
        infer=False,
    ),
    BulkSource(
        r"/rest/(?:\w+/)?V1/(?:orders|customers(?:/search)?|products|invoices)"
        r"\?searchCriteria(?:=|\[pageSize\]=\d{3,})",
        "the full list from the Magento REST API",
    ),
    BulkSource(
        r"/admin/api/[\w-]+/(?:orders|customers|products)\.json\?[^'\"`\s]*limit=250",
        "250-record pages from the Shopify Admin API",
    ),
    BulkSource(r"\bbulkOperationRunQuery\b", "a Shopify bulk operation export"),
)
_BULK = re.compile(
    "|".join(f"(?P<b{i}>{s.pattern})" for i, s in enumerate(BULK_SOURCES)), re.IGNORECASE
)
_WHOLE_COLLECTION = BulkSource("", "a whole collection", collection=True)
_UNFILTERED_LIST = BulkSource("", "a repository list without filters")

# Context words -> the data the bulk read contains (first matches win, several may apply).
CATEGORY_HINTS: tuple[tuple[str, DataCategory], ...] = (
    (r"order|sales_|invoice|shipment|creditmemo", DataCategory.ORDER),
    (r"customer|address|subscriber", DataCategory.CUSTOMER_PII),
    (r"quote|cart", DataCategory.CART),
    (r"payment", DataCategory.PAYMENT),
)
_CATEGORY_HINTS = tuple((re.compile(rx, re.IGNORECASE), c) for rx, c in CATEGORY_HINTS)
_PRODUCT = re.compile(r"product", re.IGNORECASE)
_PRICING = re.compile(r"\*|cost|price", re.IGNORECASE)

# A collection narrowed to one entity or a small page in the same method is not bulk.
_NARROWED = re.compile(
    r"->\s*getFirstItem\s*\(|->\s*setPageSize\s*\(\s*\d{1,2}\s*\)"
    r"|->\s*addFieldToFilter\s*\(\s*['\"](?:main_table\.)?(?:entity_id|increment_id|customer_id)"
    r"|->\s*addIdFilter\s*\(",
)
_GETLIST = re.compile(r"->\s*getList\s*\(\s*\$\w+\s*\)")
_UNFILTERED_CRITERIA = re.compile(r"searchCriteriaBuilder\s*->\s*create\s*\(")
_CRITERIA_FILTER = re.compile(r"->\s*(?:addFilters?|setFilterGroups|setPageSize)\s*\(")
_COLLECTION_VAR = re.compile(
    r"(\$\w+)\s*=\s*\$this\s*->\s*(\w*[Cc]ollection\w*)\s*->\s*create\s*\(|"
    r"(\$\w+)\s*=\s*[^;]{0,200}?->\s*getCollection\s*\("
)
_WHITESPACE = re.compile(r"\s+")


class BulkAccessAnalyser:
    """ai-bulk-data-export."""

    name = "bulk"
    tags = frozenset({"ai", "sdk"})
    after_sites = True

    def wants(self, f: SourceFile) -> bool:
        return bool(f.sites) and f.language in CODE_LANGUAGES

    def analyse(self, f: SourceFile, catalog: Catalog) -> Iterator[Hit]:
        view = f.view
        blocks = f.blocks
        variables = _collection_vars(view.code)
        seen: set[int] = set()
        for offset, source in sorted(_sources(view, blocks, variables), key=lambda s: s[0]):
            line = f.line_of(offset)
            if line in seen:
                continue
            if source.collection and _NARROWED.search(_scope_text(view, blocks, offset)):
                continue
            seen.add(line)
            context = _context(f.line_text(line), variables)
            categories = _categories(context) if source.infer else ()
            same_method = _same_method(f, blocks, offset)
            yield _hit(f, catalog, line, source.what, categories, same_method)


def _sources(
    view: CodeView, blocks: Blocks, variables: dict[str, str]
) -> Iterator[tuple[int, BulkSource]]:
    for m in _BULK.finditer(view.code):
        yield m.start(), BULK_SOURCES[int((m.lastgroup or "b0")[1:])]
    if variables:
        names = "|".join(re.escape(v) for v in variables)
        uses = re.compile(rf"(?:{names})\b\s*->\s*(?:getData|toArray|getItems)\s*\(\s*\)")
        for m in uses.finditer(view.code):
            yield m.start(), _WHOLE_COLLECTION
    for m in _GETLIST.finditer(view.code):
        body = _scope_text(view, blocks, m.start())
        if _UNFILTERED_CRITERIA.search(body) and not _CRITERIA_FILTER.search(body):
            yield m.start(), _UNFILTERED_LIST


def _scope_text(view: CodeView, blocks: Blocks, offset: int) -> str:
    scope = blocks.function(offset)
    return view.code[scope.start : scope.end] if scope else view.code


def _collection_vars(code: str) -> dict[str, str]:
    """`$orders` -> `$orders = $this->orderCollectionFactory->create(` (its definition)."""
    found: dict[str, str] = {}
    for m in _COLLECTION_VAR.finditer(code):
        found.setdefault(m.group(1) or m.group(3), m.group())
    return found


def _context(line: str, variables: dict[str, str]) -> str:
    return " ".join([line, *(d for v, d in variables.items() if v in line)])


def _categories(context: str) -> tuple[DataCategory, ...]:
    found = [c for rx, c in _CATEGORY_HINTS if rx.search(context)]
    if _PRODUCT.search(context):
        found.append(
            DataCategory.PROPRIETARY_PRICING if _PRICING.search(context) else DataCategory.CATALOG
        )
    return tuple(dict.fromkeys(found))


def _same_method(f: SourceFile, blocks: Blocks, offset: int) -> bool:
    scope = blocks.function(offset)
    if scope is None:
        return False
    return any(_in(scope, f.line_starts[s.line - 1]) for s in f.sites)


def _in(block: Block, offset: int) -> bool:
    return block.start < offset < block.end


def _hit(
    f: SourceFile,
    catalog: Catalog,
    line: int,
    what: str,
    categories: tuple[DataCategory, ...],
    same_method: bool,
) -> Hit:
    providers = ", ".join(sorted({catalog.provider(s.provider).name for s in f.sites}))
    data = ", ".join(c.value for c in categories) or "unknown contents"
    where = "the same method as" if same_method else "a file with"
    evidence = masked_line(f, line, catalog)
    return Hit(
        rule=RULE,
        line=line,
        message=f"{what} ({data}) is read in {where} an AI call to {providers}",
        evidence=evidence,
        key=f"{RULE}:{_WHITESPACE.sub(' ', evidence).strip()}",
        confidence=Confidence.HIGH if same_method else Confidence.MEDIUM,
        data_categories=(DataCategory.BULK_EXPORT, *categories),
    )
