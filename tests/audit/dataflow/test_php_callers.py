"""PHP callers: who injects a class (own module, dependent modules), which of them can change
the class file's flows (php_callers.relevant), and the per-module identifier map."""

from __future__ import annotations

from pathlib import Path

import pytest

from egressguard.audit.analysers.endpoints import EndpointAnalyser
from egressguard.audit.dataflow import php
from egressguard.audit.dataflow.flow import Flow
from egressguard.audit.dataflow.php_callers import _naming, callers, reach, relevant
from egressguard.audit.dataflow.php_context import FileCtx
from egressguard.audit.dataflow.php_symbols import ProjectIndex, file_unit
from egressguard.audit.project import Project
from egressguard.catalog import load_catalog
from egressguard.model import DataCategory as C
from tests.audit.helpers import module_registration, project_tree, source_file

CATALOG = load_catalog()


def _flows(project: Project, rel: str) -> list[Flow]:
    f = source_file(rel, (project.base / rel).read_text())
    f.project = project
    f.sites = tuple(EndpointAnalyser().analyse(f, CATALOG))
    return php.find_flows(f, CATALOG)


NOTIFIER = """<?php
namespace Acme\\Ai\\Model;
class Notifier {
    public function send(string $text) {
        $ch = curl_init('https://api.openai.com/v1/chat/completions');
        curl_setopt($ch, CURLOPT_POSTFIELDS, json_encode(['input' => $text]));
        return curl_exec($ch);
    }
}
"""
STORE = """<?php
namespace Acme\\Ai\\Model;
class Store {
    private $last = '';
    public function remember($value) { $this->last = $value; }
    public function recall() { return $this->last; }
}
"""
# Names Notifier only in a comment: it cannot reach it, but it fills the Store that BSend reads.
REMEMBER = """<?php
namespace Acme\\Ai\\Observer;
/** Feeds the Notifier through the Store. */
class ARemember {
    public function __construct(private \\Acme\\Ai\\Model\\Store $store) {}
    public function execute(\\Magento\\Sales\\Api\\Data\\OrderInterface $order) {
        $this->store->remember($order->getCustomerEmail());
    }
}
"""
SEND = """<?php
namespace Acme\\Ai\\Observer;
class BSend {
    public function __construct(
        private \\Acme\\Ai\\Model\\Store $store,
        private \\Acme\\Ai\\Model\\Notifier $notifier
    ) {}
    public function execute() {
        $this->notifier->send($this->store->recall());
    }
}
"""
# Names Notifier (a test double's name) but holds nothing the analysis follows into it.
MENTION = """<?php
namespace Acme\\Ai\\Test;
class NotifierTest {
    public function testSend() { $n = new \\Acme\\Ai\\Model\\Notifier(); $n->send('x'); }
}
"""


def _module(tmp_path: Path) -> Project:
    return project_tree(
        tmp_path,
        {
            "Ai/registration.php": module_registration("Acme_Ai"),
            "Ai/Model/Notifier.php": NOTIFIER,
            "Ai/Model/Store.php": STORE,
            "Ai/Observer/ARemember.php": REMEMBER,
            "Ai/Observer/BSend.php": SEND,
            "Ai/Test/NotifierTest.php": MENTION,
        },
    )


def test_a_caller_that_only_fills_a_shared_object_is_still_run(tmp_path: Path) -> None:
    project = _module(tmp_path)
    found = _flows(project, "Ai/Model/Notifier.php")
    assert [sorted(fl.categories) for fl in found] == [[C.CUSTOMER_PII]]
    files = [s.file for s in found[0].steps]
    assert files[0] == "Ai/Observer/ARemember.php"
    assert files[-1] == "Ai/Model/Notifier.php"


def test_relevant_keeps_the_chain_and_drops_callers_that_reach_nothing(tmp_path: Path) -> None:
    index = ProjectIndex(_module(tmp_path))
    unit = index.unit("Ai/Model/Notifier.php")
    assert unit is not None
    found = callers(index, unit, unit.classes[0])
    assert [c.unit.rel for c in found] == [
        "Ai/Observer/ARemember.php",
        "Ai/Observer/BSend.php",
        "Ai/Test/NotifierTest.php",
    ]
    kept = relevant(index, unit, found)
    assert [c.unit.rel for c in kept] == ["Ai/Observer/ARemember.php", "Ai/Observer/BSend.php"]


