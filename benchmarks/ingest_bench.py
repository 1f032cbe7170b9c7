"""Ingestion speed: PDF pages/second through the real reader (pypdf) and the whole
parse (read, clean, structure, passages); .txt reports the same way; and passages per
second end to end through ``build_index`` with the real model (parse + embed passages
and their sentences + write the index)."""

from __future__ import annotations

import shutil
import time
from pathlib import Path


def run(work: Path, n_pdf: int = 20, n_txt: int = 100, n_e2e: int = 3, seed: int = 5,
        log=print) -> dict:
    from benchmarks import scaler
    from ingest.pipeline import ingest_file
    from ingest.readers import read_pages

    base = work / "ingest"
    shutil.rmtree(base, ignore_errors=True)
    pdf_dir = base / "pdf"
    pdf_dir.mkdir(parents=True)
    t = time.perf_counter()
    pdfs = []
    for rep in scaler.iter_reports(n_pdf, seed):
        p = pdf_dir / f"{rep.file_stem}.pdf"
        scaler.write_pdf(rep, p)
        pdfs.append(p)
    make_s = time.perf_counter() - t
    t = time.perf_counter()
    pages = sum(len(read_pages(p)) for p in pdfs)
    read_s = time.perf_counter() - t
    t = time.perf_counter()
    results = [ingest_file(p) for p in pdfs]
    parse_s = time.perf_counter() - t
    n_pass = sum(len(r.passages) for r in results)
    failed = [r.error for r in results if r.error]
    out = {"pdf": {"reports": n_pdf, "pages": pages, "bytes": sum(p.stat().st_size for p in pdfs),
                   "generate_s": round(make_s, 1),
                   "read_pages_per_s": round(pages / read_s, 1),
                   "ingest_pages_per_s": round(pages / parse_s, 1),
                   "ingest_passages_per_s": round(n_pass / parse_s, 1),
                   "passages": n_pass, "failed": failed}}
    log(f"  ingest: PDF {out['pdf']}")
    txts = scaler.write_txt_corpus(base / "txt", n_txt, seed)
    t = time.perf_counter()
    results = [ingest_file(p) for p in txts]
    s = time.perf_counter() - t
    n_pass = sum(len(r.passages) for r in results)
    out["txt"] = {"reports": n_txt, "passages": n_pass,
                  "ingest_passages_per_s": round(n_pass / s, 1),
                  "ingest_reports_per_s": round(n_txt / s, 1)}
    log(f"  ingest: txt {out['txt']}")
    # End to end with the real model: read + parse + embed passages and sentences + write.
    from core.settings import load_settings
    from ingest.embed import get_embedder
    from ingest.index import build_index

    e2e = base / "e2e"
    corpus = e2e / "corpus"
    corpus.mkdir(parents=True)
    for p in pdfs[:n_e2e]:
        shutil.copy(p, corpus / p.name)
    emb = get_embedder()
    emb.encode(["load the model first, outside the timing"])
    t = time.perf_counter()
    summ = build_index(load_settings(corpus_dir=corpus, index_dir=e2e / "index"), full=True,
                       embedder=emb)
    s = time.perf_counter() - t
    out["end_to_end"] = {"reports": n_e2e, "format": "pdf", "passages": summ.passages,
                         "embedded_texts": summ.embedded, "seconds": round(s, 1),
                         "passages_per_s": round(summ.passages / s, 2),
                         "model": "packaged MiniLM, torch fp32 (ingest/embed.py)"}
    log(f"  ingest: end to end {out['end_to_end']}")
    shutil.rmtree(base, ignore_errors=True)
    return out
