"""JavaScript/TypeScript data flow one level across files (imports, require, re-exports not
followed), per-call SDK sites, and field-sensitive arguments of functions whose callers are
all known."""

from __future__ import annotations

from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from egressguard.audit.dataflow import javascript
from egressguard.audit.dataflow.flow import Flow
from egressguard.audit.dataflow.js_eval import Context, Evaluator
from egressguard.audit.dataflow.js_modules import (
    ModuleGraph,
    _json_with_comments,
    exported_functions,
    imported_names,
)
from egressguard.audit.dataflow.js_scope import Index
from egressguard.audit.dataflow.parse import parse
from egressguard.audit.project import Project
from egressguard.catalog import load_catalog
from egressguard.catalog.dataflow_rules import load_dataflow_rules
from egressguard.model import Language
from tests.audit.dataflow.js_helpers import prepared
from tests.audit.helpers import project_tree

SERVICE = """import OpenAI from "openai";
const openai = new OpenAI();

function framing(ctx) {
  const { shopper, topic } = ctx;
  let s = "Topic: " + topic;
  if (shopper?.firstName) { s += " for " + shopper.firstName; }
  return s;
}

export async function answer(question, ctx) {
  return openai.chat.completions.create({
    messages: [{ role: "system", content: framing(ctx) }, { role: "user", content: question }],
  });
}

export async function classify(text, mode) {
  console.log(mode);
  return openai.chat.completions.create({ messages: [{ role: "user", content: "constant" }] });
}
"""

ROUTE = """import { answer, classify } from "~/services/assist.server";

export async function action({ request }) {
  const body = await request.json();
  const { question, email } = body;
  await classify(question, email);
  return answer(question, { topic: "sizes", shopper: { email } });
}
"""


def _flows(project: Project, rel: str) -> list[Flow]:
    f = prepared(rel, (project.base / rel).read_text())
    f.project = project
    return javascript.find_flows(f, load_catalog())


def _by_line(flows: list[Flow]) -> dict[int, set[str]]:
    out: dict[int, set[str]] = {}
    for fl in flows:
        out.setdefault(fl.steps[-1].line, set()).update(c.value for c in fl.categories)
    return out


TSCONFIG = '{ // paths\n "compilerOptions": { "baseUrl": ".", "paths": {"~/*": ["./app/*"]}, },\n}'


def test_caller_in_another_file_reaches_the_sdk_call(tmp_path: Path) -> None:
    project = project_tree(
        tmp_path,
        {
            "package.json": "{}",
            "tsconfig.json": TSCONFIG,
            "app/services/assist.server.ts": SERVICE,
            "app/routes/api.assist.ts": ROUTE,
        },
    )
    found = _flows(project, "app/services/assist.server.ts")
    # the question reaches the answer call; `email` is passed but never read; the
    # parameter that only goes to console.log never reaches the second call
    assert _by_line(found) == {12: {"shopper_text"}}
    trace = min(found, key=lambda fl: len(fl.steps)).steps
    assert trace[0].file == "app/routes/api.assist.ts" and "request.json()" in trace[0].note
    assert any(s.file == "app/routes/api.assist.ts" and s.line == 7 for s in trace)
    assert trace[-1].file == "app/services/assist.server.ts" and trace[-1].line == 12


def test_without_the_callers_the_field_name_is_still_a_guess(tmp_path: Path) -> None:
    project = project_tree(
        tmp_path, {"package.json": "{}", "app/services/assist.server.ts": SERVICE}
    )
    found = _flows(project, "app/services/assist.server.ts")
    assert _by_line(found) == {12: {"customer_pii"}}  # shopper.firstName, by name (medium)
    assert {fl.confidence.value for fl in found} == {"medium"}


def test_require_and_module_exports(tmp_path: Path) -> None:
    lib = (
        "const OpenAI = require('openai');\nconst openai = new OpenAI();\n"
        "async function draft(reason) {\n"
        "  return openai.chat.completions.create({\n"
        "    messages: [{ role: 'user', content: reason }] });\n"
        "}\nmodule.exports = { draft };\n"
    )
    route = (
        "const { draft } = require('../lib/writer');\n"
        "router.post('/r', async (req, res) => { res.json(await draft(req.body.reason)); });\n"
    )
    project = project_tree(
        tmp_path, {"package.json": "{}", "lib/writer.js": lib, "routes/r.js": route}
    )
    assert _by_line(_flows(project, "lib/writer.js")) == {4: {"shopper_text"}}
    # without the route, nobody passes anything to `draft`
    (tmp_path / "routes/r.js").unlink()
    assert _flows(project_tree(tmp_path, {}), "lib/writer.js") == []


