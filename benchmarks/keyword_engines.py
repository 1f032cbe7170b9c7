"""Keyword search engines side by side (issue 13, item 1): SQLite FTS5 as today,
tantivy (Rust BM25 with block-max WAND top-k) and bm25s (sparse-matrix BM25), on the
same synthetic indexes and the same questions.

For each engine and size: build time, disk size, query p50/p95 for the top 60 (what the
answer path asks for), and how far its top 60 agree with FTS5's (overlap@60, the share
of FTS5's candidates it also returns). On the shipped report, keyword-only hit@5 on the
dev and training questions (does the engine find the gold passage among its top 5?).

    pip install -e '.[bench]'           # bm25s (tantivy is reportqa's own engine)
    python -m benchmarks.keyword_engines --sizes 100k,1M --n 60

The synthetic indexes are those of benchmarks/filter_bench.py (benchmarks/work/filters/,
built when missing); each engine's own index goes to benchmarks/work/keyword/ (git
ignores benchmarks/work/). The keyword query is the one the answer path builds."""

from __future__ import annotations

import argparse
import json
import re
import shutil
import sqlite3
import time
import types
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
WORK = ROOT / "benchmarks" / "work"
K = 60


def pct(xs: list[float]) -> dict:
    xs = sorted(xs)
    if not xs:
        return {}
    return {"p50": round(xs[len(xs) // 2] * 1000, 1),
            "p95": round(xs[min(len(xs) - 1, int(0.95 * len(xs)))] * 1000, 1)}


def _dir_size(p: Path) -> int:
    return sum(f.stat().st_size for f in p.rglob("*") if f.is_file())


def fts_queries(store, questions: list[str]) -> list[str]:
    """The FTS5 MATCH expressions the answer path builds for these questions."""
    from retrieval.query import parse
    from retrieval.search import Searcher

    shim = types.SimpleNamespace(store=store)
    return [Searcher.keyword_query(shim, parse(q, store.lexicon)) for q in questions]


def build_fts5(store, out: Path) -> sqlite3.Connection:
    """The FTS5 table reportqa used before tantivy, over the index's passages."""
    out.parent.mkdir(parents=True, exist_ok=True)
    out.unlink(missing_ok=True)
    db = sqlite3.connect(out)
    db.execute("CREATE VIRTUAL TABLE passages_fts USING fts5(text, section, "
               "tokenize='porter unicode61 remove_diacritics 2')")
    db.executemany("INSERT INTO passages_fts(rowid, text, section) VALUES (?,?,?)",
                   ((r, p.text, " > ".join(p.section)) for r, p in store.passage_rows()))
    db.commit()
    return db


def fts5_search(db: sqlite3.Connection, q: str) -> list[int]:
    if not q:
        return []
    return [r for (r,) in db.execute(
        "SELECT rowid FROM passages_fts WHERE passages_fts MATCH ? "
        "ORDER BY bm25(passages_fts, 1.0, 0.5) LIMIT ?", [q, K])]


def build_tantivy(store, out: Path):
    import tantivy

    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    sb = tantivy.SchemaBuilder()
    sb.add_integer_field("rowid", stored=True, indexed=True, fast=True)
    sb.add_text_field("text", stored=False, tokenizer_name="en_stem")
    sb.add_text_field("section", stored=False, tokenizer_name="en_stem")
    index = tantivy.Index(sb.build(), path=str(out))
    writer = index.writer(heap_size=512_000_000, num_threads=2)
    for rowid, p in store.passage_rows():
        writer.add_document(tantivy.Document(rowid=rowid, text=p.text,
                                             section=" > ".join(p.section)))
    writer.commit()
    writer.wait_merging_threads()
    index.reload()
    return index


def tantivy_search(index, q: str) -> list[int]:
    if not q:
        return []
    searcher = index.searcher()
    query = index.parse_query(q, ["text", "section"], field_boosts={"section": 0.5})
    return [searcher.doc(addr)["rowid"][0] for _, addr in searcher.search(query, K).hits]


def _bm25s_tokens(texts: list[str], stemmer):
    import bm25s

    return bm25s.tokenize(texts, stopwords="en", stemmer=stemmer, show_progress=False)


def build_bm25s(store):
    import bm25s

    try:
        import Stemmer

        stemmer = Stemmer.Stemmer("english")
    except ImportError:  # PyStemmer is optional for bm25s
        stemmer = None
    rowids, texts = [], []
    for rowid, p in store.passage_rows():
        rowids.append(rowid)
        texts.append(f"{' > '.join(p.section)} {p.text}")
    retriever = bm25s.BM25()
    retriever.index(_bm25s_tokens(texts, stemmer), show_progress=False)
    return retriever, rowids, stemmer


def bm25s_search(engine, q: str) -> list[int]:
    retriever, rowids, stemmer = engine
    words = " ".join(re.findall(r"[a-z0-9]+", q.lower()))
    if not words:
        return []
    docs, _ = retriever.retrieve(_bm25s_tokens([words], stemmer), k=min(K, len(rowids)),
                                 show_progress=False, n_threads=1)
    return [rowids[int(i)] for i in docs[0]]


def measure_size(size: str, n: int) -> dict:
    from benchmarks import scaler
    from benchmarks.filter_bench import ensure_index
    from benchmarks.run import parse_size
    from retrieval.store import Store

    index_dir = ensure_index(parse_size(size), WORK)
    store = Store(index_dir)
    questions = scaler.questions(n, seed=3)
    queries = fts_queries(store, questions)
    out: dict = {"passages": store.faiss.ntotal, "questions": len(queries)}
    fts_path = WORK / "keyword" / size / "fts5.sqlite"
    t = time.perf_counter()
    fts = build_fts5(store, fts_path)
    out["fts5"] = {"disk_bytes": fts_path.stat().st_size,
                   "build_s": round(time.perf_counter() - t, 1)}
    engines = {"fts5": lambda q: fts5_search(fts, q)}
    t = time.perf_counter()
    tan = build_tantivy(store, WORK / "keyword" / size / "tantivy")
    out["tantivy"] = {"build_s": round(time.perf_counter() - t, 1),
                      "disk_bytes": _dir_size(WORK / "keyword" / size / "tantivy")}
    engines["tantivy"] = lambda q: tantivy_search(tan, q)
    t = time.perf_counter()
    bm = build_bm25s(store)
    out["bm25s"] = {"build_s": round(time.perf_counter() - t, 1), "disk_bytes": None}
    engines["bm25s"] = lambda q: bm25s_search(bm, q)
    base = {}
    for name, fn in engines.items():
        fn(queries[0])  # warm
        times, overlaps = [], []
        for q in queries:
            t = time.perf_counter()
            got = fn(q)
            times.append(time.perf_counter() - t)
            if name == "fts5":
                base[q] = got
            elif base.get(q):
                overlaps.append(len(set(got) & set(base[q])) / len(base[q]))
        out[name].update(pct(times))
        if overlaps:
            out[name]["overlap@60_with_fts5"] = round(sum(overlaps) / len(overlaps), 3)
        print(f"  {size} {name}: {out[name]}", flush=True)
    return out


def shipped_quality() -> dict:
    """Keyword-only hit@5 of each engine on the shipped report's questions."""
    import tempfile

    from core.settings import load_settings
    from fitting.crossval import load_questions, training_files
    from fitting.matching import answers
    from ingest.index import build_index
    from retrieval.store import Store

    tmp = Path(tempfile.mkdtemp())
    corpus = tmp / "corpus"
    corpus.mkdir()
    shutil.copy(ROOT / "corpus" / "hmic-crime-inspection-2014-west-midlands.txt", corpus)
    build_index(load_settings(corpus_dir=corpus, index_dir=tmp / "index"))
    store = Store(tmp / "index")
    qs = [q for q in load_questions(training_files(ROOT / "tests" / "data")) if q.get("evidence")]
    queries = fts_queries(store, [q["question"] for q in qs])
    texts = {r: p.text for r, p in store.passages([int(r) for r in store.rowids]).items()}
    tan = build_tantivy(store, tmp / "tantivy")
    bm = build_bm25s(store)
    fts = build_fts5(store, tmp / "fts5.sqlite")
    engines = {"fts5": lambda q: fts5_search(fts, q),
               "tantivy": lambda q: tantivy_search(tan, q),
               "bm25s": lambda q: bm25s_search(bm, q)}
    out = {}
    for name, fn in engines.items():
        hits = [any(answers(q["evidence"], texts[r]) for r in fn(query)[:5])
                for q, query in zip(qs, queries)]
        out[name] = {"questions": len(hits), "keyword_hit@5": round(sum(hits) / len(hits), 3)}
    shutil.rmtree(tmp, ignore_errors=True)
    return out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", default="100k")
    ap.add_argument("--n", type=int, default=60)
    ap.add_argument("--json", type=Path, default=ROOT / "benchmarks" / "results" /
                    "keyword_engines.json")
    args = ap.parse_args(argv)
    res = {"shipped_report": shipped_quality()}
    print("shipped report:", res["shipped_report"], flush=True)
    for size in args.sizes.split(","):
        res[size] = measure_size(size, args.n)
    args.json.write_text(json.dumps(res, indent=2) + "\n")
    print(json.dumps(res, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
