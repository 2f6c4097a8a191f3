"""The typed schema of callforge's configuration.

`conf/` (Hydra) is the source of truth for values; this module says which keys exist and what type
each has. `callforge.config` merges the composed config onto `Config`, so an unknown key, a wrong type
or a missing required value (`???`) stops the run before any work, naming the key.
Each stage area adds one dataclass here and one field on `Config`.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Optional

from omegaconf import MISSING


@dataclass
class LLMConfig:
    provider: str = MISSING            # offline | openai | compatible | local
    model: str = MISSING
    base_url: Optional[str] = None     # for compatible/local: http://host:port/v1
    api_key_env: Optional[str] = None  # NAME of the env var holding the key; the key itself never enters config
    temperature: float = 0.7
    top_p: float = 1.0
    max_tokens: int = 1024
    seed: Optional[int] = None         # sampling seed sent to the server (defaults to the pipeline seed)
    concurrency: int = 16
    timeout_s: float = 60.0
    max_retries: int = 5
    backoff_base_s: float = 0.5
    backoff_max_s: float = 30.0
    repair_retries: int = 2            # extra attempts when an answer is not valid JSON / not the expected shape
    cache: bool = True


@dataclass
class TrackingConfig:
    enabled: bool = True
    tracking_uri: str = "sqlite:///mlflow.db"   # MLFLOW_TRACKING_URI in the environment wins
    experiment: str = "callforge"


@dataclass
class Config:
    seed: int = 0
    run_name: Optional[str] = None
    cache_dir: str = ".cache/callforge"
    llm: LLMConfig = field(default_factory=LLMConfig)
    tracking: TrackingConfig = field(default_factory=TrackingConfig)
