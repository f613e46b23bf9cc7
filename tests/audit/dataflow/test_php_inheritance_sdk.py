"""PHP: inherited request helpers, SDK clients by declared type, config URLs named for a
provider (issue 3's real-world gaps)."""

from __future__ import annotations

from pathlib import Path

import pytest

from egressguard.audit.analysers.endpoints import EndpointAnalyser
from egressguard.audit.dataflow import php
from egressguard.audit.dataflow.flow import Flow
from egressguard.audit.dataflow.php_sites import provider_words
from egressguard.audit.project import Project
from egressguard.catalog import load_catalog
from egressguard.model import Confidence, IntegrationSite
from egressguard.model import DataCategory as C
from tests.audit.helpers import module_registration, project_tree, source_file

CATALOG = load_catalog()


def _sites(rel: str, code: str, project: Project | None = None) -> list[IntegrationSite]:
    f = source_file(rel, code)
    f.project = project
    return list(EndpointAnalyser().analyse(f, CATALOG))


def _flows(rel: str, code: str, project: Project | None = None) -> list[Flow]:
    f = source_file(rel, code)
    f.project = project
    f.sites = tuple(EndpointAnalyser().analyse(f, CATALOG))
    return php.find_flows(f, CATALOG)


# --- inheritance one level, callers in a dependent module ---------------------------------

BASE = """<?php
namespace Acme\\Llm\\Model;
class Base {
    protected $url = '';
    protected function url() { return $this->url; }
    protected function call(array $data) {
        $ch = curl_init();
        curl_setopt($ch, CURLOPT_URL, $this->url());
        curl_setopt($ch, CURLOPT_POSTFIELDS, json_encode($data));
        return curl_exec($ch);
    }
    protected function audit(array $data) {
        $ch = curl_init('https://audit.acme.example/log');
        curl_setopt($ch, CURLOPT_POSTFIELDS, json_encode($data));
        return curl_exec($ch);
    }
}
"""
CHILD = """<?php
namespace Acme\\Llm\\Model;
class Moderate extends Base {
    protected $url = 'https://api.openai.com/v1/moderations';
    public function check(string $text) {
        $this->audit(['text' => $text]);
        return $this->call(['input' => $text]);
    }
}
"""
CALLER = """<?php
namespace Acme\\Reviews\\Model;
class Screen {
    public function __construct(private readonly \\Acme\\Llm\\Model\\Moderate $moderate) {}
    public function run(\\Magento\\Review\\Model\\Review $review) {
        return $this->moderate->check($review->getNickname());
    }
}
"""
DEPENDENT_MODULE_XML = (
    '<config><module name="Acme_Reviews"><sequence><module name="Acme_Llm"/></sequence>'
    "</module></config>"
)


def test_inherited_curl_reaches_the_subclass_endpoint_from_a_dependent_module(
    tmp_path: Path,
) -> None:
    project = project_tree(
        tmp_path,
        {
            "Llm/registration.php": module_registration("Acme_Llm"),
            "Llm/Model/Base.php": BASE,
            "Llm/Model/Moderate.php": CHILD,
            "Reviews/registration.php": module_registration("Acme_Reviews"),
            "Reviews/etc/module.xml": DEPENDENT_MODULE_XML,
            "Reviews/Model/Screen.php": CALLER,
        },
    )
    found = _flows("Llm/Model/Moderate.php", CHILD, project)
    assert [sorted(fl.categories) for fl in found] == [[C.CUSTOMER_PII]]
    flow = found[0]
    assert flow.site_file == "Llm/Model/Moderate.php" and flow.site.host == "api.openai.com"
    files = [s.file for s in flow.steps]
    assert files[0] == "Reviews/Model/Screen.php" and files[-1] == "Llm/Model/Base.php"
    assert flow.steps[-1].line == 9  # CURLOPT_POSTFIELDS of call(), not of audit()
    assert any("Base::call()" in s.note for s in flow.steps)


def test_without_the_dependency_the_other_module_is_not_a_caller(tmp_path: Path) -> None:
    project = project_tree(
        tmp_path,
        {
            "Llm/registration.php": module_registration("Acme_Llm"),
            "Llm/Model/Base.php": BASE,
            "Llm/Model/Moderate.php": CHILD,
            "Reviews/registration.php": module_registration("Acme_Reviews"),
            "Reviews/Model/Screen.php": CALLER,
        },
    )
    assert _flows("Llm/Model/Moderate.php", CHILD, project) == []


def test_a_subclass_with_a_non_ai_endpoint_is_not_an_ai_call(tmp_path: Path) -> None:
    erp = CHILD.replace("Moderate", "Erp").replace(
        "https://api.openai.com/v1/moderations", "https://erp.acme.example/api"
    )
    caller = """<?php
namespace Acme\\Llm\\Model;
class Screen {
    public function __construct(private Moderate $moderate, private Erp $erp) {}
    public function run(\\Magento\\Review\\Model\\Review $review) {
        $this->erp->check($review->getNickname());
        return $this->moderate->check('constant text');
    }
}
"""
    project = project_tree(
        tmp_path,
        {
            "Llm/registration.php": module_registration("Acme_Llm"),
            "Llm/Model/Base.php": BASE,
            "Llm/Model/Moderate.php": CHILD,
            "Llm/Model/Erp.php": erp,
            "Llm/Model/Screen.php": caller,
        },
    )
    assert _flows("Llm/Model/Moderate.php", CHILD, project) == []
    assert _flows("Llm/Model/Erp.php", erp, project) == []  # no AI site there at all


# --- SDK clients by declared type ----------------------------------------------------------

