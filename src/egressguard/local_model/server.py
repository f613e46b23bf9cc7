"""llama-cpp-python's OpenAI-compatible server for one GGUF, on loopback.

`build_app` loads the model (about half a second for the bundled one) and returns the ASGI app
(`/v1/chat/completions`, `/v1/completions`, `/v1/embeddings`, `/v1/models`); `serve` runs it
with uvicorn. Requests queue for the model rather than interrupting one another, because a
gateway in front may send several at once.
"""

from __future__ import annotations

import ipaddress
import os
import socket
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from egressguard.errors import LocalModelError
from egressguard.local_model.bundled import ALIAS, INSTALL_HINT, ModelFile
from egressguard.local_model.recorder import ExchangeLog, recording

DEFAULT_PORT = 8080
DEFAULT_CONTEXT = 2048  # the bundled model's answers are short; 2k tokens of prompt suffice


@dataclass(frozen=True, slots=True)
class ServeOptions:
    host: str = "127.0.0.1"
    port: int = DEFAULT_PORT
    n_ctx: int = DEFAULT_CONTEXT
    n_threads: int | None = None  # None: one per core
    api_key: str | None = None
    record: Path | None = None
    chat_format: str | None = None  # None: the bundled model's Gemma turns, else the GGUF's own

    @property
    def base_url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}/v1"


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def build_app(model: ModelFile, options: ServeOptions) -> tuple[Any, ExchangeLog | None]:
    """The model server's ASGI app and, with `options.record`, the log it writes to."""
    try:
        from llama_cpp.server.app import create_app
        from llama_cpp.server.settings import ModelSettings, ServerSettings
    except ImportError as exc:
        raise LocalModelError(f"llama-cpp-python is not installed: {INSTALL_HINT}") from exc
    threads = options.n_threads or os.cpu_count() or 1
    model_settings = ModelSettings(
        model=str(model.path),
        model_alias=model.alias,
        n_ctx=options.n_ctx,
        n_threads=threads,
        n_threads_batch=threads,
        chat_format=options.chat_format or ("gemma" if model.alias == ALIAS else None),
        verbose=False,
    )
    server_settings = ServerSettings(
        host=options.host,
        port=options.port,
        api_key=options.api_key,
        interrupt_requests=False,
    )
    try:
        app = create_app(server_settings=server_settings, model_settings=[model_settings])
    except (ValueError, RuntimeError) as exc:  # llama.cpp: "Failed to load model from file"
        raise LocalModelError(f"the model {model.path} could not be loaded: {exc}") from exc
    if options.record is None:
        return app, None
    log = ExchangeLog(options.record)
    return recording(app, log), log


def bind(options: ServeOptions) -> socket.socket:
    """The listening socket, bound before the model loads: a busy port fails at once, clearly."""
    family = socket.AF_INET6 if ":" in options.host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((options.host, options.port))
        sock.listen(128)
    except OSError as exc:
        sock.close()
        raise LocalModelError(
            f"cannot listen on {options.host}:{options.port}: {exc.strerror or exc}"
        ) from exc
    return sock


def serve(app: Any, sock: socket.socket) -> None:
    """Serve `app` on the bound socket until interrupted."""
    import uvicorn

    config = uvicorn.Config(app, log_level="warning", access_log=False)
    uvicorn.Server(config).run(sockets=[sock])
