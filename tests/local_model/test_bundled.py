"""Finding the model: the bundled GGUF, a user's own GGUF, and the licence shown once."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from egressguard.cli.main import run
from egressguard.errors import LocalModelError
from egressguard.local_model.bundled import (
    ALIAS,
    TERMS_URL,
    ModelFile,
    licence_notice,
    own_model,
)


def test_own_model_must_be_a_gguf(tmp_path: Path) -> None:
    not_gguf = tmp_path / "model.bin"
    not_gguf.write_bytes(b"\x7fELF....")
    with pytest.raises(LocalModelError, match="not a GGUF"):
        own_model(not_gguf)
    with pytest.raises(LocalModelError, match="no such file"):
        own_model(tmp_path / "missing.gguf")
    gguf = tmp_path / "mistral-7b.Q4_K_M.gguf"
    gguf.write_bytes(b"GGUF\x03\x00\x00\x00")
    model = own_model(gguf)
    assert model.alias == "mistral-7b.Q4_K_M"
    assert own_model(gguf, "mistral").alias == "mistral"
    assert model.licence_file is None


def test_licence_notice_names_the_terms_and_the_shipped_text(tmp_path: Path) -> None:
    model = ModelFile(tmp_path / "m.gguf", ALIAS, tmp_path / "GEMMA_TERMS.html", True)
    notice = licence_notice(model)
    assert TERMS_URL in notice
    assert "Prohibited Use Policy" in notice
    assert str(tmp_path / "GEMMA_TERMS.html") in notice


def test_serve_refuses_a_file_that_is_not_a_model(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "notes.txt"
    bad.write_text("hello", encoding="utf-8")
    assert run(["local-model", "serve", "--model", str(bad), "--port", "9"]) == 2
    assert "not a GGUF model file" in capsys.readouterr().err


def test_serve_refuses_a_missing_key_variable(capsys: pytest.CaptureFixture[str]) -> None:
    code = run(["local-model", "serve", "--api-key-env", "EG_TEST_UNSET_VARIABLE_42"])
    assert code == 2
    assert "EG_TEST_UNSET_VARIABLE_42" in capsys.readouterr().err


def test_serve_on_a_busy_port_fails_before_loading_the_model(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    gguf = tmp_path / "tiny.gguf"
    gguf.write_bytes(b"GGUF\x03\x00\x00\x00")  # never loaded: the port check comes first
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen(1)
        port = busy.getsockname()[1]
        assert run(["local-model", "serve", "--model", str(gguf), "--port", str(port)]) == 2
    err = capsys.readouterr().err
    assert f"cannot listen on 127.0.0.1:{port}" in err
    assert "listening" not in err


@pytest.mark.parametrize(
    ("flag", "value", "message"),
    [("--ctx", "0", "--ctx 0: at least 256 tokens"), ("--threads", "0", "--threads 0: at least 1")],
)
def test_serve_refuses_nonsense_sizes(
    flag: str, value: str, message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(["local-model", "serve", flag, value]) == 2
    assert message in capsys.readouterr().err
