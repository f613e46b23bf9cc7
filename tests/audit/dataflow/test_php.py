"""PHP/Magento data flow: source families, sinks, propagation, sanitisers, DI, parse errors."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from egressguard.audit.analysers.base import SourceFile
from egressguard.audit.analysers.endpoints import EndpointAnalyser
from egressguard.audit.dataflow import php
from egressguard.audit.dataflow.flow import Flow
from egressguard.audit.project import Project
from egressguard.catalog import load_catalog
from egressguard.model import DataCategory as C
from tests.audit.helpers import module_registration, project_tree, source_file

CATALOG = load_catalog()
URL = "https://api.openai.com/v1/chat/completions"


def flows_of(code: str, rel: str = "Model/X.php", project: Project | None = None) -> list[Flow]:
    f = source_file(rel, code)
    f.project = project
    f.sites = tuple(EndpointAnalyser().analyse(f, CATALOG))
    return php.find_flows(f, CATALOG)


def cats(flows: list[Flow]) -> set[C]:
    return {c for fl in flows for c in fl.categories}


def method(body: str, params: str = "OrderInterface $order", extra: str = "") -> str:
    return f"""<?php
namespace Acme\\Ai\\Model;
class X {{
    private const URL = '{URL}';
    public function __construct(private readonly Client $client) {{}}
    {extra}
    public function run({params}) {{
{body}
    }}
}}
"""


SEND = "$this->client->post(self::URL, ['json' => ['messages' => [['content' => $prompt]]]]);"


@pytest.mark.parametrize(
    ("expr", "params", "category"),
    [
        ("$order->getCustomerEmail()", "OrderInterface $order", C.CUSTOMER_PII),
        ("$order->getBillingAddress()->getStreet()[0]", "OrderInterface $order", C.CUSTOMER_PII),
        ("$order->getPayment()->getCcLast4()", "OrderInterface $order", C.PAYMENT),
        ("json_encode($order->getPayment()->getAdditionalInformation())", "$order", C.PAYMENT),
        ("$order->getGrandTotal()", "OrderInterface $order", C.ORDER),
        ("$this->checkoutSession->getQuote()->getGrandTotal()", "", C.CART),
        ("$this->customerSession->getCustomer()->getName()", "", C.CUSTOMER_PII),
        ("$this->request->getParam('q')", "", C.SHOPPER_TEXT),
        ("$_POST['message']", "", C.SHOPPER_TEXT),
        ("$_SERVER['REMOTE_ADDR']", "", C.CUSTOMER_PII),
        ("$product->getData('cost')", "ProductInterface $product", C.PROPRIETARY_PRICING),
        (
            "$product->getCustomAttribute('supplier')",
            "ProductInterface $product",
            C.PROPRIETARY_PRICING,
        ),
        ("$product->getDescription()", "ProductInterface $product", C.CATALOG),
        ("json_encode($customer->getData())", "$customer", C.BULK_EXPORT),
        ("file_get_contents(BP . '/var/log/system.log')", "", C.BULK_EXPORT),
        ("$row->getKundenEmail()", "$row", C.CUSTOMER_PII),
        ("$data['telephone']", "array $data", C.CUSTOMER_PII),
    ],
)
def test_source_families(expr: str, params: str, category: C) -> None:
    found = flows_of(method(f"$prompt = 'x' . {expr};\n{SEND}", params))
    assert category in cats(found)


def test_receiver_decides_getname() -> None:
    product = flows_of(
        method(f"$prompt = $product->getName();\n{SEND}", "ProductInterface $product")
    )
    customer = flows_of(
        method(f"$prompt = $customer->getName();\n{SEND}", "CustomerInterface $customer")
    )
    assert cats(product) == {C.CATALOG}
    assert cats(customer) == {C.CUSTOMER_PII}


def typed(params: str, body: str, uses: str = "", injected: str = "") -> str:
    """A class whose run() sends `$prompt`, with `use` lines and injected properties."""
    return f"""<?php
