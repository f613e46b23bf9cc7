"""Where code and config talk to AI providers: the AI inventory.

Yields IntegrationSite values (never Hits); the engine turns each into an `ai-endpoint`
inventory finding and, when the host's region is not sovereign, an `ai-transfer-third-country`
finding. Four lexical detectors run over the comment-free view of the file (lexical.py):

  hosts      catalogue hosts in literals, config values, XML, .env, Liquid, JSON
             (`catalog.find_hosts` + `catalog.classify_host` on the whole host token, so
             `api.openai.com.evil.example` is not OpenAI)
  local      private-host URLs: port 11434 (Ollama) or an LLM API path -> local runtime
  constants  a name assigned a provider URL (`const API_URL = 'https://api.anthropic.com'`)
             and used where a request is built or sent (`->post(self::API_URL . '/v1/…')`)
  sdks       client construction without a URL (`OpenAI::client(`, `new Anthropic(` …) ->
             the provider's default host, unless the arguments name a base URL / region
  tree       (PHP, dataflow/php_sites.py) calls on an injected SDK client known by its declared
             type, and requests to a config URL whose path or `case`/`if` branch names the
             provider (medium confidence)

One site per (provider, host, line). `feature` comes from FEATURES below.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

from egressguard.audit.analysers.config_defaults import config_reads
from egressguard.audit.analysers.lexical import CodeView
from egressguard.model import Confidence, Exposure, IntegrationSite, Language, RunsIn

if TYPE_CHECKING:
    from egressguard.audit.analysers.base import SourceFile
    from egressguard.catalog import Catalog

# What an AI call is for, first match wins (most specific first). Matched case-insensitively
# against the file path, its class names and the lines around the site, after FEATURE_NOISE
# (URLs and SDK method names that say nothing about the feature) is removed.
FEATURES: tuple[tuple[str, str], ...] = (
    ("fraud-check", r"\bfraud|\bchargeback|\brisk score"),
    (
        "order-summary",
        r"\border (?:summar|insight|digest)|\bsummari[sz](?:e|es|ing) (?:the )?orders?\b",
    ),
    ("translation", r"\btranslat|\bi18n\b|\bdeepl\b"),
    (
        "support-reply",
        r"\bsupport\b|\bticket|\bhelpdesk|\bzendesk|\bfreshdesk|\bgorgias|\bcustomer service"
        r"|\binquir|\benquir",
    ),
    (
        "copywriter",
        r"\bdescription|\bcopywrit|\bseo\b|\bmeta (?:title|keyword|description)"
        r"|\bproduct (?:text|copy)\b|\bcontent generat",
    ),
    ("recommendation", r"\brecommend|\bupsell|\bcross sell|\brelated products?\b"),
    ("search", r"\bsearch\b(?! criteria)|\bembedding|\bsemantic|\bvector"),
    ("chat-widget", r"\bchat|\bassistant\b|\bconversation|\bwidget"),
)
FEATURE_NOISE = re.compile(
    r"(?<![\w+.-])[a-z][\w+.-]*://[^\s'\"`<>]*"  # URLs: /chat/completions says nothing
    r"|chat\s*\(\s*\)|chat[./_]completions?|chatcompletion\w*"
    r"|chat(?:openai|anthropic|mistralai|ollama|groq|cohere|google\w*|bedrock\w*|vertexai)"
    r"|ollama\.chat|role['\"]?\s*(?:=>|:)\s*['\"](?:assistant|system|user)",
    re.IGNORECASE,
)
# camelCase, snake_case, paths and punctuation -> lower-case words separated by one space.
_WORD_BREAK = re.compile(r"(?<=[a-z0-9])(?=[A-Z])|[\W_]+")
_FEATURE_PATTERNS = tuple((name, re.compile(rx)) for name, rx in FEATURES)
_FEATURE_WINDOW = 10  # lines either side of the site

# SDK client construction -> the provider's default host (resolved through the catalogue).
SDK_CLIENTS: tuple[tuple[str, str], ...] = (
    (r"\bOpenAI::(?:client|factory)\s*\(", "api.openai.com"),
    (
        r"\bnew\s+\\?(?:OpenAI\\Client|Orhanerday\\OpenAi\\OpenA[Ii]|OpenA[Ii])\s*\(",
        "api.openai.com",
    ),
    (r"\b(?:ChatOpenAI|OpenAIEmbeddings)\s*\(", "api.openai.com"),
    (
        r"\bnew\s+Anthropic\s*\(|\bAnthropic::(?:client|factory)\s*\(|\bChatAnthropic\s*\(",
        "api.anthropic.com",
    ),
    (
        r"\bnew\s+(?:GoogleGenerativeAI|GoogleGenAI)\s*\(|\bGemini::(?:client|factory)\s*\("
        r"|\bChatGoogleGenerativeAI\s*\(",
        "generativelanguage.googleapis.com",
    ),
    (r"\bnew\s+VertexAI\s*\(|\bChatVertexAI\s*\(", "aiplatform.googleapis.com"),
    (r"\bnew\s+Mistral(?:Client)?\s*\(|\bChatMistralAI\s*\(", "api.mistral.ai"),
    (r"\bnew\s+Cohere(?:Client(?:V2)?)?\s*\(|\bChatCohere\s*\(", "api.cohere.com"),
    (r"\bnew\s+(?:HfInference|InferenceClient)\s*\(", "router.huggingface.co"),
    (r"\bnew\s+Groq\s*\(|\bChatGroq\s*\(", "api.groq.com"),
    (
        r"\bnew\s+\\?(?:Aws\\BedrockRuntime\\)?BedrockRuntimeClient\s*\(|\bnew\s+(?:ChatBedrock\w*|BedrockChat)\s*\(",
        "bedrock-runtime.us-east-1.amazonaws.com",
    ),
    (
        r"\bollama\.(?:chat|generate|embed|embeddings)\s*\(|\bnew\s+Ollama\s*\(|\bChatOllama\s*\(",
        "localhost:11434",
    ),
)
# SDK calls (`openai.chat.completions.create(…)`): each is an AI call site of its own. On a
# client built elsewhere (constructor injection, an imported instance) the host is the
# provider's default; when the file builds a client for that provider, the call takes the
# construction's host (which knows the base URL better).
SDK_CALLS: tuple[tuple[str, str], ...] = (
    (  # openai-php: $this->client->chat()->create([...]) in a file that uses OpenAI\Client
        r"->\s*(?:chat|completions|embeddings|responses|moderations|images|audio)\s*\(\s*\)"
        r"\s*->\s*(?:create|createStreamed)\s*\(",
        "api.openai.com",
    ),
    (  # openai (npm): openai.chat.completions.create({...}) on an instance named for OpenAI
        r"\b\w*(?:openai|openAI|OpenAI|openAi)\w*\s*\.\s*(?:chat\s*\.\s*completions|completions"
        r"|embeddings|responses|moderations)\s*\.\s*(?:create|stream)\s*\(",
        "api.openai.com",
    ),
    (  # @anthropic-ai/sdk: anthropic.messages.create({...}) on an instance named for it
        r"\b\w*(?:anthropic|Anthropic|claude|Claude)\w*\s*\.\s*messages\s*\.\s*(?:create|stream)\s*\(",
        "api.anthropic.com",
    ),
)
_SDK_CALL_TRIGGERS: tuple[tuple[str, ...], ...] = (
    ("OpenAI\\",),
    ("completions.create", "responses.create", "embeddings.create", "completions.stream"),
    ("messages.create", "messages.stream"),
)
# Literal words one of which every match of SDK_CLIENTS[i] contains (case-sensitive): a
# pattern runs only on files holding one, so big files without SDK code cost one `in` each.
_SDK_TRIGGERS: tuple[tuple[str, ...], ...] = (
    ("OpenAI::",),
    ("OpenAI", "OpenAi"),
    ("ChatOpenAI", "OpenAIEmbeddings"),
    ("Anthropic",),
    ("GoogleGenerativeAI", "GoogleGenAI", "Gemini::"),
    ("VertexAI",),
    ("Mistral",),
    ("Cohere",),
    ("HfInference", "InferenceClient"),
    ("Groq",),
    ("Bedrock",),
    ("ollama.", "Ollama"),
)
_SDK = tuple(
    (re.compile(rx), host, triggers)
    for (rx, host), triggers in zip(SDK_CLIENTS, _SDK_TRIGGERS, strict=True)
)
_SDK_CALL = tuple(
    (re.compile(rx), host, triggers)
    for (rx, host), triggers in zip(SDK_CALLS, _SDK_CALL_TRIGGERS, strict=True)
)
_SDK_WINDOW = 600  # characters after the constructor searched for base URL / region

_BEDROCK_REGION = re.compile(r"""\bregion['"]?\s*(?:=>|:|=)\s*['"]([a-z]{2}(?:-[a-z]+)+-\d)['"]""")
_GOOGLE_LOCATION = re.compile(r"""\blocation['"]?\s*(?:=>|:|=)\s*['"]([a-z]+-[a-z]+\d+)['"]""")
_MISTRAL_EU = re.compile(r"""\bserver['"]?\s*(?:=>|:|=)\s*['"]eu['"]""")
# A base URL handed to a client: `baseURL: '…'`, `'base_uri' => '…'`, `->withBaseUri('…')`.
_BASE_URL = re.compile(
    r"""\b(?:base_?ur[il]|baseUR[IL]|baseUr[il]|endpoint|host|serverURL|server_url|withBaseUri)"""
    r"""['"]?\s*(?:=>|:|=|\()\s*['"`](?:[a-z]+://)?(?P<host>[A-Za-z0-9.-]+(?::\d{1,5})?)""",
    re.IGNORECASE,
)

