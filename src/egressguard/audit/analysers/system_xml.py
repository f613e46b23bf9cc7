"""Magento 2 admin configuration (etc/adminhtml/system.xml): the AI credential fields it declares.

Parsed with expat from the standard library: it gives line numbers, fetches nothing, expands
no external entities, and entity declarations are refused here (MalformedInput), which rules out
entity-expansion bombs without a third-party parser.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from xml.parsers import expat

from egressguard.audit.analysers.base import MalformedInput
from egressguard.audit.analysers.credential_names import names_ai, names_credential

_ENCRYPTED = "Magento\\Config\\Model\\Config\\Backend\\Encrypted"
_SCOPES = frozenset({"section", "group", "field"})
_TEXT_CHILDREN = frozenset({"label", "backend_model", "config_path"})
_SECRET_TYPES = frozenset({"obscure", "password"})
_NOT_A_VALUE = frozenset({"select", "multiselect", "button", "label", "note", "image", "file"})


@dataclass(frozen=True, slots=True)
class AdminField:
    field_id: str
    path: str  # <config_path>, else the section/group…/field ids joined by "/"
    label: str
    context: str  # ids and labels of the enclosing section and groups, and the module
    line: int
    type: str
    backend_model: str

    @property
    def encrypted(self) -> bool:
        """The core Encrypted backend (or a class named …Encrypted that extends it)."""
        model = self.backend_model.strip().lstrip("\\")
        return model == _ENCRYPTED or model.rsplit("\\", 1)[-1].endswith("Encrypted")

    @property
    def obscure(self) -> bool:
        return self.type == "obscure"


@dataclass
class _Scope:
    tag: str
    id: str
    line: int
    type: str
    texts: dict[str, str] = field(default_factory=dict)


class _Collector:
    """expat handlers that collect every <field> with its enclosing sections and groups."""

    def __init__(self, parser: expat.XMLParserType, module: str) -> None:
        self._parser = parser
        self._module = module
        self._scopes: list[_Scope] = []
        self._text_tag: str | None = None
        self.fields: list[AdminField] = []

    def start(self, tag: str, attrs: dict[str, str]) -> None:
        if tag in _SCOPES:
            line = self._parser.CurrentLineNumber
            self._scopes.append(_Scope(tag, attrs.get("id", ""), line, attrs.get("type", "")))
        elif tag in _TEXT_CHILDREN and self._scopes:
            self._text_tag = tag
            self._scopes[-1].texts[tag] = ""

    def text(self, data: str) -> None:
        if self._text_tag is not None:
            self._scopes[-1].texts[self._text_tag] += data

    def end(self, tag: str) -> None:
        if tag == self._text_tag:
            self._text_tag = None
        elif tag in _SCOPES and self._scopes:
            scope = self._scopes.pop()
            if tag == "field":
                self.fields.append(self._field(scope))

    def _field(self, scope: _Scope) -> AdminField:
        ids = [s.id for s in self._scopes] + [scope.id]
        context = " ".join(
            [self._module] + [f"{s.id} {s.texts.get('label', '')}" for s in self._scopes]
        )
        return AdminField(
            field_id=scope.id,
            path=scope.texts.get("config_path", "").strip() or "/".join(ids),
            label=" ".join(scope.texts.get("label", "").split()),
            context=context,
            line=scope.line,
            type=scope.type,
            backend_model=scope.texts.get("backend_model", ""),
        )


def _refuse_entities(*_: object) -> None:
    raise MalformedInput("XML entity declarations are not accepted in system.xml")


def admin_fields(text: str, module: str = "") -> list[AdminField]:
    """Every <field> of a system.xml (or an included system/*.xml) document."""
    parser = expat.ParserCreate()
    parser.SetParamEntityParsing(expat.XML_PARAM_ENTITY_PARSING_NEVER)
    collector = _Collector(parser, module)
    parser.StartElementHandler = collector.start
    parser.EndElementHandler = collector.end
    parser.CharacterDataHandler = collector.text
    parser.EntityDeclHandler = _refuse_entities
    try:
        parser.Parse(text, True)
    except expat.ExpatError as exc:
        raise MalformedInput(
            f"malformed XML: {expat.ErrorString(exc.code)} at line {exc.lineno}"
        ) from exc
    return collector.fields


def is_ai_credential(f: AdminField) -> bool:
    """A field holding an AI provider's secret: credential-named (or obscured), AI context."""
    if f.type in _NOT_A_VALUE:
        return False
    credential = (
        names_credential(f.field_id) or names_credential(f.label) or f.type in _SECRET_TYPES
    )
    return credential and names_ai(f"{f.path} {f.label} {f.context}")


def credential_fields(text: str, module: str = "") -> Iterator[AdminField]:
    """The AI credential fields of a system.xml document."""
    return (f for f in admin_fields(text, module) if is_ai_credential(f))