def test_reach_is_the_file_its_parent_and_its_injected_classes(tmp_path: Path) -> None:
    index = ProjectIndex(_module(tmp_path))
    send = index.unit("Ai/Observer/BSend.php")
    mention = index.unit("Ai/Test/NotifierTest.php")
    assert send is not None and mention is not None
    assert reach(index, send) == {
        "Ai/Observer/BSend.php",
        "Ai/Model/Store.php",
        "Ai/Model/Notifier.php",
    }
    assert reach(index, mention) == {"Ai/Test/NotifierTest.php"}


REQUIRES_AI = '{"name": "acme/module-shop", "require": {"acme/module-ai": "*"}}'


def test_a_caller_in_a_module_that_requires_it_by_composer_is_found(tmp_path: Path) -> None:
    caller = SEND.replace("Acme\\Ai\\Observer", "Acme\\Shop\\Observer").replace(
        "$this->store->recall()", "$order->getCustomerEmail()"
    )
    caller = caller.replace(
        "public function execute()",
        "public function execute(\\Magento\\Sales\\Api\\Data\\OrderInterface $order)",
    )
    project = project_tree(
        tmp_path,
        {
            "Ai/registration.php": module_registration("Acme_Ai"),
            "Ai/composer.json": '{"name": "acme/module-ai"}',
            "Ai/Model/Notifier.php": NOTIFIER,
            "Ai/Model/Store.php": STORE,
            "Shop/registration.php": module_registration("Acme_Shop"),
            "Shop/composer.json": REQUIRES_AI,
            "Shop/Observer/BSend.php": caller,
        },
    )
    found = _flows(project, "Ai/Model/Notifier.php")
    assert [sorted(fl.categories) for fl in found] == [[C.CUSTOMER_PII]]
    assert found[0].steps[0].file == "Shop/Observer/BSend.php"


@pytest.mark.parametrize(
    ("text", "named"),
    [
        ("private Notifier $n;", True),
        ("private NotifierFactory $f;", True),
        ("use Acme\\Ai\\Model\\Notifier;", True),
        ("private NotifierProxy $p;", False),
        ("private MyNotifier $m;", False),
        ("$notifier = 1;", False),
    ],
)
def test_a_class_is_named_by_its_whole_word_or_its_factory(
    tmp_path: Path, text: str, named: bool
) -> None:
    index = ProjectIndex(
        project_tree(
            tmp_path,
            {
                "Ai/registration.php": module_registration("Acme_Ai"),
                "Ai/Model/Other.php": f"<?php\nclass Other {{ {text} }}\n",
            },
        )
    )
    found = _naming(index, ["Ai"], {"Notifier"}, "Ai/Model/Notifier.php")
    assert [u.rel for u in found] == (["Ai/Model/Other.php"] if named else [])


def test_a_name_that_is_no_plain_identifier_is_still_searched(tmp_path: Path) -> None:
    index = ProjectIndex(
        project_tree(
            tmp_path,
            {
                "Ai/registration.php": module_registration("Acme_Ai"),
                "Ai/Model/Other.php": "<?php\nclass Other { private Café $c; }\n",
            },
        )
    )
    assert [u.rel for u in _naming(index, ["Ai"], {"Café"}, "")] == ["Ai/Model/Other.php"]


def test_the_sites_of_another_file_are_found_only_when_needed() -> None:
    unit = file_unit("Ai/Model/Store.php", STORE.encode())
    asked: list[str] = []

    def lookup() -> tuple[()]:
        asked.append(unit.rel)
        return ()

    ctx = FileCtx(unit, lookup)
    assert asked == []
    assert ctx.sites == () and ctx.sites == ()
    assert asked == ["Ai/Model/Store.php"]


def test_a_file_is_parsed_once_per_scan_unless_its_bytes_differ(tmp_path: Path) -> None:
    index = ProjectIndex(_module(tmp_path))
    held = STORE.encode()
    first = index.unit_of("Ai/Model/Store.php", held)
    assert index.unit("Ai/Model/Store.php") is first
    assert index.unit_of("Ai/Model/Store.php", bytes(held)) is first
    edited = index.unit_of("Ai/Model/Store.php", held.replace(b"recall", b"fetch"))
    assert edited is not first and "fetch" in edited.classes[0].methods
    assert index.unit("Ai/Model/Store.php") is first
