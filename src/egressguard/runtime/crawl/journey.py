"""Journeys as data: a TOML file of steps, each an action with selectors tried in order.

    name = "luma"
    description = "Magento 2 Luma"

    [[step]]
    name = "search"
    action = "type"                          # goto | click | fill | type | press | select |
    selectors = ["#search", "input[name=q]"] #   check | hover | wait
    frame = "iframe#chat"                    # optional: look the selectors up in this iframe
    value = "jacket"                         # persona fields as {email}, {first_name}, ...
    wait = { load = "domcontentloaded", selector = ".products", quiet = 3000, ms = 500 }

Validation happens once, here: every error names the file and the step. Nothing here
touches a browser.
"""

from __future__ import annotations

import string
from dataclasses import dataclass
from enum import StrEnum
from importlib import resources
from pathlib import Path
from typing import Any

import tomli

from egressguard.errors import ConfigError
from egressguard.runtime.canary import PERSONA_FIELDS
from egressguard.runtime.traffic import Persona


class Action(StrEnum):
    GOTO = "goto"  # url (relative to the crawl's start URL)
    CLICK = "click"
    FILL = "fill"  # set the value at once
    TYPE = "type"  # key by key, so type-ahead and keyup listeners fire
    PRESS = "press"  # a key (value), on the first matching selector or the page
    SELECT = "select"  # an <option> by value or label
    CHECK = "check"
    HOVER = "hover"
    WAIT = "wait"  # only the step's wait


class Theme(StrEnum):
    LUMA = "luma"
    HYVA = "hyva"
    DAWN = "dawn"


class LoadState(StrEnum):
    LOAD = "load"
    DOMCONTENTLOADED = "domcontentloaded"
    NETWORKIDLE = "networkidle"


_NEEDS_SELECTORS = {
    Action.CLICK,
    Action.FILL,
    Action.TYPE,
    Action.SELECT,
    Action.CHECK,
    Action.HOVER,
}
_NEEDS_VALUE = {Action.FILL, Action.TYPE, Action.PRESS, Action.SELECT}
_STEP_KEYS = {"name", "action", "url", "frame", "selectors", "value", "wait", "timeout"}
_WAIT_KEYS = {"load", "selector", "quiet", "ms"}
_PLACEHOLDERS = frozenset((*PERSONA_FIELDS, "full_name"))


@dataclass(frozen=True, slots=True)
class Wait:
    """What to wait for after the action; each part that is set must succeed."""

    load: LoadState | None = None
    selector: str | None = None
    quiet: int = 0  # at most this many ms, until no request has been in flight for QUIET_WINDOW
    ms: int = 0  # a plain pause


@dataclass(frozen=True, slots=True)
class Step:
    name: str
    action: Action
    selectors: tuple[str, ...] = ()
    frame: str = ""  # selector of an <iframe> the selectors are looked up in ("": the page)
    url: str = ""
    value: str = ""  # may hold {persona_field} placeholders
    wait: Wait = Wait()
    timeout: float | None = None  # seconds; None: the crawl's per-step budget


@dataclass(frozen=True, slots=True)
class Journey:
    name: str
    steps: tuple[Step, ...]
    description: str = ""


def packaged_journey(theme: Theme) -> Journey:
    """One of the default journeys shipped in journeys/<theme>.toml."""
    text = resources.files(__package__).joinpath("journeys", f"{theme.value}.toml").read_text()
    return parse_journey(text, f"{theme.value}.toml")


def load_journey(path: Path) -> Journey:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"journey {path}: {exc.strerror or exc}") from exc
    return parse_journey(text, str(path))


def parse_journey(text: str, origin: str) -> Journey:
    try:
        data = tomli.loads(text)
    except tomli.TOMLDecodeError as exc:
        raise ConfigError(f"journey {origin}: {exc}") from exc
    raw_steps = data.get("step")
    if not isinstance(raw_steps, list) or not raw_steps:
        raise ConfigError(f"journey {origin}: no [[step]] entries")
    steps = tuple(_step(origin, i, raw) for i, raw in enumerate(raw_steps, 1))
    names = [s.name for s in steps]
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        raise ConfigError(f"journey {origin}: duplicate step name(s) {', '.join(dupes)}")
    return Journey(
        name=_text(data, "name", origin) or Path(origin).stem,
        description=_text(data, "description", origin),
        steps=steps,
    )


