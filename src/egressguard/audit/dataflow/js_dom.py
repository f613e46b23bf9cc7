"""How browser code reads what a shopper typed: DOM and jQuery form controls.

An expression that yields an element (`document.querySelector('#email')`, `$('#email')`,
`$(this).find('input[name="message"]')`, `form.elements.message`, `event.target`) carries an
element marker with a field hint; reading `.value`, calling `.val()` or `new FormData(el)`
then yields shopper data. The hint's field name is classified by fields.toml (`#email` ->
customer_pii); anything else typed into a page is shopper_text.
"""

from __future__ import annotations

import re

from egressguard.model import DataCategory

# Calls that return an element (by the callee's last member; `$`/`jQuery` as functions).
ELEMENT_CALLS = frozenset(
    {
        "querySelector",
        "querySelectorAll",
        "getElementById",
        "getElementsByName",
        "getElementsByClassName",
        "getElementsByTagName",
        "closest",
        "find",
        "namedItem",
        "$",
        "jQuery",
        "$j",
    }
)
# Element calls whose argument is an id or name, not a selector.
BY_NAME_CALLS = frozenset({"getElementById", "getElementsByName", "namedItem"})
# Properties that yield an element (`form.elements`, `event.target`); a property read on an
# element yields an element named after the property (`form.elements.message`).
ELEMENT_MEMBERS = frozenset({"elements", "target", "currentTarget", "form", "srcElement"})
VALUE_MEMBERS = frozenset({"value", "innerText"})
VALUE_CALLS = frozenset({"val"})
# How a script reads a JSON data island (`<script type="application/json" id="…">`).
CONTENT_MEMBERS = frozenset({"textContent", "innerHTML", "innerText", "text"})
FORM_DATA = frozenset({"FormData", "URLSearchParams"})
# Element properties that are not what the shopper typed.
NOT_VALUE = frozenset({"dataset", "classList", "style", "id", "className", "name", "type"})
# A variable or parameter with one of these names holds a form control (`input.value`).
INPUT_NAME = re.compile(
    r"(?i)^\$?(?:input|textarea|field|msg|message|question|query|prompt|search|searchinput"
    r"|chatinput|userinput|textbox|textfield|composer)(?:el|elem|element|field|input|box|node)?$"
)
# The field name in a selector: `#email`, `[name="telephone"]`, `input[name=message]`.
_SELECTOR_NAME = re.compile(r"""\[\s*(?:name|id)\s*[*^$~|]?=\s*['"]?([\w\[\].-]+)|#([\w-]+)""")
DEFAULT = DataCategory.SHOPPER_TEXT


def hint_of_selector(selector: str) -> str:
    """The field name a selector points at ("" when it names none)."""
    m = _SELECTOR_NAME.search(selector)
    if m is None:
        return ""
    return (m.group(1) or m.group(2) or "").replace("[", "_").replace("]", "")
