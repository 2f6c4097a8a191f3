"""Greedy answers from a GGUF model through llama.cpp, many questions decoded together.

The engine of evaluate.engine=llama_cpp: the base GGUF answers as the base model, the merged GGUF
(callforge.evaluate.merged_gguf) as the tuned one, so both decode at the same native speed.

Why several sequences per decode: decoding one token of one sequence is a matrix-vector product per layer,
bound by memory bandwidth on a CPU; one decode call for B sequences reads the weights once for all B. The
questions are grouped by prompt length (sorted, so the groups, and hence the bytes, are the same every run),
each group's prompts are evaluated, then every step decodes one token for each sequence still running.

Prompts are laid out exactly as HFGenerator lays them out (callforge.evaluate.inference.prompt_text) and stop
at the same tokens (the end of turn, end of text, and the untrained rows a base model cannot tell from its
end-of-turn row, see inference.end_aliases). llama.cpp's kernels are not batch-invariant: a logit can move
in its last bits with the group a question is decoded in, so a near-tie in greedy decoding may break the
other way than in transformers. The grouping is fixed, so a rerun gives the same answers.
"""
from __future__ import annotations

import os
import time
from pathlib import Path

import numpy as np

from callforge.complexity.local import load_llama_cpp
from callforge.evaluate.inference import ALIAS_COSINE, prompt_text


def end_aliases_gguf(path: str | Path, end_id: int) -> list[int]:
    """inference.end_aliases on a GGUF: token rows of the (tied) embedding matrix within cosine 0.98 of the
    end-of-turn row, read block by block with the gguf package (no full float copy of 262k x 640)."""
    import gguf
    from gguf.quants import dequantize

    reader = gguf.GGUFReader(str(path))
    emb = next(t for t in reader.tensors if t.name == "token_embd.weight")
    data = np.asarray(emb.data)
    e = dequantize(data[end_id:end_id + 1], emb.tensor_type).astype(np.float32)[0]
    out = []
    for a in range(0, data.shape[0], 32768):
        blk = dequantize(data[a:a + 32768], emb.tensor_type).astype(np.float32)
        cos = (blk @ e) / np.maximum(np.linalg.norm(blk, axis=1) * np.linalg.norm(e), 1e-12)
        out += (np.flatnonzero(cos >= ALIAS_COSINE) + a).tolist()
    return sorted(set(out) - {end_id})


