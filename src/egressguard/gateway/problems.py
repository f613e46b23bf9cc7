"""Request-level refusals and their JSON bodies (OpenAI and Anthropic error shapes).

A `Rejected` is raised by the request pipeline (auth, limits, parsing, policy, routing) and
turned into a response in one place (`app.py`); upstream failures arrive as `UpstreamError`
from the upstream-error seam in `upstream.py` and are mapped here too.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from egressguard.errors import GatewayError, UpstreamError, UpstreamTimeout

ANTHROPIC_TYPES = {
    400: "invalid_request_error",
    401: "authentication_error",
    403: "permission_error",
    404: "not_found_error",
    413: "request_too_large",
    429: "rate_limit_error",
    502: "api_error",
    503: "overloaded_error",
    504: "api_error",
}


@dataclass(frozen=True, slots=True)
class Problem:
    status: int
    code: str
    message: str
    type: str = "invalid_request_error"
    retry_after: int | None = None


class Rejected(GatewayError):
    """The gateway refuses a request (4xx) before anything is sent upstream."""

    def __init__(self, status: int, code: str, message: str, *, retry_after: int | None = None):
        super().__init__(message)
        kind = {401: "authentication_error", 403: "permission_error", 429: "rate_limit_error"}
        self.problem = Problem(
            status, code, message, kind.get(status, "invalid_request_error"), retry_after
        )


def upstream_problem(exc: UpstreamError) -> Problem:
    if isinstance(exc, UpstreamTimeout):
        return Problem(504, "upstream_timeout", str(exc), "upstream_error")
    return Problem(502, "upstream_unavailable", str(exc), "upstream_error")


def error_body(problem: Problem, *, anthropic: bool) -> bytes:
    """The JSON error body in the client's API dialect."""
    if anthropic:
        kind = ANTHROPIC_TYPES.get(problem.status, "api_error")
        doc: object = {"type": "error", "error": {"type": kind, "message": problem.message}}
    else:
        doc = {"error": {"message": problem.message, "type": problem.type, "code": problem.code}}
    return json.dumps(doc, separators=(",", ":")).encode()


def sse_error_event(problem: Problem, *, anthropic: bool) -> bytes:
    """A terminal SSE event for a stream that already started."""
    body = error_body(problem, anthropic=anthropic).decode()
    return f"event: error\ndata: {body}\n\n".encode()