# Private hosts: the shop's own machines or containers.
_PRIVATE_HOST = re.compile(
    r"(?:localhost|127(?:\.\d{1,3}){3}|0\.0\.0\.0|\[::1\]|10(?:\.\d{1,3}){3}"
    r"|192\.168(?:\.\d{1,3}){2}|172\.(?:1[6-9]|2\d|3[01])(?:\.\d{1,3}){2}"
    r"|host\.docker\.internal|[a-z0-9-]+(?:\.[a-z0-9-]+)*\.(?:local|internal|lan|localdomain)"
    r"|ollama|vllm|llm|localai|lmstudio|litellm|tgi)",
    re.IGNORECASE,
)
_LOCAL_URL = re.compile(
    rf"\bhttps?://(?P<host>{_PRIVATE_HOST.pattern})(?::(?P<port>\d{{1,5}}))?(?![\w.-])"
    r"(?P<path>/[^\s'\"`<>)]*)?",
    re.IGNORECASE,
)
_LLM_PATH = re.compile(
    r"/(?:v1/(?:chat/completions|completions|embeddings|messages|responses)"
    r"|api/(?:generate|chat|embed(?:dings)?))\b"
)
_PORT = re.compile(r":\d{1,5}$")
OLLAMA_PORT = "11434"
OLLAMA = "ollama"
SELF_HOSTED = "self-hosted"

