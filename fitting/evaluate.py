"""`reportqa eval`: the gold-set metrics for the system and, side by side, for a plain
BM25 baseline and a plain dense baseline over the same passages."""

from __future__ import annotations

import json
import statistics
import time
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from fitting.matching import answers_question, item_in, passage_window


def load_gold(path: Path) -> list[dict]:
    """Gold questions, one JSON object a line."""
    out = []
    for n, line in enumerate(Path(path).read_text(encoding="utf-8").splitlines(), 1):
        if line.strip():
            try:
                out.append(json.loads(line))
            except ValueError as e:
                from core.errors import ReportQAError

                raise ReportQAError(f"{path}:{n}: not valid JSON ({e})",
                                    fix="one JSON object per line") from None
    return out


@dataclass
class Ranked:
    """A system's output for one question: passage texts in rank order, abstained?,
    and where each passage comes from ((source file, 1-based PDF pages); scoring by
    evidence pages needs it)."""

    texts: list[str]
    abstained: bool = False
    places: list[tuple[str, tuple[int, ...]]] | None = None

    @classmethod
    def of(cls, passages, abstained: bool = False) -> Ranked:
        """The output of a system that returned these passages."""
        passages = list(passages)
        return cls([p.text for p in passages], abstained,
                   [(p.source_file, tuple(p.pdf_pages)) for p in passages])


def score_one(q: dict, ranked: Ranked, k: int = 10) -> dict:
    """Per-question figures: first relevant rank (single), recall@5/@10 (multi)."""
    windows = [passage_window(t) for t in ranked.texts[:k]]
    ev = q.get("evidence") or []
    r: dict = {"id": q["id"], "kind": q.get("kind"), "answerable": q.get("answerable", True),
               "abstained": ranked.abstained}
    places = ranked.places or [("", ())] * len(ranked.texts)
    if q.get("file") and places[:1]:
        name = places[0][0].replace("\\", "/").rsplit("/", 1)[-1].lower()
        r["report_first"] = name == str(q["file"]).lower()
    if not r["answerable"]:
        return r
    if q.get("kind") == "multi":
        for cut in (5, 10):
            found = sum(1 for it in ev if any(item_in(it, w) for w in windows[:cut]))
            r[f"recall@{cut}"] = found / len(ev) if ev else 0.0
    first = next((i + 1 for i, (t, (f, pp)) in enumerate(zip(ranked.texts[:k], places))
                  if answers_question(q, t, f, pp)), None)
    r["rank"] = first
    return r


def aggregate(rows: list[dict]) -> dict:
    """hit@1/3/5, MRR@10 over single-fact questions; recall over multi; abstention."""
    single = [r for r in rows if r["answerable"] and r["kind"] != "multi"]
    multi = [r for r in rows if r["answerable"] and r["kind"] == "multi"]
    neg = [r for r in rows if not r["answerable"]]
    pos = [r for r in rows if r["answerable"]]

    def hit(rs, k):
        return sum(1 for r in rs if r["rank"] and r["rank"] <= k) / len(rs) if rs else None

    def mrr(rs):
        return sum(1 / r["rank"] for r in rs if r["rank"]) / len(rs) if rs else None

    firsts = [r["report_first"] for r in pos if "report_first" in r]
    out = {
        "n_single": len(single), "hit@1": hit(single, 1), "hit@3": hit(single, 3),
        "hit@5": hit(single, 5), "hit@10": hit(single, 10), "mrr@10": mrr(single),
        "report_first": sum(firsts) / len(firsts) if firsts else None,
        "n_multi": len(multi),
        "recall@5": statistics.mean(r["recall@5"] for r in multi) if multi else None,
        "recall@10": statistics.mean(r["recall@10"] for r in multi) if multi else None,
        "n_unanswerable": len(neg),
        "abstain_rate": sum(r["abstained"] for r in neg) / len(neg) if neg else None,
        "false_abstain_rate": sum(r["abstained"] for r in pos) / len(pos) if pos else None,
    }
    by_kind = defaultdict(list)
    for r in rows:
        # Unanswerable and answerable questions of one kind are figured apart.
        by_kind[r["kind"] if r["answerable"] or r["kind"] == "absent"
                else f"{r['kind']} (unanswerable)"].append(r)
    out["per_kind"] = {}
    for kind, rs in sorted(by_kind.items(), key=lambda x: str(x[0])):
        d: dict = {"n": len(rs)}
        if not rs[0]["answerable"]:
            d["abstain_rate"] = sum(r["abstained"] for r in rs) / len(rs)
        elif kind == "multi":
            d["recall@10"] = statistics.mean(r["recall@10"] for r in rs)
        else:
            d["hit@1"], d["hit@5"], d["mrr@10"] = hit(rs, 1), hit(rs, 5), mrr(rs)
        if rs[0]["answerable"]:
            d["false_abstain_rate"] = sum(r["abstained"] for r in rs) / len(rs)
        out["per_kind"][kind] = d
    return out


