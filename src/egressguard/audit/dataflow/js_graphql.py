"""Selection paths of a GraphQL document written in a JS string or a .graphql file.

    query { customers(first: 10) { edges { node { email defaultAddress { address1 } } } } }
    -> customers, customers.edges, customers.edges.node, customers.edges.node.email,
       customers.edges.node.defaultAddress, customers.edges.node.defaultAddress.address1

One linear token pass: arguments `( … )` and strings are skipped, aliases (`mail: email`)
give the field, operation headers and fragment type conditions are not part of a path; a
`key: "…"` argument (metafields) adds the key as a field: `product.metafield.cost_price`.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

_LOOKS_LIKE = re.compile(r"^\s*(?:#graphql\s*)?(?:query\b|mutation\b|subscription\b|fragment\b|\{)")
_TOKEN = re.compile(
    r'"""[\s\S]*?(?:"""|$)|"(?:[^"\\\n]|\\.)*"?|#[^\n]*|\.\.\.|[A-Za-z_]\w*|[{}():]'
)
_MAX_PATHS = 2000


def looks_like_graphql(body: str) -> bool:
    return "{" in body and _LOOKS_LIKE.match(body) is not None


def selection_paths(literal: str) -> Iterator[str]:
    """Every selection path of a GraphQL document (quotes of a JS literal are dropped)."""
    body = literal.strip("'\"`")
    if not looks_like_graphql(body):
        return
    stack: list[str] = []
    depth = 0
    parens = 0
    last = ""  # the field a following `{` opens
    skip_next = False  # the type after `on` / the name after `...`
    count = 0
    key_next = False  # `metafield(key: "cost_price")`: the key names the field
    for m in _TOKEN.finditer(body):
        tok = m.group()
        if parens:
            parens += (tok == "(") - (tok == ")")
            if tok[0] == '"' and key_next and last:
                yield ".".join(p for p in (*stack, last, tok.strip('"')) if p)
            key_next = tok == "key" or (key_next and tok == ":")
            continue
        if tok[0] in '"#':
            continue
        if tok == "(":
            parens = 1
            key_next = False
        elif tok == "{":
            stack.append(last if depth > 0 else "")
            depth += 1
            last = ""
        elif tok == "}":
            if stack:
                stack.pop()
            depth = max(0, depth - 1)
            last = ""
        elif tok == "...":
            skip_next = True
        elif tok == ":":
            last = ""  # `alias: field`: the field follows
        elif skip_next:
            skip_next = tok == "on"
        elif depth > 0:
            last = tok
            path = ".".join(p for p in (*stack, tok) if p)
            count += 1
            if count > _MAX_PATHS:
                return
            yield path