namespace Acme\\Ai\\Model;
{uses}
class X {{
    public function __construct(private readonly Client $client{injected}) {{}}
    public function run({params}) {{
$prompt = json_encode({body});
$this->client->post('{URL}', ['json' => ['messages' => [['content' => $prompt]]]]);
    }}
}}
"""


_HTTP = "use Magento\\Framework\\App\\RequestInterface;"
_DTO = "use Acme\\Ai\\Api\\Data\\AiRequestInterface;"


@pytest.mark.parametrize(
    ("params", "body", "uses", "injected"),
    [
        ("RequestInterface $request", "$request->getParams()", _HTTP, ""),
        ("\\Magento\\Framework\\App\\RequestInterface $request", "$request->getParam('q')", "", ""),
        (
            "?HttpRequest $request",
            "$request->getPostValue()",
            "use Magento\\Framework\\App\\Request\\Http as HttpRequest;",
            "",
        ),
        ("", "$this->request->getParam('q')", _HTTP, ", private RequestInterface $request"),
        ("$request", "$request->getParams()", "", ""),
        ("mixed $request", "$request->getParams()", "", ""),
        ("", "$this->getRequest()->getParams()", _DTO, ""),
        ("", "$this->context->getRequest()->getParam('q')", "", ", private Context $context"),
        # reassigned: no longer the parameter's class
        ("AiRequestInterface $request", "($request = $this->getRequest())->getParams()", _DTO, ""),
    ],
)
def test_request_params_from_an_http_or_unknown_receiver(
    params: str, body: str, uses: str, injected: str
) -> None:
    assert cats(flows_of(typed(params, body, uses, injected))) == {C.SHOPPER_TEXT}


@pytest.mark.parametrize(
    ("params", "body", "uses", "injected"),
    [
        ("AiRequestInterface $request", "$request->getParams()", _DTO, ""),
        ("AiRequestInterface $request", "$request->getParam('max_tokens')", _DTO, ""),
        ("", "$this->request->getParams()", _DTO, ", private AiRequestInterface $request"),
        # not imported: the namespace's own RequestInterface, not Magento's
        ("RequestInterface $request", "$request->getParams()", "", ""),
        ("AiRequestInterface $request", "$request->getBody()", _DTO, ""),
    ],
)
def test_request_params_of_a_project_request_class_are_not_shopper_text(
    params: str, body: str, uses: str, injected: str
) -> None:
    assert not flows_of(typed(params, body, uses, injected))


# A module's own request classes, declared in the project (PSR-4 below): what they extend or
# implement decides whether their parameters are the shopper's.
_PROJECT_REQUESTS = {
    "composer.json": '{"autoload": {"psr-4": {"Acme\\\\Ai\\\\": ""}}}',
    # two levels down from Magento's HTTP request
    "App/BaseRequest.php": "<?php\nnamespace Acme\\Ai\\App;\n"
    "use Magento\\Framework\\App\\Request\\Http;\nclass BaseRequest extends Http {}\n",
    "App/StorefrontRequest.php": "<?php\nnamespace Acme\\Ai\\App;\n"
    "class StorefrontRequest extends BaseRequest { public function isGift(): bool "
    "{ return true; } }\n",
    # an interface extending Magento's RequestInterface, and a class implementing it
    "Api/GiftRequestInterface.php": "<?php\nnamespace Acme\\Ai\\Api;\n"
    "interface GiftRequestInterface extends \\Magento\\Framework\\App\\RequestInterface {}\n",
    "App/GiftRequest.php": "<?php\nnamespace Acme\\Ai\\App;\n"
    "use Acme\\Ai\\Api\\GiftRequestInterface;\n"
    "abstract class GiftRequest implements GiftRequestInterface {}\n",
    # a data object that merely has getParams()
    "Model/AiOptions.php": "<?php\nnamespace Acme\\Ai\\Model;\n"
    "class AiOptions extends \\Magento\\Framework\\DataObject {}\n",
    # a cycle (invalid PHP, but a scan must not loop on it)
    "Model/Loop.php": "<?php\nnamespace Acme\\Ai\\Model;\nclass Loop extends Loop2 {}\n"
    "class Loop2 extends Loop {}\n",
}


@pytest.mark.parametrize(
    ("params", "uses", "shopper"),
    [
        ("StorefrontRequest $request", "use Acme\\Ai\\App\\StorefrontRequest;", True),
        ("BaseRequest $request", "use Acme\\Ai\\App\\BaseRequest;", True),
        ("GiftRequestInterface $request", "use Acme\\Ai\\Api\\GiftRequestInterface;", True),
        ("GiftRequest $request", "use Acme\\Ai\\App\\GiftRequest;", True),
        ("?StorefrontRequest $request", "use Acme\\Ai\\App\\StorefrontRequest;", True),
        ("AiOptions $request", "", False),
        ("Loop $request", "", False),
    ],
)
def test_request_params_of_a_project_subclass_of_the_http_request(
    tmp_path: Path, params: str, uses: str, shopper: bool
) -> None:
    code = typed(params, "$request->getParam('q')", uses)
    project = project_tree(tmp_path, {**_PROJECT_REQUESTS, "Model/X.php": code})
    found = flows_of(code, "Model/X.php", project)
    assert cats(found) == ({C.SHOPPER_TEXT} if shopper else set())


@pytest.mark.parametrize(
    ("body", "shopper"),
    [
        # a docblock naming the project's DTO: its getParams() are model options
        (
            "/** @var AiRequestInterface $r */\n$r = $this->factory->create();\n"
            "$prompt = json_encode($r->getParams());",
            False,
        ),
        (
            "/** @var AiRequestInterface */\n$r = $this->factory->create();\n"
            "$prompt = json_encode($r->getParams());",
            False,
        ),
        # a docblock naming Magento's request: still the shopper's
        (
            "/** @var \\Magento\\Framework\\App\\RequestInterface $r */\n"
            "$r = $this->context->getRequest();\n$prompt = json_encode($r->getParams());",
            True,
        ),
        # a docblock for another variable, or none: the class is unknown, so it counts
        (
            "/** @var AiRequestInterface $other */\n$r = $this->factory->create();\n"
            "$prompt = json_encode($r->getParams());",
            True,
        ),
        ("$r = $this->factory->create();\n$prompt = json_encode($r->getParams());", True),
        # a generic or array type names no class of the variable: unknown, so it counts
        (
            "/** @var Collection<AiRequestInterface> $other */\n$r = $this->factory->create();\n"
            "$prompt = json_encode($r->getParams());",
            True,
        ),
        (
            "/** @var AiRequestInterface[] */\n$r = $this->factory->create();\n"
            "$prompt = json_encode($r->getParams());",
            True,
        ),
        # reassigned after the docblock's statement: no longer known
        (
            "/** @var AiRequestInterface $r */\n$r = $this->factory->create();\n"
            "$r = $this->getRequest();\n$prompt = json_encode($r->getParams());",
            True,
        ),
    ],
)
def test_a_docblock_var_types_a_local_receiver(body: str, shopper: bool) -> None:
    code = f"""<?php