VENDOR = """<?php
namespace Acme\\Risk\\Model;
use Tidycode\\AIClient\\FraudDetection;
class Score {
    public function __construct(private readonly FraudDetection $client) {}
    public function run(\\Magento\\Sales\\Model\\Order $order) {
        $this->client->setTimeout(5);
        return $this->client->detectFraud(['email' => $order->getCustomerEmail()]);
    }
}
"""


def test_a_call_on_a_vendor_sdk_client_is_a_site_and_a_sink() -> None:
    sites = _sites("Model/Score.php", VENDOR)
    assert [(s.line, s.provider, s.host) for s in sites] == [
        (8, "tidycode", "sdk:tidycode/ai-php-sdk")
    ]
    found = _flows("Model/Score.php", VENDOR)
    assert cats_of(found) == {C.CUSTOMER_PII}
    assert "tidycode/ai-php-sdk ->detectFraud()" in found[0].steps[-1].note


def test_a_project_subclass_of_an_sdk_class_is_a_client(tmp_path: Path) -> None:
    client = (
        "<?php\nnamespace Acme\\Faq\\Model;\nuse Orhanerday\\OpenAi\\OpenAi;\n"
        "class ShopAi extends OpenAi {}\n"
    )
    guzzle = "<?php\nnamespace Acme\\Faq\\Model;\nclass Carrier extends \\GuzzleHttp\\Client {}\n"
    handler = """<?php
namespace Acme\\Faq\\Model;
class Answer {
    public function __construct(private ShopAi $ai, private Carrier $carrier) {}
    public function run(string $q) {
        $this->carrier->track($q);
        return $this->ai->chat(['messages' => [['content' => $q]]]);
    }
}
"""
    project = project_tree(
        tmp_path,
        {
            "registration.php": module_registration("Acme_Faq"),
            "Model/ShopAi.php": client,
            "Model/Carrier.php": guzzle,
            "Model/Answer.php": handler,
        },
    )
    sites = _sites("Model/Answer.php", handler, project)
    assert [(s.line, s.provider, s.host) for s in sites] == [(7, "openai", "api.openai.com")]


def test_sdk_calls_in_unit_tests_are_not_sites() -> None:
    assert _sites("Test/Unit/Model/ScoreTest.php", VENDOR) == []


def cats_of(flows: list[Flow]) -> set[C]:
    return {c for fl in flows for c in fl.categories}


# --- config URLs named for a provider ------------------------------------------------------

SWITCH = """<?php
namespace Acme\\Ai\\Model;
class Client {
    const XML_URL = 'acme_ai/general/api_url';
    public function ask(string $prompt) {
        $provider = $this->scopeConfig->getValue('acme_ai/general/provider');
        $url = $this->scopeConfig->getValue(self::XML_URL);
        switch ($provider) {
            case 'openai':
                $this->curl->post($url, json_encode(['prompt' => $prompt]));
                break;
            case 'gemini':
                $this->curl->post(rtrim($url, '/') . '?key=x', json_encode(['p' => $prompt]));
                break;
        }
        if ($provider === 'claude') {
            $this->curl->post($url, $prompt);
        } else {
            $this->curl->post($url, $prompt);
        }
        $model = match ($provider) { 'openai' => 'gpt-4o', default => 'x' };
        $this->curl->post($url, $model);
        $this->curl->post($this->scopeConfig->getValue('acme_ai/mistral/endpoint'), $prompt);
    }
}
"""


def test_config_urls_take_the_provider_of_their_branch_or_path() -> None:
    sites = _sites("Model/Client.php", SWITCH)
    got = [(s.line, s.provider, s.host, s.confidence) for s in sites]
    assert got == [
        (10, "openai", "api.openai.com", Confidence.MEDIUM),
        (13, "google-gemini", "generativelanguage.googleapis.com", Confidence.MEDIUM),
        (17, "anthropic", "api.anthropic.com", Confidence.MEDIUM),
        (23, "mistral", "api.mistral.ai", Confidence.MEDIUM),
    ]  # the else branch (19) and the call after the match (22) name no provider


@pytest.mark.parametrize(
    ("word", "provider"),
    [("openai", "openai"), ("claude", "anthropic"), ("gemini", "google-gemini"),
     ("mistral", "mistral"), ("azure", "azure-openai")],
)  # fmt: skip
def test_provider_words(word: str, provider: str) -> None:
    assert provider_words(CATALOG)[word] == provider


def test_generic_words_name_no_provider() -> None:
    words = provider_words(CATALOG)
    assert not {"google", "api", "ai", "model", "cloud"} & set(words)


# --- switch cases are separate paths -------------------------------------------------------

CASES = """<?php
namespace Acme\\Ai\\Model;
class Cases {
    const URL = 'https://api.openai.com/v1/chat/completions';
    public function run(string $mode, \\Magento\\Sales\\Model\\Order $order) {
        switch ($mode) {
            case 'mail':
                $body = ['to' => $order->getCustomerEmail()];
                $this->mailer->post('https://mail.acme.example/send', $body);
                break;
            case 'ai':
                $body = ['total' => $order->getGrandTotal()];
                $this->client->post(self::URL, ['json' => $body]);
                break;
        }
        $this->client->post(self::URL, ['json' => $body ?? []]);
    }
}
"""


def test_a_case_does_not_see_what_another_case_assigned() -> None:
    found = _flows("Model/Cases.php", CASES)
    by_line = {fl.steps[-1].line: fl.categories for fl in found}
    assert by_line[13] == frozenset({C.ORDER})  # not the e-mail of the 'mail' case
    after = {c for fl in found if fl.steps[-1].line == 16 for c in fl.categories}
    assert after == {C.CUSTOMER_PII, C.ORDER}  # after the switch: what any case left
