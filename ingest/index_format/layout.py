"""Every name in an index folder, and the paths made of them. No other module spells
a file or folder of the index: they ask this one (see ingest/index_format/__init__.py
for what each file holds)."""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass
from pathlib import Path

#: The layout's version, recorded in every manifest; a reader refuses any other.
SCHEMA_VERSION = 4

# -- the index folder -----------------------------------------------------------------
#: The live build's name, replaced atomically.
CURRENT = "CURRENT"
#: Held (flock) by the one build that may run.
LOCK = "build.lock"
BUILDS = "builds"
SEGMENTS = "segments"
#: The embedding cache: cache/vectors.sqlite.
CACHE = "cache"
VECTOR_CACHE = "vectors.sqlite"
#: Folders being written start so (builds/.tmp-<id>, segments/.tmp-<id>); a crash
#: leaves only these, which the next build removes.
TMP = ".tmp-"

# -- a build (builds/<build id>/) -----------------------------------------------------
MANIFEST = "manifest.json"
#: The tantivy keyword index's folder.
KEYWORD = "keyword"
VOCAB_WORDS = "vocab.txt"
VOCAB_VECTORS = "vocab.npy"
LEXICON = "lexicon.json"
#: The lexicon's statistics (a build's, and each segment's own).
STATS = "stats.json"
#: A build's files besides its manifest and keyword index.
BUILD_FILES = (VOCAB_VECTORS, VOCAB_WORDS, LEXICON, STATS)

# -- a segment (segments/<segment id>/) -----------------------------------------------
PASSAGES = "passages.sqlite"
VECTORS = "vectors.npy"
ROWIDS = "rowids.npy"
#: Sentence vectors: float16 rows, or scalar-quantised codes and their ranges.
SENTENCES = "sentences.npy"
SENTENCE_CODES = "sentences.codes.npy"
SENTENCE_RANGES = "sentences.sq.npy"


def new_id() -> str:
    """A segment or build id: sortable by time, unique."""
    return dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%S") + "-" + uuid.uuid4().hex[:6]


def is_tmp(folder: Path) -> bool:
    """Whether a folder under builds/ or segments/ is one being written (or left by a
    crash)."""
    return folder.name.startswith(TMP)


@dataclass(frozen=True)
class IndexPaths:
    """The paths of one index folder."""

    root: Path

    def __post_init__(self) -> None:
        object.__setattr__(self, "root", Path(self.root))

    @property
    def current(self) -> Path:
        return self.root / CURRENT

    @property
    def lock(self) -> Path:
        return self.root / LOCK

    @property
    def builds(self) -> Path:
        return self.root / BUILDS

    @property
    def segments(self) -> Path:
        return self.root / SEGMENTS

    @property
    def vector_cache(self) -> Path:
        return self.root / CACHE / VECTOR_CACHE

    def build(self, build_id: str) -> Path:
        return self.builds / build_id

    def tmp_build(self, build_id: str) -> Path:
        return self.builds / f"{TMP}{build_id}"

    def segment(self, segment_id: str) -> Path:
        return self.segments / segment_id

    def tmp_segment(self, segment_id: str) -> Path:
        return self.segments / f"{TMP}{segment_id}"

    def current_tmp(self, build_id: str) -> Path:
        """Where the next CURRENT is written before it replaces the live one."""
        return self.root / f".{CURRENT}.{build_id}"