_HOST_CHAR = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-")
_HOST_TAIL = re.compile(r"[A-Za-z0-9.-]*(?::\d{1,5}(?!\d))?")

# A name assigned a provider URL on the same line: const/property/define/array key/object key.
_DEFINITION = re.compile(
    r"""(?P<name>[A-Za-z_]\w*)['"]?\s*(?:=>|=|,|:)\s*['"`](?:[a-z]+:)?/*$""", re.IGNORECASE
)
_NAME_REACH = 120  # characters before a URL literal searched for the name it is assigned to
_LINE_REACH = 300  # characters either side of a name searched for a request
_SCHEME_BEFORE = re.compile(r"[a-z]+:/*$|/+$", re.IGNORECASE)
# A line that sends a request or builds a URL from a name.
_CALL_CONTEXT = re.compile(
    r"(?:->|\.|::)\s*(?:post|get|put|patch|request|send|sendAsync|requestAsync|setUri|setUrl"
    r"|makeRequest|stream|withBaseUri)\s*\("
    r"|\b(?:curl_init|curl_setopt|fetch|file_get_contents|axios|got)\b|CURLOPT_URL"
    r"|\bnew\s+[\w\\]*Request\s*\(|\bbase_?ur[il]\b",
    re.IGNORECASE,
)
# Languages with code in which a URL name can be used (Liquid/HTML: inline <script>).
_USAGE_LANGUAGES = frozenset(
    {
        Language.PHP,
        Language.PHTML,
        Language.JAVASCRIPT,
        Language.TYPESCRIPT,
        Language.LIQUID,
        Language.HTML,
    }
)
# Languages whose hosts only count inside string literals.
_STRING_HOSTS = frozenset({Language.PHP, Language.JAVASCRIPT, Language.TYPESCRIPT})
_MARKUP = frozenset({Language.PHTML, Language.LIQUID, Language.HTML})
_SCRIPT = re.compile(r"<script\b[^>]*>[\s\S]*?(?:</script\s*>|\Z)", re.IGNORECASE)
_CLASS_NAME = re.compile(r"\b(?:class|interface|trait)\s+([A-Za-z_]\w*)")


