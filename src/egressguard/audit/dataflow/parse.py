"""tree-sitter parsers, one per language, created once per process.

Parsing is error-tolerant: a file with syntax errors still yields a tree. `syntax_error`
says where the first ERROR/MISSING node is, so the analyser can list the file in skipped[]
as only partly analysed instead of pretending it understood it.
"""

from __future__ import annotations

from functools import cache

import tree_sitter_javascript
import tree_sitter_php
import tree_sitter_typescript
from tree_sitter import Language as TsLanguage
from tree_sitter import Node, Parser, Tree

from egressguard.model import Language

# PHP files and .phtml templates both start in HTML mode: `language_php` handles `<?php`.
_GRAMMARS = {
    Language.PHP: tree_sitter_php.language_php,
    Language.PHTML: tree_sitter_php.language_php,
    Language.JAVASCRIPT: tree_sitter_javascript.language,
    Language.TYPESCRIPT: tree_sitter_typescript.language_tsx,
}

PARSEABLE = frozenset(_GRAMMARS)


@cache
def _parser(language: Language) -> Parser:
    return Parser(TsLanguage(_GRAMMARS[language]()))


def parse(language: Language, data: bytes) -> Tree:
    """The syntax tree of `data` (never raises on bad syntax; see `syntax_error`)."""
    return _parser(language).parse(data)


def syntax_error(tree: Tree) -> Node | None:
    """The first ERROR or MISSING node in the tree, or None when it parsed cleanly."""
    root = tree.root_node
    if not root.has_error:
        return None
    stack = [root]
    while stack:
        node = stack.pop()
        if node.is_error or node.is_missing:
            return node
        stack.extend(reversed([c for c in node.children if c.has_error or c.is_missing]))
    return root
