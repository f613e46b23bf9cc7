"""Literal word lists as regex tries: `str(?:a(?:ße|sse))?` instead of `straße|strasse|str`.

`re` tries the branches of an alternation one by one at every position; a trie shares the
prefixes, so a position that starts no word costs one branch test per distinct first letter.
The matches are the same as the alternation sorted longest first: at one position the words
that match form a chain of prefixes of the text there, and the trie tries the longer ones
first (the optional continuation is greedy), falling back to shorter ones on backtracking.
Under IGNORECASE the words must not differ only by case (the tables are lower-case).
"""

from __future__ import annotations

import re
from collections.abc import Iterable

_Node = dict[str, "_Node"]
_END = ""  # key marking "a word ends here"


def alternation(words: Iterable[str]) -> str:
    """A regex (no outer group) matching exactly `words`, longest first at each position."""
    root: _Node = {}
    for word in words:
        if not word:
            raise ValueError("empty word in a word list")
        node = root
        for ch in word:
            node = node.setdefault(ch, {})
        node[_END] = {}
    return _render(root)


def _render(node: _Node) -> str:
    branches = [re.escape(ch) + _render(child) for ch, child in sorted(node.items()) if ch]
    if not branches:
        return ""
    body = branches[0] if len(branches) == 1 else "(?:" + "|".join(branches) + ")"
    if _END in node:
        return "(?:" + body + ")?"
    return body