namespace Acme\\Ai\\Model;
use Acme\\Ai\\Api\\Data\\AiRequestInterface;
class X {{
    public function __construct(private readonly Client $client) {{}}
    public function run() {{
{body}
$this->client->post('{URL}', ['json' => ['messages' => [['content' => $prompt]]]]);
    }}
}}
"""
    assert cats(flows_of(code)) == ({C.SHOPPER_TEXT} if shopper else set())


def test_an_injected_project_request_subclass_is_the_http_request(tmp_path: Path) -> None:
    uses = "use Acme\\Ai\\App\\StorefrontRequest;"
    code = typed("", "$this->request->getParam('q')", uses, ", private StorefrontRequest $request")
    project = project_tree(tmp_path, {**_PROJECT_REQUESTS, "Model/X.php": code})
    assert cats(flows_of(code, "Model/X.php", project)) == {C.SHOPPER_TEXT}
    # without the project its class is unknown to the scan and not taken for the request
    assert not flows_of(code, "Model/X.php")


@pytest.mark.parametrize(
    "body",
    [
        # string interpolation
        '        $prompt = "Mail {$order->getCustomerEmail()} now";',
        # concatenation + sprintf + implode
        "$prompt = sprintf('%s', implode(' ', [$order->getCustomerEmail()]));",
        # array literal key classifies an unknown value
        "$prompt = json_encode(['email' => $someValue]);",
        # heredoc
        "$e = $order->getCustomerEmail();\n$prompt = <<<TXT\nHi $e\nTXT;",
        # compact and http_build_query
        "$email = $order->getCustomerEmail();\n$prompt = http_build_query(compact('email'));",
        # foreach over items
        "foreach ($order->getAllVisibleItems() as $item) { $lines[] = $item->getSku(); }\n"
        "$prompt = implode(',', $lines);",
        # .= accumulation in a branch
        "$prompt = 'a';\nif ($x) { $prompt .= $order->getCustomerEmail(); }",
    ],
)
def test_propagation_forms(body: str) -> None:
    assert flows_of(method(f"{body}\n{SEND}", "OrderInterface $order, $someValue, $x"))


def test_property_and_same_class_return() -> None:
    extra = """
    private $ctx;
    public function load(OrderInterface $order) { $this->ctx = $order->getCustomerEmail(); }
    private function build(OrderInterface $o) { return 'Hi ' . $o->getCustomerFirstname(); }
