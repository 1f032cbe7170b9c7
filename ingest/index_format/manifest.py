"""A build's manifest (manifest.json), typed: what the build is (id, model, settings,
software versions), what it was built from (the corpus files and their hashes), the
live segments with the reports deleted from each, counts, and the size and checksum
of every file it lists, which a reader checks before it trusts any of them."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field
from pathlib import Path

from core.errors import IndexError_
from ingest.index_format.layout import MANIFEST, SCHEMA_VERSION
from ingest.readers import file_hash

#: Files up to this size are checksummed in the manifest and verified on load (bigger
#: ones, at archive scale, are checked by size only: hashing them would slow start-up).
VERIFY_LIMIT = 256 << 20
#: The fix every damaged-index error names.
REBUILD = "run `reportqa index build --full`"


def now() -> str:
    """A manifest's time stamp."""
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


@dataclass
class CorpusFile:
    """One corpus file the build serves: its path relative to the corpus root, content
    hash, report id, passages, and the segment that holds them. `stale` is why its
    file fails to read now, when the build keeps serving its previous version."""

    file: str
    sha256: str
    report_id: str
    passages: int
    segment: str
    stale: str | None = None

    @classmethod
    def from_dict(cls, d: dict) -> CorpusFile:
        return cls(str(d["file"]), str(d["sha256"]), str(d["report_id"]),
                   int(d["passages"]), str(d["segment"]), d.get("stale"))

    def to_dict(self) -> dict:
        d = {"file": self.file, "sha256": self.sha256, "report_id": self.report_id,
             "passages": self.passages, "segment": self.segment}
        if self.stale is not None:
            d["stale"] = self.stale
        return d


@dataclass
class SegmentEntry:
    """A live segment as a build lists it: its counts, its files' sizes and checksums,
    and the reports this build no longer serves from it."""

    id: str
    reports: int
    passages: int
    sentences: int
    files: dict[str, int]
    checksums: dict[str, str] = field(default_factory=dict)
    sentence_codes: str = "fp16"
    deleted: list[str] = field(default_factory=list)
    deleted_passages: int = 0

    @property
    def live_passages(self) -> int:
        """Passages not deleted."""
        return self.passages - self.deleted_passages

    @classmethod
    def from_dict(cls, d: dict) -> SegmentEntry:
        if not isinstance(d["files"], dict):
            raise TypeError("segment files")
        return cls(id=str(d["id"]), reports=int(d.get("reports", 0)),
                   passages=int(d["passages"]), sentences=int(d.get("sentences", 0)),
                   files=dict(d["files"]), checksums=dict(d.get("checksums") or {}),
                   sentence_codes=str(d.get("sentence_codes", "fp16")),
                   deleted=[str(r) for r in d.get("deleted") or []],
                   deleted_passages=int(d.get("deleted_passages", 0)))

    def to_dict(self) -> dict:
        return {"id": self.id, "reports": self.reports, "passages": self.passages,
                "sentences": self.sentences, "sentence_codes": self.sentence_codes,
                "files": dict(self.files), "checksums": dict(self.checksums),
                "deleted": list(self.deleted), "deleted_passages": self.deleted_passages}


@dataclass
class Counts:
    """What a build serves: reports, live passages, sentences (of its segments, deleted
    ones included), segments."""

    reports: int = 0
    passages: int = 0
    sentences: int = 0
    segments: int = 0

    @classmethod
    def of(cls, files: list[CorpusFile], segments: list[SegmentEntry]) -> Counts:
        return cls(reports=len(files), passages=sum(s.live_passages for s in segments),
                   sentences=sum(s.sentences for s in segments), segments=len(segments))

    @classmethod
    def from_dict(cls, d: dict) -> Counts:
        return cls(int(d.get("reports", 0)), int(d["passages"]), int(d.get("sentences", 0)),
                   int(d.get("segments", 0)))

    def to_dict(self) -> dict:
        return dict(self.__dict__)