@dataclass(frozen=True, slots=True)
class _Candidate:
    offset: int
    provider: str
    host: str
    confidence: Confidence = Confidence.HIGH


class EndpointAnalyser:
    """AI integration sites in code and config (rule family ai-endpoint)."""

    name = "endpoints"
    tags = frozenset({"ai", "sdk"})
    after_sites = False

    def wants(self, f: SourceFile) -> bool:
        """Not documentation or lock files: a README naming api.openai.com calls nothing."""
        return bool(f.tags & self.tags) and not _is_documentation(f.rel)

    def analyse(self, f: SourceFile, catalog: Catalog) -> Iterator[IntegrationSite]:
        view = f.view
        strings_only = f.language in _STRING_HOSTS
        candidates = [
            *_host_candidates(view, catalog, strings_only),
            *_local_candidates(view.code, catalog),
        ]
        if f.language in _USAGE_LANGUAGES:
            candidates += _constant_candidates(f, view, candidates)
        if f.language in _USAGE_LANGUAGES:
            candidates += _sdk_candidates(view, catalog)
        if f.language is Language.PHP:
            candidates += _config_candidates(f, view, catalog)
            candidates += _tree_candidates(f, catalog)
        yield from _sites(f, candidates)


_DOC_SUFFIXES = (".md", ".markdown", ".rst", ".txt", ".adoc")
# Documentation and dependency lock files (their URLs are package downloads, not calls).
_NOT_CODE = frozenset(
    {"readme", "changelog", "changes", "license", "copying", "authors"}
    | {"composer.lock", "package-lock.json", "yarn.lock", "pnpm-lock.yaml", "npm-shrinkwrap.json"}
)


def _is_documentation(rel: str) -> bool:
    name = rel.rpartition("/")[2].lower()
    return name.endswith(_DOC_SUFFIXES) or name in _NOT_CODE


def _sites(f: SourceFile, candidates: list[_Candidate]) -> Iterator[IntegrationSite]:
    seen: set[tuple[str, str, int]] = set()
    scripts = _script_spans(f.text) if f.language in _MARKUP else []
    classes = " ".join(_CLASS_NAME.findall(f.text))
    for c in sorted(candidates, key=lambda c: c.offset):
        line = f.line_of(c.offset)
        if (c.provider, c.host, line) in seen:
            continue
        seen.add((c.provider, c.host, line))
        yield IntegrationSite(
            provider=c.provider,
            host=c.host,
            line=line,
            runs_in=_runs_in(f, c.offset, scripts),
            feature=feature_of(f"{f.rel} {classes} {_window(f, line)}"),
            confidence=c.confidence,
        )


