r"""Magento admin configuration (system.xml): the credential fields it declares.

Two dialects, one AdminField per `<field>`:

    Magento 2   etc/adminhtml/system.xml (and system/*.xml includes):
                <section id="s"><group id="g"><field id="api_key" type="obscure">
                  <backend_model>Magento\Config\Model\Config\Backend\Encrypted</backend_model>
    Magento 1   app/code/<pool>/<Vendor>/<Module>/etc/system.xml (OpenMage):
                <sections><s><groups><g><fields><api_key>
                  <frontend_type>obscure</frontend_type>
                  <backend_model>adminhtml/system_config_backend_encrypted</backend_model>

Parsed with expat from the standard library: it gives line numbers, fetches nothing, expands
no external entities, and entity declarations are refused here (MalformedInput), which rules out
entity-expansion bombs without a third-party parser.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from xml.parsers import expat

from egressguard.audit.analysers.base import MalformedInput
from egressguard.audit.analysers.credential_names import names_ai, names_credential

_ENCRYPTED = "Magento\\Config\\Model\\Config\\Backend\\Encrypted"
# Magento 1: the class alias and the class it resolves to.
_M1_ENCRYPTED = frozenset(
    {
        "adminhtml/system_config_backend_encrypted",
        "mage_adminhtml_model_system_config_backend_encrypted",
    }
)
_SCOPES = frozenset({"section", "group", "field"})
_TEXT_CHILDREN = frozenset({"label", "backend_model", "config_path", "resource"})
# Magento 1: the container element above each scope level, and the texts read per scope.
_M1_LEVELS = {"sections": "section", "groups": "group", "fields": "field"}
_M1_TEXT_CHILDREN = frozenset({"label", "backend_model", "frontend_type"})
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
        """The core Encrypted backend (or a class named …Encrypted that extends it); Magento 1:
        `adminhtml/system_config_backend_encrypted` or a `…_encrypted` alias/class."""
        model = self.backend_model.strip().lstrip("\\")
        if model == _ENCRYPTED or model.rsplit("\\", 1)[-1].endswith("Encrypted"):
            return True
        lower = model.lower()
        return lower in _M1_ENCRYPTED or ("\\" not in lower and lower.endswith("_encrypted"))

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
            self._text_tag = None
            line = self._parser.CurrentLineNumber
            self._scopes.append(_Scope(tag, attrs.get("id", ""), line, attrs.get("type", "")))
        elif tag in _TEXT_CHILDREN and self._scopes:
            self._text_tag = tag
            self._scopes[-1].texts[tag] = ""

    def text(self, data: str) -> None:
        if self._text_tag is not None and self._scopes:
            texts = self._scopes[-1].texts
            texts[self._text_tag] = texts.get(self._text_tag, "") + data

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
            [self._module]
            + [
                f"{s.id} {s.texts.get('label', '')} {s.texts.get('resource', '')}"
                for s in self._scopes
            ]
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


class _M1Collector:
    """expat handlers for the Magento 1 dialect: element names are the ids.

    `<sections>` holds sections, a section's `<groups>` its groups, a group's `<fields>` its
    fields; each scope's `<label>`, `<frontend_type>` and `<backend_model>` are its texts.
    """

    def __init__(self, parser: expat.XMLParserType, module: str) -> None:
        self._parser = parser
        self._module = module
        self._stack: list[str] = []
        self._scopes: list[_Scope] = []
        self._depths: list[int] = []  # stack depth of each open scope
        self._text_tag: str | None = None
        self.fields: list[AdminField] = []

    def start(self, tag: str, attrs: dict[str, str]) -> None:
        parent = self._stack[-1] if self._stack else ""
        expected = _M1_LEVELS.get(parent)
        self._text_tag = None
        if expected is not None and expected == _M1_NEXT[len(self._scopes)]:
            line = self._parser.CurrentLineNumber
            self._scopes.append(_Scope(expected, tag, line, attrs.get("module", "")))
            self._depths.append(len(self._stack))
        elif tag in _M1_TEXT_CHILDREN and self._scopes and self._depths[-1] == len(self._stack) - 1:
            self._text_tag = tag
            self._scopes[-1].texts[tag] = ""
        self._stack.append(tag)

    def text(self, data: str) -> None:
        if self._text_tag is not None and self._scopes:
            texts = self._scopes[-1].texts
            texts[self._text_tag] = texts.get(self._text_tag, "") + data

    def end(self, tag: str) -> None:
        self._text_tag = None
        if self._stack:
            self._stack.pop()
        if self._depths and self._depths[-1] == len(self._stack):
            self._depths.pop()
            scope = self._scopes.pop()
            if scope.tag == "field":
                self.fields.append(self._field(scope))

    def _field(self, scope: _Scope) -> AdminField:
        ids = [s.id for s in self._scopes] + [scope.id]
        context = " ".join(
            [self._module] + [f"{s.id} {s.type} {s.texts.get('label', '')}" for s in self._scopes]
        )
        return AdminField(
            field_id=scope.id,
            path="/".join(ids),
            label=" ".join(scope.texts.get("label", "").split()),
            context=context,
            line=scope.line,
            type=scope.texts.get("frontend_type", "").strip().lower(),
            backend_model=scope.texts.get("backend_model", ""),
        )


# The scope a Magento 1 container may open next, by the number of scopes already open.
_M1_NEXT = ("section", "group", "field", "")


def _refuse_entities(*_: object) -> None:
    raise MalformedInput("XML entity declarations are not accepted in system.xml")


def admin_fields(text: str, module: str = "", *, magento1: bool = False) -> list[AdminField]:
    """Every field of a system.xml (or an included system/*.xml) document.

    `magento1`: the document is a Magento 1 etc/system.xml (element names are the ids).
    """
    parser = expat.ParserCreate()
    parser.SetParamEntityParsing(expat.XML_PARAM_ENTITY_PARSING_NEVER)
    collector: _Collector | _M1Collector = (
        _M1Collector(parser, module) if magento1 else _Collector(parser, module)
    )
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


def is_credential(f: AdminField, extra_words: Iterable[str] = ()) -> bool:
    """A field holding a secret: credential-named id or label, or an obscured/password input.

    `extra_words`: the catalogue's credential_words, matched in the compacted id/label.
    """
    if f.type in _NOT_A_VALUE:
        return False
    return (
        names_credential(f.field_id, extra_words)
        or names_credential(f.label, extra_words)
        or f.type in _SECRET_TYPES
    )


def names_ai_itself(f: AdminField) -> bool:
    """The field, its section/groups (ids, labels, ACL resource) or its module name say AI."""
    return names_ai(f"{f.path} {f.label} {f.context}")


def is_ai_credential(f: AdminField) -> bool:
    """A field holding an AI provider's secret: credential-named (or obscured), AI context."""
    return is_credential(f) and names_ai_itself(f)


def credential_fields(
    text: str, module: str = "", *, magento1: bool = False, extra_words: Iterable[str] = ()
) -> Iterator[AdminField]:
    """The credential fields of a system.xml document, AI-related or not."""
    fields = admin_fields(text, module, magento1=magento1)
    return (f for f in fields if is_credential(f, extra_words))