def _text(data: dict[str, Any], key: str, where: str) -> str:
    value = data.get(key, "")
    if not isinstance(value, str):
        raise ConfigError(f"journey {where}: {key} must be a string")
    return value


def _step(origin: str, index: int, raw: object) -> Step:
    if not isinstance(raw, dict):
        raise ConfigError(f"journey {origin}: step {index} is not a table")
    name = raw.get("name")
    where = (
        f"{origin}: step {index} ({name})" if isinstance(name, str) else f"{origin}: step {index}"
    )
    if not isinstance(name, str) or not name.strip():
        raise ConfigError(f"journey {where}: name must be a non-empty string")
    unknown = sorted(set(raw) - _STEP_KEYS)
    if unknown:
        raise ConfigError(f"journey {where}: unknown key(s) {', '.join(unknown)}")
    try:
        action = Action(str(raw.get("action")))
    except ValueError:
        allowed = ", ".join(a.value for a in Action)
        raise ConfigError(f"journey {where}: action must be one of {allowed}") from None
    step = Step(
        name=name,
        action=action,
        selectors=_selectors(raw.get("selectors", []), where),
        frame=_text(raw, "frame", where),
        url=_text(raw, "url", where),
        value=_text(raw, "value", where),
        wait=_wait(raw.get("wait", {}), where),
        timeout=_timeout(raw.get("timeout"), where),
    )
    _check_step(step, where)
    return step


def _selectors(value: object, where: str) -> tuple[str, ...]:
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(s, str) and s.strip() for s in value):
        raise ConfigError(f"journey {where}: selectors must be a list of non-empty strings")
    return tuple(value)


def _wait(value: object, where: str) -> Wait:
    if not isinstance(value, dict):
        raise ConfigError(f"journey {where}: wait must be a table (load, selector, quiet, ms)")
    unknown = sorted(set(value) - _WAIT_KEYS)
    if unknown:
        raise ConfigError(f"journey {where}: unknown wait key(s) {', '.join(unknown)}")
    load = value.get("load")
    try:
        state = LoadState(load) if load is not None else None
    except ValueError:
        raise ConfigError(
            f"journey {where}: wait.load must be load|domcontentloaded|networkidle"
        ) from None
    selector = value.get("selector")
    if selector is not None and (not isinstance(selector, str) or not selector.strip()):
        raise ConfigError(f"journey {where}: wait.selector must be a non-empty string")
    ms, quiet = (_millis(value, key, where) for key in ("ms", "quiet"))
    return Wait(load=state, selector=selector, quiet=quiet, ms=ms)


def _millis(value: dict[str, Any], key: str, where: str) -> int:
    ms = value.get(key, 0)
    if not isinstance(ms, int) or isinstance(ms, bool) or not 0 <= ms <= 60_000:
        raise ConfigError(f"journey {where}: wait.{key} must be an integer from 0 to 60000")
    return ms


def _timeout(value: object, where: str) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 < value <= 300:
        raise ConfigError(f"journey {where}: timeout must be a number of seconds in (0, 300]")
    return float(value)


def _check_step(step: Step, where: str) -> None:
    if step.action is Action.GOTO and not step.url:
        raise ConfigError(f"journey {where}: goto needs a url")
    if step.action in _NEEDS_SELECTORS and not step.selectors:
        raise ConfigError(f"journey {where}: {step.action.value} needs selectors")
    if step.action in _NEEDS_VALUE and not step.value:
        raise ConfigError(f"journey {where}: {step.action.value} needs a value")
    try:
        fields = {f for _, f, _, _ in string.Formatter().parse(step.value) if f is not None}
    except ValueError as exc:
        raise ConfigError(f"journey {where}: value: {exc}") from None
    unknown = sorted(fields - _PLACEHOLDERS)
    if unknown:
        known = ", ".join(sorted(_PLACEHOLDERS))
        raise ConfigError(f"journey {where}: unknown placeholder(s) {unknown}; known: {known}")


def step_value(step: Step, persona: Persona) -> str:
    """The step's value with the persona's values put in for its placeholders."""
    return step.value.format_map({**persona.fields(), "country": persona.country})