def test_callers_passing_constants_send_nothing(tmp_path: Path) -> None:
    lib = (
        "import OpenAI from 'openai';\nconst openai = new OpenAI();\n"
        "async function translate(text, lang) {\n"
        "  return openai.chat.completions.create({ messages: [{ role: 'user', "
        "content: `${lang}: ${text}` }] });\n"
        "}\nexport default { translate };\n"
    )
    job = "import t from '../ai/t.js';\nexport const run = () => t.translate('Hello', 'de');\n"
    project = project_tree(
        tmp_path, {"package.json": "{}", "src/ai/t.js": lib, "src/jobs/j.js": job}
    )
    assert _flows(project, "src/ai/t.js") == []


def test_each_sdk_call_is_its_own_site() -> None:
    code = (
        "import OpenAI from 'openai';\nconst openai = new OpenAI();\n"
        "export async function a(req) {\n  const q = (await req.json()).q;\n"
        "  await openai.chat.completions.create({ messages: [{ role: 'user', content: q }] });\n"
        "  await openai.chat.completions.create({ messages: [{ role: 'user', content: 'x' }] });\n"
        "}\n"
    )
    f = prepared("app/routes/a.ts", code)
    assert sorted(s.line for s in f.sites) == [2, 5, 6]
    found = javascript.find_flows(f, load_catalog())
    assert {fl.site.line for fl in found} == {5}


def test_module_graph_resolves_relative_alias_and_index(tmp_path: Path) -> None:
    project = project_tree(
        tmp_path,
        {
            "package.json": "{}",
            "tsconfig.json": TSCONFIG,
            "app/lib/index.ts": "export const x = 1;",
            "app/lib/ai.server.ts": "export function f() {}",
            "app/a.ts": "import { x } from './lib';\nimport { f } from '~/lib/ai.server';",
            "node_modules/p/index.js": "import { f } from '../../app/lib/ai.server';",
        },
    )
    graph = ModuleGraph(project)
    assert graph.importers("app/lib/index.ts") == ["app/a.ts"]
    assert graph.importers("app/lib/ai.server.ts") == ["app/a.ts"]  # node_modules not walked
    assert graph.resolver("app/a.ts")("openai") is None


def test_exports_and_imports_are_read() -> None:
    src = (
        "export function a(x) {}\nexport const b = (y) => y;\nfunction c() {}\n"
        "export { c as d };\nexport default { a, e: c };\n"
    )
    index = Index(parse(Language.TYPESCRIPT, src.encode()))
    ev = Evaluator(Context(rel="m.ts", index=index, rules=load_dataflow_rules()))
    exported = exported_functions(index, ev.functions_named)
    assert {k for k, fns in exported.items() if fns} == {"a", "b", "d", "default.a", "default.e"}
    code = (
        b"import d, { e as f } from './m';\nconst g = require('./m');\nconst { h } = require('x');"
    )
    got = imported_names(
        Index(parse(Language.JAVASCRIPT, code)), lambda spec: "m.js" if spec == "./m" else None
    )
    assert {k: v.name for k, v in got.items()} == {"d": "default", "f": "e", "g": "*"}


def test_tsconfig_with_comments_and_trailing_commas() -> None:
    assert _json_with_comments(TSCONFIG)["compilerOptions"] == {
        "baseUrl": ".",
        "paths": {"~/*": ["./app/*"]},
    }
    assert _json_with_comments("{ nope") == {}


_SRC = st.lists(
    st.sampled_from(
        [
            "import ", "export ", "default ", "{ a, b as c }", " from ", "'./m'", "require(",
            "module.exports = ", "exports.x = ", "function f(p) {}", "const ", "= ", "(", ")",
            "{", "}", ";", "\n", "* as ns", "async ", "=>", "a", ",",
        ]
    ),
    max_size=40,
).map("".join)  # fmt: skip


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_SRC)
def test_module_readers_never_raise(src: str) -> None:
    index = Index(parse(Language.TYPESCRIPT, src.encode()))
    exported = exported_functions(index, lambda node: [])
    assert all(isinstance(k, str) for k in exported)
    got = imported_names(index, lambda spec: spec)
    assert all(v.module for v in got.values())


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.text(max_size=200))
def test_tsconfig_reader_never_raises(raw: str) -> None:
    assert isinstance(_json_with_comments(raw), dict)


def test_a_barrel_that_re_exports_is_followed_one_step(tmp_path: Path) -> None:
    project = project_tree(
        tmp_path,
        {
            "package.json": "{}",
            "app/services/assist.server.ts": SERVICE,
            "app/services/index.ts": "export { answer as reply } from './assist.server';\n",
            "app/routes/api.ts": (
                "import { reply } from '../services';\n"
                "export async function action({ request }) {\n"
                "  const { question } = await request.json();\n"
                "  return reply(question, { topic: 'x' });\n}\n"
            ),
        },
    )
    found = _flows(project, "app/services/assist.server.ts")
    assert _by_line(found) == {12: {"shopper_text"}}
    assert found[0].steps[0].file == "app/routes/api.ts"