class Baselines:
    """What a user would pick instead, over the same passages: plain BM25 (the keyword index,
    question words ORed, no glossary, no rerank) and plain dense (FAISS top-k of the
    question embedding). Neither ever abstains."""

    def __init__(self, searcher):
        self.s = searcher

    def bm25(self, question: str, k: int) -> Ranked:
        import re

        words = [w for w in re.findall(r"[a-z0-9]+", question.lower()) if len(w) > 2]
        q = " OR ".join(f'"{w}"' for w in dict.fromkeys(words))
        hits = self.s.store.keywords.search(q, k) if q else []
        ps = self.s.store.passages([r for r, _ in hits])
        return Ranked.of(ps[r] for r, _ in hits)

    def dense(self, question: str, k: int) -> Ranked:
        qv = self.s.embedder.encode([question])[0]
        hits = self.s.dense(qv, k)
        ps = self.s.store.passages([r for r, _ in hits])
        return Ranked.of(ps[r] for r, _ in hits)


def run_eval(searcher, gold: list[dict], k: int = 10, baselines: bool = True) -> dict:
    """Evaluate the system (and baselines) on gold questions; returns a JSON-able dict
    with per-system aggregates, per-question rows and query latency."""
    systems = {"reportqa": []}
    lat = []
    if hasattr(searcher, "warm_up"):
        searcher.warm_up()  # start-up costs are not query latency
    for q in gold:
        t = time.perf_counter()
        a = searcher.ask(q["question"], top_k=k, qid=q["id"])
        lat.append((time.perf_counter() - t) * 1000)
        systems["reportqa"].append(score_one(q, Ranked.of([h.passage for h in a.hits],
                                                          a.abstained), k))
    if baselines:
        b = Baselines(searcher)
        systems["bm25"] = [score_one(q, b.bm25(q["question"], k), k) for q in gold]
        systems["dense"] = [score_one(q, b.dense(q["question"], k), k) for q in gold]
    return {
        "k": k, "n": len(gold),
        "systems": {name: aggregate(rows) for name, rows in systems.items()},
        "rows": systems["reportqa"],
        "latency_ms": {"p50": float(np.percentile(lat, 50)), "p95": float(np.percentile(lat, 95)),
                       "max": float(max(lat))} if lat else {},
    }


def format_table(result: dict) -> str:
    """The side-by-side table `reportqa eval` prints."""
    names = list(result["systems"])
    metrics = ["hit@1", "hit@3", "hit@5", "mrr@10", "recall@5", "recall@10", "abstain_rate",
               "false_abstain_rate"]
    lines = [f"{'metric':<20}" + "".join(f"{n:>10}" for n in names)]
    for m in metrics:
        row = f"{m:<20}"
        for n in names:
            v = result["systems"][n].get(m)
            row += f"{'—' if v is None else f'{v:.2f}':>10}"
        lines.append(row)
    s = result["systems"][names[0]]
    lines.append(f"(single-fact n={s['n_single']}, multi n={s['n_multi']}, "
                 f"unanswerable n={s['n_unanswerable']}; baselines never abstain)")
    lines.append("per kind (reportqa):")
    for kind, d in s["per_kind"].items():
        vals = ", ".join(f"{k}={'—' if v is None else (f'{v:.2f}' if isinstance(v, float) else v)}"
                         for k, v in d.items())
        lines.append(f"  {kind:<15} {vals}")
    if result.get("latency_ms"):
        lt = result["latency_ms"]
        lines.append(f"latency per question: p50 {lt['p50']:.0f} ms, p95 {lt['p95']:.0f} ms")
    return "\n".join(lines)
