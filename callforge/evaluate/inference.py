"""Answering function-calling questions with a model, and reading calls out of the answers.

Two backends, one interface (`generate(samples) -> list[str | None]`, None = no answer):
  HFGenerator      transformers generate, greedy, batched with left padding; the prompt is laid out
                   by callforge.complexity.render exactly as in fine-tuning (tools in the system prompt,
                   calls in Python call syntax). Works for a base model and base + LoRA adapter.
  ServerGenerator  any OpenAI-compatible server (vLLM serving the adapter, llama.cpp server, ...)
                   through callforge.core.gateway (retries, cache, bounded concurrency); the tool list
                   goes into the system message in the same words, the server's chat template does
                   the rest.
Answers are read with callforge.calling.calls.parse_calls (ast-based, never eval).
"""
from __future__ import annotations

import contextlib
import copy
import re
import time
from dataclasses import dataclass, field

from callforge.calling.calls import ParseError, parse_calls
from callforge.complexity.render import context_before_first_response, render, system_text
from callforge.calling.tools import BFCL_SOURCE, ToolError, normalise_tool

_FENCE = re.compile(r"^```[a-zA-Z]*\s*\n?(.*?)\n?```$", re.S)


# -- questions ----------------------------------------------------------------------------------------

def question_sample(sid: str, messages: list[dict], tools: list[dict]) -> dict:
    """A callforge-shaped sample holding just the question: messages before the answer, tools."""
    return {"id": sid, "messages": [dict(m) for m in messages], "tools": tools}


def bfcl_tools(functions: list[dict]) -> list[dict]:
    """BFCL function definitions in callforge's internal form (standard JSON Schema types), as the
    fine-tuning data presents tools; a definition that does not normalise is shown as given."""
    out = []
    for f in functions:
        try:
            out.append(normalise_tool(f, BFCL_SOURCE))
        except ToolError:
            out.append(f)
    return out


def prompt_text(sample: dict, chat_format: str) -> str:
    """The question as the model sees it, up to where its answer starts (the fine-tuning layout)."""
    s = copy.copy(sample)
    s["messages"] = list(sample["messages"]) + [{"role": "assistant", "content": "x"}]
    return context_before_first_response(render(s, chat_format, "python"))


# -- answers ------------------------------------------------------------------------------------------

@dataclass
class Parsed:
    calls: list[dict] = field(default_factory=list)   # [] when the answer holds no call
    error: str | None = None                           # parse reason code when it was not a call list


def parse_answer(text: str | None) -> Parsed:
    """Calls in a model answer. Plain text (no call list) is "no call", with the parser's code."""
    if text is None:
        return Parsed([], "answer.none")
    t = text.strip()
    m = _FENCE.match(t)
    if m:
        t = m.group(1).strip()
    if not t:
        return Parsed([], "answer.empty")
    try:
        return Parsed(parse_calls(t))
    except ParseError as e:
        return Parsed([], e.code)


# -- backends -----------------------------------------------------------------------------------------

ALIAS_COSINE = 0.98


def end_aliases(model, end_id: int) -> list[int]:
    """Tokens the model cannot tell apart from its end-of-turn token.

    A base model never saw its chat template's end token, so that token's (tied) output row is an
    untrained one, within cosine 0.98 of thousands of other untrained rows (unused slots, rare glyphs)
    in gemma-3-270m. LoRA alone does not train that row (callforge's finetune also trains it, see
    finetune.chat_token_ids): a model that means to end its turn lands on any of them and the answer
    runs on. Rows this close to the end token's row are taken as stops, for every model alike.
    A chat-tuned model's end row is trained and distinct, and gets no aliases."""
    import torch

    head = model.get_output_embeddings()
    if head is None:
        return []
    w = head.weight.detach()
    e = w[end_id].float()
    out = []
    for a in range(0, w.shape[0], 32768):          # blockwise: no full float copy of a 262k-row matrix
        blk = w[a:a + 32768].float()
        cos = (blk @ e) / (blk.norm(dim=1) * e.norm()).clamp_min(1e-12)
        out += (torch.nonzero(cos >= ALIAS_COSINE).flatten() + a).tolist()
    return sorted(set(out) - {end_id})

