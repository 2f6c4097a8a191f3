"""The fine-tuned model as one GGUF file: base GGUF + LoRA adapter, merged, for llama.cpp.

Why: transformers on CPU runs the tuned model with the adapter unmerged (two extra matmuls per linear
layer) and decodes slowly; llama.cpp runs a GGUF at its native speed. Merging gives the tuned model the
same speed as the base, so both are scored through one engine (evaluate.backend=llama_cpp).

What changes, tensor by tensor (everything else, metadata and tokenizer included, is copied byte for byte):
  * every linear layer LoRA trained: W + (alpha / r) * B @ A, computed in float32 from the base's
    de-quantised weights (the very weights transformers trains against when it loads the GGUF) and stored
    as Q8_0 (8-bit, ~0.4% relative rounding; the base's 4/5/6-bit types cannot be written from Python);
  * the embedding rows peft's trainable tokens trained (finetune trains the end-of-turn row): those rows
    replaced, re-quantised in the matrix's own type. Gemma ties the output layer to this matrix, as peft
    does, so the logits see the same rows.
The result is deterministic: the same base and adapter give the same bytes.
"""
from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np

from callforge.core.errors import CallforgeError

# peft module path -> GGUF tensor name (llama.cpp's names for Gemma/Llama-style blocks)
_LINEAR = {"q_proj": "attn_q", "k_proj": "attn_k", "v_proj": "attn_v", "o_proj": "attn_output",
           "gate_proj": "ffn_gate", "up_proj": "ffn_up", "down_proj": "ffn_down"}
_LORA_KEY = re.compile(r"^base_model\.model\.model\.layers\.(\d+)\.(?:self_attn|mlp)\.(\w+)\.lora_([AB])\.weight$")
_TOKENS_KEY = re.compile(r"^base_model\.model\.model\.embed_tokens\.token_adapter\.trainable_tokens_delta$")
_EMBEDDING = "token_embd.weight"


class MergeError(CallforgeError):
    """The adapter cannot be merged into the GGUF; .code says why (callforge/core/reasons.py)."""


def adapter_updates(adapter_dir: str | Path) -> tuple[dict[str, np.ndarray], dict[int, np.ndarray]]:
    """({GGUF tensor name: float32 delta}, {token id: new embedding row}) from a peft LoRA adapter folder."""
    from safetensors.numpy import load_file

    adapter_dir = Path(adapter_dir)
    conf = json.loads((adapter_dir / "adapter_config.json").read_text())
    if conf.get("peft_type") != "LORA" or conf.get("use_dora") or conf.get("lora_bias"):
        raise MergeError("merge.unsupported_adapter", "only plain LoRA adapters (no DoRA, no LoRA bias) merge into a GGUF")
    if conf.get("rank_pattern") or conf.get("alpha_pattern"):
        raise MergeError("merge.unsupported_adapter", "per-module ranks or alphas are not supported")
    r, alpha = int(conf["r"]), float(conf["lora_alpha"])
    scale = alpha / (r ** 0.5) if conf.get("use_rslora") else alpha / r
    weights = load_file(str(adapter_dir / "adapter_model.safetensors"))
    pairs: dict[str, dict[str, np.ndarray]] = {}
    rows: dict[int, np.ndarray] = {}
    for key, value in weights.items():
        m = _LORA_KEY.match(key)
        if m and m.group(2) in _LINEAR:
            name = f"blk.{m.group(1)}.{_LINEAR[m.group(2)]}.weight"
            pairs.setdefault(name, {})[m.group(3)] = value.astype(np.float32)
        elif _TOKENS_KEY.match(key):
            ids = conf.get("trainable_token_indices") or []
            ids = ids.get("embed_tokens", []) if isinstance(ids, dict) else ids
            if len(ids) != len(value):
                raise MergeError("merge.unsupported_adapter", f"{len(value)} trained token rows for {len(ids)} token ids")
            rows.update({int(i): value[k].astype(np.float32) for k, i in enumerate(ids)})
        else:
            raise MergeError("merge.unsupported_tensor", f"adapter tensor {key} has no GGUF counterpart")
    deltas = {}
    for name, ab in sorted(pairs.items()):
        if set(ab) != {"A", "B"}:
            raise MergeError("merge.unsupported_adapter", f"{name}: lora_A or lora_B missing")
        deltas[name] = scale * (ab["B"] @ ab["A"])
    return deltas, rows


def merge(base_gguf: str | Path, adapter_dir: str | Path, out: str | Path) -> dict:
    """Write base + adapter to `out` (atomically); returns what changed."""
    import gguf
    from gguf.quants import dequantize, quantize

    deltas, rows = adapter_updates(adapter_dir)
    reader = gguf.GGUFReader(str(base_gguf))
    arch = reader.fields["general.architecture"].contents()
    out = Path(out)
    tmp = out.with_name(out.name + ".part")
    writer = gguf.GGUFWriter(str(tmp), arch)
    writer.data_alignment = reader.alignment
    for name, field in reader.fields.items():
        if name.startswith("GGUF.") or name == "general.architecture":
            continue                                    # written by the writer itself
        sub = field.types[-1] if field.types[0] == gguf.GGUFValueType.ARRAY else None
        writer.add_key_value(name, field.contents(), field.types[0], sub_type=sub)
    seen, changed = set(), []
    F16 = gguf.GGMLQuantizationType.F16
    for t in reader.tensors:
        data, qtype = t.data, t.tensor_type
        if t.name in deltas:
            w = dequantize(np.asarray(data), qtype).astype(np.float32)
            if w.shape != deltas[t.name].shape:
                raise MergeError("merge.shape_mismatch", f"{t.name}: base {w.shape}, adapter delta {deltas[t.name].shape}")
            data, qtype = (w + deltas[t.name]).astype(np.float16), F16
            seen.add(t.name)
            changed.append(t.name)
        elif t.name == _EMBEDDING and rows:
            data = np.array(data)                        # a writable copy of the (quantised) matrix
            ids = sorted(rows)
            if max(ids) >= data.shape[0]:
                raise MergeError("merge.shape_mismatch", f"token id {max(ids)} outside the embedding matrix")
            new = np.stack([rows[i] for i in ids])
            data[ids] = new if qtype == gguf.GGMLQuantizationType.F32 else quantize(new, qtype)
            changed.append(t.name)
        writer.add_tensor(t.name, np.asarray(data), raw_dtype=qtype)   # quantised data: bytes, shape derived
    missing = sorted(set(deltas) - seen)
    if missing:
        raise MergeError("merge.unsupported_tensor", f"the base GGUF has no tensor {missing[0]} (of {len(missing)})")
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    tmp.replace(out)
    return {"lora_tensors": len(deltas), "token_rows": sorted(rows), "changed": len(changed), "type": "F16"}