class LlamaCppGenerator:
    """Greedy answers from one GGUF file, `batch_size` questions decoded together."""

    def __init__(self, path: str | Path, chat_format: str, *, max_new_tokens: int, batch_size: int,
                 max_prompt_tokens: int, stop: list[int], aliases: int = 0, threads: int | None = None):
        lc = self._lc = load_llama_cpp()
        self.fmt, self.max_new_tokens, self.batch_size = chat_format, max_new_tokens, batch_size
        self.max_prompt_tokens = max_prompt_tokens
        threads = threads or os.cpu_count() or 1
        # the Llama object owns the weights and the tokenizer; decoding uses a context of our own, sized for
        # batch_size sequences (llama-cpp-python's own context holds one)
        self.llm = lc.Llama(str(path), n_ctx=256, n_batch=256, n_threads=threads, n_threads_batch=threads,
                            verbose=False)
        p = lc.llama_context_default_params()
        p.n_ctx = batch_size * (max_prompt_tokens + max_new_tokens)
        p.n_batch = p.n_ubatch = 512
        p.n_seq_max = batch_size
        p.n_threads = p.n_threads_batch = threads
        p.kv_unified = False          # one KV stream per sequence: attention never scans the other sequences
        p.swa_full = False            # no rollback here, so sliding-window layers keep only their window
        p.no_perf = True
        self._ctx = lc.llama_init_from_model(self.llm._model.model, p)
        if not self._ctx:
            raise RuntimeError(f"llama.cpp could not create a context of {p.n_ctx} tokens for {path}")
        self._mem = lc.llama_get_memory(self._ctx)
        self._batch = lc.llama_batch_init(512, 0, 1)
        self.n_vocab = self.llm.n_vocab()
        self.stop = set(stop)
        self.stats = {"prompts": 0, "prompt_tokens": 0, "new_tokens": 0, "generate_s": 0.0, "skipped_too_long": 0,
                      "end_token_aliases": aliases}

    def close(self) -> None:
        if self._ctx:
            self._lc.llama_batch_free(self._batch)
            self._lc.llama_free(self._ctx)
            self._ctx = None
            self.llm.close()

    def tokenize(self, text: str) -> list[int]:
        return self.llm.tokenize(text.encode("utf-8"), add_bos=False, special=True)

    def generate(self, samples: list[dict]) -> list[str | None]:
        encoded = [self.tokenize(prompt_text(s, self.fmt)) for s in samples]
        out: list[str | None] = [None] * len(samples)
        todo = [i for i, e in enumerate(encoded) if len(e) <= self.max_prompt_tokens]
        self.stats["skipped_too_long"] += len(samples) - len(todo)
        todo.sort(key=lambda i: (len(encoded[i]), i))        # similar lengths decode together
        t0 = time.perf_counter()
        for a in range(0, len(todo), self.batch_size):
            group = todo[a:a + self.batch_size]
            for i, toks in zip(group, self._decode_group([encoded[i] for i in group])):
                out[i] = self.llm.detokenize(toks).decode("utf-8", errors="replace")
                self.stats["new_tokens"] += len(toks)
            self.stats["prompts"] += len(group)
            self.stats["prompt_tokens"] += sum(len(encoded[i]) for i in group)
        self.stats["generate_s"] = round(self.stats["generate_s"] + time.perf_counter() - t0, 2)
        return out

    def _decode(self, items: list[tuple[int, int, int, bool]]) -> None:
        """One llama_decode over (token, position, sequence, wants logits) items (at most 512)."""
        b, lc = self._batch, self._lc
        for k, (tok, pos, seq, logits) in enumerate(items):
            b.token[k], b.pos[k], b.n_seq_id[k], b.logits[k] = tok, pos, 1, logits
            b.seq_id[k][0] = seq
        b.n_tokens = len(items)
        rc = lc.llama_decode(self._ctx, b)
        if rc != 0:
            raise RuntimeError(f"llama_decode returned {rc}")

    def _argmax(self, k: int) -> int:
        row = np.ctypeslib.as_array(self._lc.llama_get_logits_ith(self._ctx, k), shape=(self.n_vocab,))
        return int(np.argmax(row))

    def _decode_group(self, prompts: list[list[int]]) -> list[list[int]]:
        """Greedy continuations of `prompts`, each in its own sequence of one shared KV cache."""
        self._lc.llama_memory_clear(self._mem, True)
        nxt: list[int] = [0] * len(prompts)
        items = [(t, p, s, p == len(toks) - 1) for s, toks in enumerate(prompts) for p, t in enumerate(toks)]
        for a in range(0, len(items), 512):                   # prompts, packed 512 tokens per decode
            chunk = items[a:a + 512]
            self._decode(chunk)
            for k, (_, _, s, last) in enumerate(chunk):
                if last:
                    nxt[s] = self._argmax(k)
        outs: list[list[int]] = [[] for _ in prompts]
        running = [s for s in range(len(prompts)) if nxt[s] not in self.stop]
        while running:
            for s in running:
                outs[s].append(nxt[s])
            running = [s for s in running if len(outs[s]) < self.max_new_tokens]
            if not running:
                break
            self._decode([(nxt[s], len(prompts[s]) + len(outs[s]) - 1, s, True) for s in running])
            for k, s in enumerate(running):
                nxt[s] = self._argmax(k)
            running = [s for s in running if nxt[s] not in self.stop]
        return outs


def llama_cpp_generators(model_cfg, adapter_dir: str | None, tokenizer, chat_format: str, workdir: str | Path, *,
                         max_new_tokens: int, batch_size: int, max_prompt_tokens: int,
                         base: bool = True) -> tuple[dict, dict]:
    """{"base": ..., "finetuned": ...} on the base GGUF (finetune.base_model) and on base + adapter merged
    into a GGUF under `workdir` (a scratch folder the caller removes), and what was done. Without
    adapter_dir, only "base"; with base=False, only "finetuned".
    `tokenizer` (the transformers one fine-tuning used) names the end-of-turn token."""
    from callforge.evaluate.merged_gguf import merge
    from callforge.finetune.base_model import resolve
    from callforge.finetune.train import chat_token_ids

    kind, base_gguf, _ = resolve(model_cfg.base_model)
    if kind != "gguf":
        raise ValueError("evaluate.engine: llama_cpp needs a GGUF base model (finetune.base_model); "
                         "set evaluate.engine=transformers for a Hugging Face model folder")
    end = chat_token_ids(tokenizer, chat_format)
    aliases = end_aliases_gguf(base_gguf, end[0]) if end else []
    stop = sorted({i for i in [tokenizer.eos_token_id] + end + aliases if i is not None})
    kw = {"max_new_tokens": max_new_tokens, "batch_size": batch_size, "max_prompt_tokens": max_prompt_tokens,
          "stop": stop, "aliases": len(aliases)}
    gens = {"base": LlamaCppGenerator(base_gguf, chat_format, **kw)} if base else {}
    info = {}
    if adapter_dir:
        t0 = time.perf_counter()
        merged = Path(workdir) / "finetuned.gguf"
        info["merge"] = merge(base_gguf, adapter_dir, merged)
        info["merge_s"] = round(time.perf_counter() - t0, 2)
        gens["finetuned"] = LlamaCppGenerator(merged, chat_format, **kw)
    return gens, info
