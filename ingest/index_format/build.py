"""A build's folder (builds/<build id>/): its files besides the segments, each with its
writer and its reader side by side, the one way a new build is made live, and the
checks a reader runs before it trusts a build.

    manifest.json       ingest/index_format/manifest.py
    keyword/            ingest/index_format/keyword.py
    vocab.txt/.npy      the corpus's words and their float16 vectors (query bridging)
    lexicon.json        word document counts, learned short forms and places
    stats.json          the statistics the lexicon is learned from (for the next build;
                        each segment holds its own too)"""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from core.durable import commit_rename, sync_tree, write_atomic
from core.errors import IndexError_
from ingest.index_format.keyword import KeywordWriter, keyword_files
from ingest.index_format.layout import (
    BUILD_FILES,
    LEXICON,
    MANIFEST,
    STATS,
    VOCAB_VECTORS,
    VOCAB_WORDS,
    IndexPaths,
    new_id,
)
from ingest.index_format.manifest import (
    REBUILD,
    Manifest,
    check_files,
    file_record,
    read_manifest,
    write_manifest,
)
from ingest.lexicon import LexiconStats

# -- vocabulary: vocab.txt and vocab.npy ------------------------------------------------


def write_vocab(folder: Path, words: list[str], vectors: np.ndarray) -> None:
    """The corpus's words (one a line) and their vectors (float16, row i = word i)."""
    np.save(Path(folder) / VOCAB_VECTORS, np.asarray(vectors, dtype=np.float16),
            allow_pickle=False)
    (Path(folder) / VOCAB_WORDS).write_text("\n".join(words), encoding="utf-8")


def read_vocab(folder: Path) -> tuple[list[str], np.ndarray]:
    """The words and their vectors (memory-mapped); IndexError_ if they are damaged or
    do not match."""
    folder = Path(folder)
    try:
        text = (folder / VOCAB_WORDS).read_text(encoding="utf-8")
        vectors = np.load(folder / VOCAB_VECTORS, mmap_mode="r", allow_pickle=False)
    except (ValueError, OSError) as e:
        raise IndexError_(f"index file {folder / VOCAB_VECTORS} is damaged ({e})",
                          fix=REBUILD) from None
    words = text.split("\n") if text else []
    if vectors.ndim != 2 or len(words) != vectors.shape[0]:
        raise IndexError_(f"index at {folder.parent.parent} is inconsistent (vocabulary)",
                          fix=REBUILD)
    return words, vectors


# -- lexicon: lexicon.json --------------------------------------------------------------


@dataclass
class LexiconFile:
    """lexicon.json: passages using each word, learned short forms (alias → name),
    places (name → the body whose reports use it)."""

    words: dict[str, int]
    aliases: dict[str, str]
    places: dict[str, str]


def write_lexicon(folder: Path, lexicon: dict) -> None:
    """lexicon.json from LexiconStats.lexicon's content."""
    (Path(folder) / LEXICON).write_text(json.dumps(lexicon, sort_keys=True),
                                        encoding="utf-8")


def read_lexicon(folder: Path) -> LexiconFile:
    path = Path(folder) / LEXICON
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return LexiconFile(dict(data["words"]), dict(data["aliases"]),
                           dict(data.get("places") or {}))
    except (ValueError, KeyError, TypeError, AttributeError, OSError) as e:
        raise IndexError_(f"index file {path} is damaged ({e.__class__.__name__})",
                          fix=REBUILD) from None


# -- lexicon statistics: stats.json (a build's, and each segment's) ---------------------


def write_stats(folder: Path, stats: LexiconStats) -> None:
    (Path(folder) / STATS).write_text(stats.to_json(), encoding="utf-8")


def read_stats(folder: Path) -> LexiconStats | None:
    """The folder's lexicon statistics, None when it has none."""
    path = Path(folder) / STATS
    if not path.exists():
        return None
    return LexiconStats.from_json(path.read_text(encoding="utf-8"))


# -- the build folder -------------------------------------------------------------------


class BuildFolder:
    """A new build's folder, written as builds/.tmp-<id> until commit_build moves it
    into place (abort() drops it)."""

    def __init__(self, index_dir: Path, build_id: str | None = None):
        self.paths = IndexPaths(index_dir)
        self.id = build_id or new_id()
        self.paths.builds.mkdir(parents=True, exist_ok=True)
        self.path = self.paths.tmp_build(self.id)
        self.path.mkdir()

    def keyword_writer(self, previous: Path | None = None, threads: int = 1
                       ) -> KeywordWriter:
        """A writer of this build's keyword index, starting from the previous build's
        (that build's folder) when given."""
        return KeywordWriter(self.path, previous, threads)

    def copy_files(self, build: Path) -> None:
        """Copy another build's vocabulary, lexicon and statistics (a build that
        changes only segments and the keyword index: `index optimize`)."""
        for n in BUILD_FILES:
            shutil.copy2(Path(build) / n, self.path / n)

    def abort(self) -> None:
        shutil.rmtree(self.path, ignore_errors=True)


def commit_build(build: BuildFolder, manifest: Manifest) -> Path:
    """Record the build's files (sizes and checksums) in its manifest, write it, flush
    everything, move the build into place and point CURRENT at it (the one atomic step
    readers can observe). The build's final folder."""
    names = [*BUILD_FILES, *keyword_files(build.path)]
    manifest.files, manifest.checksums = file_record(build.path, names)
    write_manifest(build.path, manifest)
    # Durable in order (core/durable.py): the build's files and folder, its rename into
    # builds/, then CURRENT through a synced temporary file.
    sync_tree(build.path)
    final = build.paths.build(build.id)
    commit_rename(build.path, final)
    write_atomic(build.paths.current, build.id, tmp=build.paths.current_tmp(build.id))
    return final


def current_build_dir(index_dir: Path) -> Path | None:
    """The live build's folder (what CURRENT names), or None when there is no index
    yet."""
    paths = IndexPaths(index_dir)
    if not paths.current.exists():
        return None
    name = paths.current.read_text().strip()
    return paths.build(name) if name else None


def verify_build(build: Path | None, index_dir: Path) -> Manifest:
    """The build's manifest after checking it and every file it lists, the build's and
    each live segment's (present, right size, right checksum); raises IndexError_ with
    the fix otherwise."""
    if build is None:
        raise IndexError_(f"no index at {index_dir}", path=str(index_dir),
                          fix="run `reportqa index build`")
    manifest = read_manifest(build, index_dir)
    check_files(build, manifest.files, manifest.checksums)
    paths = IndexPaths(index_dir)
    for seg in manifest.segments:
        folder = paths.segment(seg.id)
        if not folder.is_dir():
            raise IndexError_(f"index segment {folder} is missing", fix=REBUILD)
        check_files(folder, seg.files, seg.checksums)
    return manifest


def listed_segments(build: Path) -> set[str] | None:
    """The segment ids a build's manifest lists; None when it cannot be read."""
    try:
        m = json.loads((Path(build) / MANIFEST).read_text())
        return {s["id"] for s in m["segments"]}
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return None
