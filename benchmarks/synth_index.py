"""Write a complete reportqa index directory straight from synthetic passages, for
sizes (100k-1M passages) where parsing files and embedding with the real model would
take hours. The result is what ``ingest.index.build_index`` writes, written through
the same index format (``ingest.index_format``): one segment (``SegmentWriter``), a
build folder with the tantivy keyword index, vocabulary, lexicon and statistics, and a
manifest made by ``ingest.index.new_manifest``, swapped in by ``commit_build`` — so
``retrieval.store.Store`` and ``retrieval.search.Searcher`` load it and the benchmark
measures the real query path.

Passages are streamed report by report, so memory stays bounded at any size (the
peak RSS is returned).
"""

from __future__ import annotations

import shutil
import time
from pathlib import Path

import numpy as np

from benchmarks import scaler


def _sentences(text: str) -> list[str]:
    from ingest.passages import passage_sentences

    return passage_sentences(text)


_EMB = None


def _chunk(job):
    """Worker: reports [start, start+n), each with its passages, their vectors, their
    sentences and sentence vectors, and its lexicon statistics."""
    global _EMB
    start, n, seed, emb_args, sentence_vectors = job
    if _EMB is None:
        from benchmarks.standin import HashEmbedder

        _EMB = HashEmbedder(**emb_args)
    from ingest.lexicon import LexiconStats

    out = []
    for rep in scaler.iter_reports(n, seed, start):
        report, ps = scaler.report_passages(rep)
        if not ps:
            continue
        sents = [_sentences(p.text) for p in ps]
        v = _EMB.encode([p.embed_text for p in ps])
        flat = [t for ss in sents for t in ss]
        if sentence_vectors == "embed":
            sv = _EMB.encode(flat) if flat else np.zeros((0, v.shape[1]), np.float32)
        else:
            rng = np.random.default_rng(start + len(out))
            owner = np.asarray([i for i, ss in enumerate(sents) for _ in ss], dtype=np.int64)
            base = v[owner]
            sv = base + rng.standard_normal(base.shape, dtype=np.float32) * 0.045
            sv /= np.linalg.norm(sv, axis=1, keepdims=True)
        out.append((report, ps, v.astype(np.float16), sents, sv.astype(np.float16),
                    LexiconStats.of(ps, report.force)))
    return out


def build(index_dir: Path, n_passages: int, settings, *, seed: int = 0,
          sentence_vectors: str = "embed", workers: int = 2, emb_args: dict | None = None,
          log=print) -> dict:
    """Build a synthetic index of n_passages under index_dir (replacing it), with
    stand-in vectors (benchmarks.standin.HashEmbedder(**emb_args)), written the way
    build_index writes one (ingest.index_format): a segment, a keyword index, the
    vocabulary, lexicon and statistics, and a manifest.

    sentence_vectors: "embed" embeds every sentence (as build_index does); "derive"
    makes each sentence vector from its passage's vector plus noise, ~8x cheaper, and
    changes no cost the benchmark measures (the rerank reads the same number of
    sentence vectors either way).

    Reports are generated and embedded in worker processes while this one writes, a
    report at a time, so memory stays bounded at any size. Returns timings, counts and
    the peak RSS of this process."""
    from multiprocessing import get_context

    from benchmarks.query_bench import rss_mb
    from benchmarks.standin import HashEmbedder
    from ingest.index import VOCAB_LIMIT, new_manifest
    from ingest.index_format import (
        BuildFolder,
        CorpusFile,
        SegmentWriter,
        commit_build,
        new_id,
        write_lexicon,
        write_stats,
        write_vocab,
    )
    from ingest.index_format.keyword import is_keyword_file
    from ingest.lexicon import LexiconStats

    t0 = time.perf_counter()
    index_dir = Path(index_dir)
    shutil.rmtree(index_dir, ignore_errors=True)
    index_dir.mkdir(parents=True)
    folder = BuildFolder(index_dir, "synthetic-" + new_id())
    emb_args = emb_args or {}
    probe = HashEmbedder(**emb_args)
    dim = probe.dimension
    writer = SegmentWriter(index_dir, dim, settings.sentence_codes)
    kw = folder.keyword_writer(threads=1)
    reports = []
    rowid = 0
    per = 20
    # ~92 passages a report; ask for enough reports and stop at n_passages.
    n_jobs = int(n_passages / 60 / per) + 2
    jobs = [(i * per, per, seed, emb_args, sentence_vectors) for i in range(n_jobs)]
    last_log = time.perf_counter()
    t_write = 0.0
    ctx = get_context("fork")
    with ctx.Pool(workers) as pool:
        for chunk in pool.imap(_chunk, jobs):
            for report, ps, v, sents, sv, stats in chunk:
                take = min(len(ps), n_passages - rowid)
                if take <= 0:
                    break
                if take < len(ps):
                    # The last report is cut: keep its first passages and their sentences.
                    ns = sum(len(x) for x in sents[:take])
                    ps, v, sents, sv = ps[:take], v[:take], sents[:take], sv[:ns]
                    stats = LexiconStats.of(ps, report.force)
                t = time.perf_counter()
                rows = list(zip(range(rowid + 1, rowid + 1 + len(ps)), ps))
                writer.add(report, rows, v, sents, sv, stats)
                kw.add(rows)
                t_write += time.perf_counter() - t
                rowid += len(ps)
                reports.append(report)
            if time.perf_counter() - last_log > 30:
                log(f"  synthetic index: {rowid:,}/{n_passages:,} passages "
                    f"({time.perf_counter() - t0:.0f} s, peak RSS {rss_mb()['peak']:.0f} MB)")
                last_log = time.perf_counter()
            if rowid >= n_passages:
                break
        pool.terminate()
    t_gen = time.perf_counter() - t0
    t = time.perf_counter()
    seg = writer.finish()
    kw.commit()
    t_finish = time.perf_counter() - t
    stats = writer.stats
    vocab = sorted(w for w, _ in stats.words.most_common(VOCAB_LIMIT))
    write_vocab(folder.path, vocab, probe.encode(vocab) if vocab else np.zeros((0, dim)))
    write_lexicon(folder.path, stats.lexicon(reports))
    write_stats(folder.path, stats)
    manifest = new_manifest(
        settings, folder.id, model=probe.name, dimension=dim, corpus_dir="(synthetic)",
        corpus_files=[CorpusFile(file=r.source_file, sha256=r.content_hash,
                                 report_id=r.report_id, passages=0, segment=seg.id)
                      for r in reports],
        segments=[seg], next_rowid=rowid + 1, seconds=round(time.perf_counter() - t0, 2),
        synthetic={"seed": seed, "vectors": "benchmarks.standin.HashEmbedder",
                   "sentence_vectors": sentence_vectors})
    commit_build(folder, manifest)
    files = manifest.files
    sizes = {**{f"segment/{k}": v for k, v in seg.files.items()},
             "keyword": sum(v for k, v in files.items() if is_keyword_file(k)),
             **{k: v for k, v in files.items() if not is_keyword_file(k)}}
    return {"passages": rowid, "reports": len(reports), "sentences": seg.sentences,
            "faiss": manifest.faiss, "files": sizes, "disk_bytes": sum(sizes.values()),
            "peak_rss_mb": round(rss_mb()["peak"], 1),
            "seconds": {"generate_embed_write": round(t_gen, 1), "write": round(t_write, 1),
                        "finish": round(t_finish, 1),
                        "total": round(time.perf_counter() - t0, 1)}}