"""
    via_prop = flows_of(method(f"$prompt = $this->ctx;\n{SEND}", "", extra))
    via_return = flows_of(method(f"$prompt = $this->build($order);\n{SEND}", extra=extra))
    assert cats(via_prop) == {C.CUSTOMER_PII}
    assert any("$this->ctx" in s.note for s in via_prop[0].steps)
    assert cats(via_return) == {C.CUSTOMER_PII}
    assert any("returned by X::build()" in s.note for s in via_return[0].steps)


def test_trace_names_source_hops_and_sink() -> None:
    found = flows_of(method(f"$prompt = 'To ' . $order->getCustomerEmail();\n{SEND}"))
    steps = found[0].steps
    assert steps[0].note.startswith("source: $order->getCustomerEmail() (customer_pii)")
    assert any(s.note == "into $prompt" for s in steps)
    assert steps[-1].note.endswith("to api.openai.com") and "->post()" in steps[-1].note
    assert all(s.file == "Model/X.php" for s in steps)


@pytest.mark.parametrize(
    ("body", "sink_label"),
    [
        ("$client->request('POST', self::URL, ['json' => ['p' => $prompt]]);", "Guzzle"),
        ("$this->curl->post(self::URL, json_encode(['p' => $prompt]));", "Magento"),
        (
            "$ch = curl_init(self::URL);\n"
            "curl_setopt($ch, CURLOPT_POSTFIELDS, json_encode(['p' => $prompt]));",
            "curl",
        ),
        (
            "$ch = curl_init();\ncurl_setopt_array($ch, [CURLOPT_URL => self::URL,"
            " CURLOPT_POSTFIELDS => $prompt]);",
            "curl",
        ),
        ("$http->setUri(self::URL);\n$http->setRawBody($prompt);", "Laminas"),
        (
            "$ctx = stream_context_create(['http' => "
            "['method' => 'POST', 'content' => $prompt]]);\n"
            "file_get_contents(self::URL, false, $ctx);",
            "stream context",
        ),
        (
            "$ai = \\OpenAI::client('k');\n"
            "$ai->chat()->create(['messages' => [['content' => $prompt]]]);",
            "openai-php",
        ),
    ],
)
def test_sink_families(body: str, sink_label: str) -> None:
    code = method(
        f"$prompt = $order->getCustomerEmail();\n{body}",
        "OrderInterface $order, $client, $http",
    )
    found = flows_of(code.replace("Client $client", "Curl $curl"))
    assert found, body
    assert sink_label in found[0].steps[-1].note


@pytest.mark.parametrize(
    "body",
    [
        # data never reaches a sink
        "$email = $order->getCustomerEmail();\n"
        "$this->client->post(self::URL, ['json' => ['p' => 'hello']]);",
        # only constants and config
        "$this->client->post(self::URL, ['json' => ['model' => $this->model, 'p' => 'x']]);",
        # the API key in a header is no shop data
        "$this->client->post(self::URL, ['headers' => "
        "['Authorization' => $order->getCustomerEmail()],"
        " 'json' => ['p' => 'x']]);",
        # hashing, anonymiser and metadata cut the flow
        "$prompt = hash('sha256', $order->getCustomerEmail());\n" + SEND,
        "$prompt = $this->anonymizer->anonymize($order->getCustomerEmail());\n" + SEND,
        "$prompt = 'n=' . count($order->getAllVisibleItems());\n" + SEND,
        "$prompt = $this->scrub($this->request->getParam('q'));\n" + SEND,
        # a request to a non-AI URL
        "$this->client->post('https://erp.example.com/api', "
        "['json' => ['e' => $order->getCustomerEmail()]]);",
        # overwritten before the call
        "$prompt = $order->getCustomerEmail();\n$prompt = 'Thanks!';\n" + SEND,
    ],
)
def test_negatives(body: str) -> None:
    assert flows_of(method(body)) == []


def test_url_from_variable_and_concatenation() -> None:
    body = (
        "$url = self::URL . '?x=1';\n"
        "$this->client->post($url, ['json' => ['e' => $order->getCustomerEmail()]]);"
    )
    found = flows_of(method(body))
    assert found and found[0].site.host == "api.openai.com"


REGISTRATION = module_registration("Acme_Ai")
CLIENT = f"""<?php
namespace Acme\\Ai\\Model;
class AiClient {{
    public function __construct(private readonly \\GuzzleHttp\\Client $http) {{}}
    public function ask(string $text): string {{
        return (string) $this->http->post('{URL}', ['json' => ['input' => $text]])->getBody();
    }}
}}
"""
OBSERVER = """<?php
namespace Acme\\Ai\\Observer;
use Acme\\Ai\\Model\\AiClient;
class Notify {
    public function __construct(private readonly AiClient $client) {}
    public function execute($observer) {
        $order = $observer->getEvent()->getOrder();
        $this->client->ask('Order for ' . $order->getCustomerEmail());
    }
}
"""
BUILDER = """<?php
namespace Acme\\Ai\\Model;
class PromptBuilder {
    public function build(OrderInterface $order): string {
        return 'Ship to ' . $order->getShippingAddress()->getCity();
    }
}
"""


def test_di_caller_in_another_file_reaches_the_sink(tmp_path: Path) -> None:
    project = project_tree(
        tmp_path,
        {
            "registration.php": REGISTRATION,
            "Model/AiClient.php": CLIENT,
            "Observer/Notify.php": OBSERVER,
        },
    )
    found = flows_of(CLIENT, "Model/AiClient.php", project)
    assert C.CUSTOMER_PII in cats(found)
    flow = next(fl for fl in found if C.CUSTOMER_PII in fl.categories)
    assert flow.steps[0].file == "Observer/Notify.php"
    assert flow.steps[-1].file == "Model/AiClient.php"
    assert any("AiClient::ask()" in s.note for s in flow.steps)


def test_di_builder_in_another_file_returns_shop_data(tmp_path: Path) -> None:
    composer = '{"autoload": {"psr-4": {"Acme\\\\Ai\\\\": ""}}}'
    caller = method(f"$prompt = $this->builder->build($order);\n{SEND}").replace(
        "Client $client)", "Client $client, private readonly PromptBuilder $builder)"
    )
    project = project_tree(
        tmp_path,
        {"composer.json": composer, "Model/PromptBuilder.php": BUILDER, "Model/X.php": caller},
    )
    found = flows_of(caller, "Model/X.php", project)
    assert cats(found) == {C.CUSTOMER_PII}
    files = [s.file for s in found[0].steps]
    assert "Model/PromptBuilder.php" in files and files[-1] == "Model/X.php"


def test_parse_error_is_partial_not_fatal() -> None:
    code = method(
        f"$prompt = $order->getCustomerEmail();\n{SEND}", extra="public function broken( {"
    )
    f = source_file("Model/X.php", code)
    f.sites = tuple(EndpointAnalyser().analyse(f, CATALOG))
    php.find_flows(f, CATALOG)
    assert (
        f.partial and f.partial[0].startswith("line ") and f.partial[0].endswith("partial analysis")
    )


def test_clean_file_is_not_partial() -> None:
    f = source_file("Model/X.php", method(SEND))
    f.sites = tuple(EndpointAnalyser().analyse(f, CATALOG))
    php.find_flows(f, CATALOG)
    assert f.partial == []


@settings(max_examples=150, deadline=None)
@given(st.text(max_size=400))
def test_never_raises_on_arbitrary_text(text: str) -> None:
    f = SourceFile(
        "Model/X.php",
        ("<?php " + text).encode(),
        source_file("a.php", "").language,
        source_file("a.php", "").exposure,
        frozenset({"ai"}),
    )
    f.sites = tuple(EndpointAnalyser().analyse(f, CATALOG))
    assert isinstance(php.find_flows(f, CATALOG), list)


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.sampled_from(
            [
                "$a = $b . $order->getCustomerEmail();",
                "$b = [$a, 'k' => $b];",
                "foreach ($a as $b) {",
                "}",
                "$this->p = $a;",
                "$a = $this->p;",
                "if ($a) {",
                "$a .= $b;",
                "$this->run($a);",
                SEND.strip(),
                "$prompt = $a;",
            ]
        ),
        max_size=40,
    )
)
def test_terminates_on_random_programs(lines: list[str]) -> None:
    flows_of(method("\n".join(lines)))


# --- one trace per source, the same in every run ------------------------------------------


def test_a_source_reaching_the_sink_by_two_paths_is_traced_by_the_shortest() -> None:
    lines = [
        "$email = $order->getCustomerEmail();",
        "$copy = $email;",
        "$longer = 'Hi ' . $copy;",
        "$prompt = $email . $longer;",
        SEND,
    ]
    found = flows_of(method("\n".join(lines)))
    assert len(found) == 1
    notes = [s.note for s in found[0].steps]
    assert notes[1:4] == ["into $email", "concatenated", "into $prompt"]
    assert "into $copy" not in notes


def test_labels_are_ordered_shortest_path_first_whatever_the_set_order() -> None:
    from egressguard.audit.dataflow.php_taint import Label, in_order
    from egressguard.model import TraceStep

    src = TraceStep("a.php", 1, "source: x")
    short = Label(frozenset({C.ORDER}), (src, TraceStep("a.php", 2, "into $b")))
    long_ = Label(frozenset({C.ORDER}), (src, TraceStep("a.php", 2, "into $a"), short.steps[1]))
    other = Label(frozenset({C.ORDER}), (src, TraceStep("a.php", 2, "into $a")))
    for labels in ([long_, short, other], [other, long_, short], [short, other, long_]):
        assert in_order(frozenset(labels)) == [other, short, long_]