@dataclass
class Manifest:
    """A build's manifest. `files` and `checksums` (the build's own files) are filled in
    when the build is committed (ingest.index_format.build.commit_build)."""

    build_id: str
    model: str
    dimension: int
    #: The FAISS index a reader makes: {"type": "flat-ip" | "flat-fp16"}.
    faiss: dict
    #: The settings that shape the index (a build reuses reports only when they match).
    settings: dict = field(default_factory=dict)
    versions: dict = field(default_factory=dict)
    built_at: str = field(default_factory=now)
    corpus_dir: str = ""
    corpus_files: list[CorpusFile] = field(default_factory=list)
    segments: list[SegmentEntry] = field(default_factory=list)
    #: The rowid the next passage gets (rowids are never reused).
    next_rowid: int = 1
    counts: Counts = field(default_factory=Counts)
    files: dict[str, int] = field(default_factory=dict)
    checksums: dict[str, str] = field(default_factory=dict)
    seconds: float = 0.0
    failures: list[dict] = field(default_factory=list)
    stale: list[dict] = field(default_factory=list)
    duplicates: list[dict] = field(default_factory=list)
    #: What the build did (added, changed, unchanged, removed, embedded, reused_vectors).
    summary: dict | None = None
    #: The build `reportqa index optimize` made this one from.
    optimized_from: str | None = None
    #: How a benchmark's synthetic index was made (benchmarks/synth_index.py).
    synthetic: dict | None = None
    schema_version: int = SCHEMA_VERSION

    @classmethod
    def from_dict(cls, d: dict) -> Manifest:
        """A manifest from its JSON; KeyError, TypeError or ValueError if entries are
        missing or of the wrong kind."""
        model, corpus = d["model"], d.get("corpus") or {}
        if not (isinstance(model["name"], str) and isinstance(d["build_id"], str)
                and isinstance(d["files"], dict) and isinstance(d["faiss"], dict)):
            raise TypeError("manifest entries")
        m = cls(
            build_id=d["build_id"], model=model["name"], dimension=int(model["dimension"]),
            faiss=dict(d["faiss"]), settings=dict(d.get("settings") or {}),
            versions=dict(d.get("versions") or {}), built_at=str(d.get("built_at", "")),
            corpus_dir=str(corpus.get("dir", "")),
            corpus_files=[CorpusFile.from_dict(x) for x in corpus.get("files", [])],
            segments=[SegmentEntry.from_dict(s) for s in d["segments"]],
            next_rowid=int(d.get("next_rowid", 1)), counts=Counts.from_dict(d["counts"]),
            files=dict(d["files"]), checksums=dict(d.get("checksums") or {}),
            seconds=float(d.get("seconds", 0.0)), failures=list(d.get("failures", [])),
            stale=list(d.get("stale", [])), duplicates=list(d.get("duplicates", [])),
            summary=d.get("summary"), optimized_from=d.get("optimized_from"),
            synthetic=d.get("synthetic"), schema_version=int(d["schema_version"]))
        if m.dimension <= 0 or m.counts.passages < 0:
            raise ValueError("manifest counts")
        return m

    _KEYS = ("schema_version", "build_id", "built_at", "model", "faiss", "versions",
             "settings", "corpus", "segments", "next_rowid", "counts", "files", "checksums",
             "seconds", "failures", "stale", "duplicates", "summary", "optimized_from",
             "synthetic")

    def _entry(self, key: str):
        if key == "model":
            return {"name": self.model, "dimension": self.dimension}
        if key == "corpus":
            return {"dir": self.corpus_dir, "files": [f.to_dict() for f in self.corpus_files]}
        if key == "segments":
            return [s.to_dict() for s in self.segments]
        if key == "counts":
            return self.counts.to_dict()
        return getattr(self, key)

    def to_dict(self) -> dict:
        """The JSON form (manifest.json); optional entries left out when unset."""
        out = {}
        for k in self._KEYS:
            v = self._entry(k)
            if v is not None or k not in ("summary", "optimized_from", "synthetic"):
                out[k] = v
        return out

    def segment(self, segment_id: str) -> SegmentEntry:
        """The live segment of this id."""
        return next(s for s in self.segments if s.id == segment_id)

    def model_key(self) -> str:
        """The key the build's passage vectors are cached under (model and dimension)."""
        return f"{self.model}:{self.dimension}"

    def sentence_key(self) -> str:
        """The key its sentence and word vectors are cached under: the sentence model's
        (settings.sentence_model; builds that predate it used the model itself)."""
        return f"{self.settings.get('sentence_model') or self.model}:{self.dimension}"


def write_manifest(folder: Path, manifest: Manifest) -> Path:
    """Write a build folder's manifest.json; its path."""
    path = Path(folder) / MANIFEST
    path.write_text(json.dumps(manifest.to_dict(), indent=2))
    return path


def read_manifest(folder: Path, index_dir: Path | None = None) -> Manifest:
    """A build folder's manifest, parsed and typed, its schema version checked (the
    files it lists are not: see ingest.index_format.build.verify_build). Raises
    IndexError_ naming the problem and the fix."""
    where = Path(index_dir) if index_dir is not None else Path(folder).parent.parent
    path = Path(folder) / MANIFEST
    try:
        d = json.loads(path.read_text())
    except FileNotFoundError:
        raise IndexError_(f"index at {where} is incomplete: {path} is missing",
                          fix=REBUILD) from None
    except (ValueError, OSError, UnicodeDecodeError) as e:
        raise IndexError_(f"index manifest {path} is damaged ({e.__class__.__name__})",
                          fix=REBUILD) from None
    if not isinstance(d, dict):
        raise IndexError_(f"index manifest {path} is damaged", fix=REBUILD)
    v = d.get("schema_version")
    if v != SCHEMA_VERSION:
        raise IndexError_(f"index at {where} has schema version {v}; this reportqa "
                          f"reads version {SCHEMA_VERSION}", fix=REBUILD)
    if not isinstance(d.get("segments"), list):
        raise IndexError_(f"index manifest {path} is damaged (no segments)", fix=REBUILD)
    try:
        return Manifest.from_dict(d)
    except (KeyError, TypeError, ValueError, AttributeError):
        raise IndexError_(f"index manifest {path} is damaged (entries missing)",
                          fix=REBUILD) from None


def file_record(folder: Path, names) -> tuple[dict[str, int], dict[str, str]]:
    """The sizes of some files of a folder, and the checksums of those up to
    VERIFY_LIMIT: what a manifest records so a reader can check them."""
    folder = Path(folder)
    sizes = {n: (folder / n).stat().st_size for n in names}
    return sizes, {n: file_hash(folder / n) for n, size in sizes.items()
                   if size <= VERIFY_LIMIT}


def check_files(folder: Path, sizes: dict, sums: dict) -> None:
    """Every listed file present, of its recorded size and checksum; IndexError_ if
    not."""
    for name, size in sizes.items():
        p = Path(folder) / name
        if not p.exists():
            raise IndexError_(f"index file {p} is missing", fix=REBUILD)
        if p.stat().st_size != size:
            raise IndexError_(
                f"index file {p} is damaged (size {p.stat().st_size}, expected {size})",
                fix=REBUILD)
        if name in sums and file_hash(p) != sums[name]:
            raise IndexError_(f"index file {p} is damaged (checksum mismatch)", fix=REBUILD)