def feature_of(context: str) -> str:
    """The first FEATURES kind whose keywords occur in `context`, or "unknown"."""
    words = _WORD_BREAK.sub(" ", FEATURE_NOISE.sub(" ", context)).lower()
    return next((name for name, rx in _FEATURE_PATTERNS if rx.search(words)), "unknown")


def _window(f: SourceFile, line: int) -> str:
    starts = f.line_starts
    lo = starts[max(0, line - 1 - _FEATURE_WINDOW)]
    hi_line = line + _FEATURE_WINDOW
    hi = starts[hi_line] if hi_line < len(starts) else len(f.text)
    return f.text[lo:hi]


def _runs_in(f: SourceFile, offset: int, scripts: list[tuple[int, int]]) -> RunsIn:
    if f.exposure is not Exposure.BROWSER:
        return RunsIn.SERVER
    if f.language is Language.PHTML:
        # PHP in a template runs on the server; only <script> content reaches the shopper.
        inside = any(start <= offset < end for start, end in scripts)
        return RunsIn.BROWSER if inside else RunsIn.SERVER
    return RunsIn.BROWSER


def _script_spans(text: str) -> list[tuple[int, int]]:
    return [m.span() for m in _SCRIPT.finditer(text)]


def is_private_host(host: str) -> bool:
    """localhost, RFC 1918 addresses, *.internal/*.local and common LLM container names."""
    return _PRIVATE_HOST.fullmatch(_PORT.sub("", host)) is not None


def _host_token(code: str, offset: int) -> tuple[int, str]:
    """The whole host name (and :port) around a catalogue hit, and where it starts."""
    start = offset
    while start > 0 and code[start - 1] in _HOST_CHAR and offset - start < 255:
        start -= 1
    m = _HOST_TAIL.match(code, offset)
    end = m.end() if m else offset
    return start, code[start:end].strip(".-")


def _host_candidates(view: CodeView, catalog: Catalog, strings_only: bool) -> Iterator[_Candidate]:
    code = view.code
    for offset, _host in catalog.find_hosts(code):
        start, token = _host_token(code, offset)
        if strings_only and view.bare[start] == code[start]:
            continue  # `ollama.chat(` is a member call, not a host: code hosts sit in strings
        if (start > 0 and code[start - 1] == "@") or is_private_host(token):
            continue  # an e-mail address; private hosts are the local detector's
        match = catalog.classify_host(token)
        if match is not None:
            yield _Candidate(start, match.provider.id, match.host)


def _local_candidates(code: str, catalog: Catalog) -> Iterator[_Candidate]:
    for m in _LOCAL_URL.finditer(code):
        port = m.group("port") or ""
        if port != OLLAMA_PORT and not _LLM_PATH.match(m.group("path") or ""):
            continue
        host = m.group("host").lower() + (f":{port}" if port else "")
        yield _Candidate(m.start("host"), _local_provider(host, catalog), host)


def _local_provider(host: str, catalog: Catalog) -> str:
    match = catalog.classify_host(host)
    if match is not None:
        return match.provider.id
    return OLLAMA if host.endswith(f":{OLLAMA_PORT}") else SELF_HOSTED


def _constant_candidates(
    f: SourceFile, view: CodeView, found: list[_Candidate]
) -> list[_Candidate]:
    """Uses of a name that was assigned a provider URL, on lines that build or send a request."""
    defined: dict[str, _Candidate] = {}
    for c in found:
        line_start = view.code.rfind("\n", 0, c.offset) + 1
        literal = _literal_start(view.code, c.offset)
        m = _DEFINITION.search(view.code, max(line_start, literal - _NAME_REACH), literal)
        if m is not None:
            defined.setdefault(m.group("name"), c)
    if not defined:
        return []
    names = re.compile(r"\b(" + "|".join(map(re.escape, defined)) + r")\b")
    out: list[_Candidate] = []
    for m in names.finditer(view.code):
        c = defined[m.group(1)]
        line = f.line_of(m.start())
        if line != f.line_of(c.offset) and _CALL_CONTEXT.search(_line(view.code, m.start())):
            out.append(_Candidate(m.start(), c.provider, c.host))
    return out