class HFGenerator:
    """Greedy answers from a transformers causal LM (optionally a peft model)."""

    def __init__(self, model, tokenizer, chat_format: str, *, max_new_tokens: int, batch_size: int,
                 max_prompt_tokens: int | None = None, adapter: bool = True):
        self.model, self.tok, self.fmt = model, tokenizer, chat_format
        self.adapter = adapter   # False on a peft model: answer as the base model (adapter switched off)
        self.max_new_tokens, self.batch_size, self.max_prompt_tokens = max_new_tokens, batch_size, max_prompt_tokens
        from callforge.finetune.train import chat_token_ids

        end = chat_token_ids(tokenizer, chat_format)
        self.aliases = end_aliases(model, end[0]) if end else []
        self.stop = sorted({i for i in [tokenizer.eos_token_id] + end + self.aliases if i is not None})
        self.stats = {"prompts": 0, "prompt_tokens": 0, "new_tokens": 0, "generate_s": 0.0, "skipped_too_long": 0,
                      "end_token_aliases": len(self.aliases)}

    def prompt_text(self, sample: dict) -> str:
        return prompt_text(sample, self.fmt)

    def generate(self, samples: list[dict]) -> list[str | None]:
        import torch

        encoded = [self.tok(self.prompt_text(s), add_special_tokens=False)["input_ids"] for s in samples]
        out: list[str | None] = [None] * len(samples)
        todo = [i for i, e in enumerate(encoded) if not self.max_prompt_tokens or len(e) <= self.max_prompt_tokens]
        self.stats["skipped_too_long"] += len(samples) - len(todo)
        todo.sort(key=lambda i: (len(encoded[i]), i))   # similar lengths share a batch: less padding
        device = next(self.model.parameters()).device
        pad = self.tok.pad_token_id
        for a in range(0, len(todo), self.batch_size):
            idx = todo[a:a + self.batch_size]
            width = max(len(encoded[i]) for i in idx)
            ids = torch.full((len(idx), width), pad, dtype=torch.long)
            mask = torch.zeros((len(idx), width), dtype=torch.long)
            for r, i in enumerate(idx):                 # left padding: every prompt ends at the same column
                ids[r, width - len(encoded[i]):] = torch.tensor(encoded[i])
                mask[r, width - len(encoded[i]):] = 1
            t0 = time.perf_counter()
            off = not self.adapter and hasattr(self.model, "disable_adapter")
            with torch.no_grad(), (self.model.disable_adapter() if off else contextlib.nullcontext()):
                gen = self.model.generate(input_ids=ids.to(device), attention_mask=mask.to(device),
                                          max_new_tokens=self.max_new_tokens, do_sample=False,
                                          eos_token_id=self.stop, pad_token_id=pad)
            self.stats["generate_s"] += time.perf_counter() - t0
            for r, i in enumerate(idx):
                new = gen[r, width:].tolist()
                cut = next((k for k, t in enumerate(new) if t in self.stop or t == pad), len(new))
                self.stats["new_tokens"] += cut
                out[i] = self.tok.decode(new[:cut], skip_special_tokens=True)
            self.stats["prompts"] += len(idx)
            self.stats["prompt_tokens"] += sum(len(encoded[i]) for i in idx)
        self.stats["generate_s"] = round(self.stats["generate_s"], 2)
        return out


def local_generators(model_cfg, adapter_dir: str | None, *, max_new_tokens: int, batch_size: int) -> tuple[dict, dict]:
    """{"base": ..., "finetuned": ...} sharing one loaded model (the adapter switched off for the
    base), and load info. model_cfg names the base model as fine-tuning did (the `finetune` section:
    base_model, chat_format, device, dtype). Without adapter_dir, only "base"."""
    from callforge.finetune import base_model

    loaded = base_model.load(model_cfg.base_model, model_cfg.device, model_cfg.dtype)
    fmt = base_model.chat_format_for(loaded, model_cfg.chat_format)
    model = loaded.model
    t0 = time.perf_counter()
    if adapter_dir:
        from peft import PeftModel
        model = PeftModel.from_pretrained(model, adapter_dir)
        model.eval()
    info = {"base_model": model_cfg.base_model, "base_sha256": loaded.sha256, "chat_format": fmt,
            "load_s": loaded.load_s, "load_from_cache": loaded.from_cache,
            "adapter_load_s": round(time.perf_counter() - t0, 2)}
    kw = {"max_new_tokens": max_new_tokens, "batch_size": batch_size}
    gens = {"base": HFGenerator(model, loaded.tokenizer, fmt, adapter=False, **kw)}
    if adapter_dir:
        gens["finetuned"] = HFGenerator(model, loaded.tokenizer, fmt, adapter=True, **kw)
    return gens, info


class ServerGenerator:
    """Greedy answers from an OpenAI-compatible server, through callforge's gateway."""

    def __init__(self, server, model: str, *, max_tokens: int, cache_dir, seed: int):
        """server: the `evaluate.server` config section; model: the name the server knows the model by."""
        from callforge.core.config_schema import LLMBudgetConfig, LLMConfig
        from callforge.core.gateway import Gateway

        # answers are free text (no schema asked for) and evaluation is not capped
        llm = LLMConfig(provider="compatible", model=model, base_url=server.base_url, api_key_env=server.api_key_env,
                        temperature=0.0, top_p=1.0, max_tokens=max_tokens, concurrency=server.concurrency,
                        timeout_s=server.timeout_s, max_retries=server.max_retries, repair_retries=0,
                        backoff_base_s=server.backoff_base_s, backoff_max_s=server.backoff_max_s,
                        cache=server.cache, seed=None, structured_output="json_object",
                        budget=LLMBudgetConfig(None, None, None, None, None))
        self.gateway = Gateway(llm, stage="evaluate", cache_dir=cache_dir, seed=seed)
        self.max_tokens = max_tokens
        self.failures: dict[str, int] = {}

    @staticmethod
    def messages(sample: dict) -> list[dict]:
        system = system_text(sample, "python")
        msgs = [{"role": "system", "content": system}] if system else []
        return msgs + [{"role": m["role"], "content": m.get("content") or ""}
                       for m in sample["messages"] if m["role"] != "system"]

    def generate(self, samples: list[dict]) -> list[str | None]:
        results = self.gateway.run_all([
            self.gateway.complete(self.messages(s), temperature=0.0, max_tokens=self.max_tokens, tag="evaluate")
            for s in samples])
        for r in results:
            if not r.ok:
                self.failures[r.reason] = self.failures.get(r.reason, 0) + 1
        return [r.text if r.ok else None for r in results]

    def close(self) -> None:
        self.gateway.close()