def _literal_start(code: str, offset: int) -> int:
    """Where the URL literal holding a host starts (its scheme), for _DEFINITION's `$`."""
    m = _SCHEME_BEFORE.search(code, max(0, offset - 12), offset)
    return m.start() if m else offset


def _line(code: str, offset: int) -> str:
    """The line around `offset`, at most _LINE_REACH characters either side (minified JS)."""
    lo = max(0, offset - _LINE_REACH)
    start = code.rfind("\n", lo, offset) + 1 or lo
    end = code.find("\n", offset, offset + _LINE_REACH)
    return code[start : end if end != -1 else offset + _LINE_REACH]


def _config_candidates(f: SourceFile, view: CodeView, catalog: Catalog) -> Iterator[_Candidate]:
    """A config read whose module default is an AI URL (`getValue('acme/api/endpoint')`)."""
    for offset, value in config_reads(view.code, f.project):
        for _, host in catalog.find_hosts(value):
            match = catalog.classify_host(host)
            if match is not None:
                yield _Candidate(offset, match.provider.id, match.host)


def _tree_candidates(f: SourceFile, catalog: Catalog) -> Iterator[_Candidate]:
    """Calls on an injected SDK client (by its declared type: a catalogue SDK namespace or a
    project subclass of one) and requests to a config URL whose path or branch names the
    provider (php_sites.py; parses the file only when a text check says it may find one)."""
    from egressguard.audit.dataflow.php_sites import tree_sites

    starts = f.line_starts
    for s in tree_sites(f, catalog):
        yield _Candidate(starts[s.line - 1], s.provider, s.host, s.confidence)


def _sdk_candidates(view: CodeView, catalog: Catalog) -> Iterator[_Candidate]:
    built = list(_sdk_matches(view, catalog, _SDK))
    yield from built
    hosts = {c.provider: c.host for c in reversed(built)}  # the file's first client wins
    for call in _sdk_matches(view, catalog, _SDK_CALL):
        yield _Candidate(call.offset, call.provider, hosts.get(call.provider, call.host))


def _sdk_matches(
    view: CodeView,
    catalog: Catalog,
    table: tuple[tuple[re.Pattern[str], str, tuple[str, ...]], ...],
) -> Iterator[_Candidate]:
    code = view.code
    for pattern, default, triggers in table:
        if not any(t in code for t in triggers):
            continue
        for m in pattern.finditer(code):
            host = _sdk_host(default, _sdk_window(view, m.end()), catalog)
            if host is None:
                continue
            provider = _resolve(host, catalog)
            if provider is not None:
                yield _Candidate(m.start(), provider, host)


def _sdk_window(view: CodeView, start: int) -> str:
    end = view.bare.find(";", start, start + _SDK_WINDOW)
    return view.code[start : end if end != -1 else start + _SDK_WINDOW]


def _sdk_host(default: str, window: str, catalog: Catalog) -> str | None:
    """The host a client talks to; None when its base URL is a literal the hosts pass reports."""
    if any(catalog.classify_host(h) for _, h in catalog.find_hosts(window)):
        return None
    base = _BASE_URL.search(window)
    if base is not None:
        return base.group("host").lower()
    if default.startswith("bedrock-runtime."):
        region = _BEDROCK_REGION.search(window)
        return f"bedrock-runtime.{region.group(1)}.amazonaws.com" if region else default
    if default == "aiplatform.googleapis.com" or "vertexai" in window:
        location = _GOOGLE_LOCATION.search(window)
        return f"{location.group(1)}-aiplatform.googleapis.com" if location else default
    if default == "api.mistral.ai" and _MISTRAL_EU.search(window):
        return "api.eu.mistral.ai"
    return default


def _resolve(host: str, catalog: Catalog) -> str | None:
    """Provider id for a host from a base URL or a default: catalogue first, then local."""
    match = catalog.classify_host(host)
    if match is not None:
        return match.provider.id
    if is_private_host(host):
        return _local_provider(host, catalog)
    return None
