"""Judging on families of reports the models were not fitted to.

A family is a kind of report with its own index and its own questions: the shipped
inspection report (tests/data), the fictional archive, real company filings. Every
ranking and abstention choice is judged three ways:

- in-sample: fitted on every question of every family, scored on them;
- grouped cross-validation: folds grouped by base question, pooled over families;
- leave one family out: fitted on the other families only, scored on this one — what a
  report of a kind nobody tuned on gets.

Beside them, per family, plain dense search (FAISS over the question's embedding) and
plain BM25 over the same passages, and the precision of each relevance word ("strong",
"partial") — the share of answers whose first passage holds the answer — so that a
word means the same on every family.

    reportqa eval --cv --family filings=/tmp/filings-index:questions.jsonl,more.jsonl
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from fitting.crossval import (
    FOLDS,
    Captured,
    K,
    _fmt,
    _objective,
    capture,
    cross_validate,
    fit,
    load_questions,
    score,
    summarise,
)
from fitting.evaluate import Baselines, score_one
from retrieval.relevance import WORDS

#: Figures shown per family, in order, with their short names.
METRICS = (("hit@1", "hit@1"), ("hit@5", "hit@5"), ("hit@10", "hit@10"), ("mrr@10", "MRR"),
           ("recall@10", "multi"), ("report_first", "report 1st"),
           ("abstain_rate", "abst-unans"), ("false_abstain_rate", "abst-ans"))


@dataclass
class Family:
    """A family of reports: its name, its index and its question files."""

    name: str
    index: Path
    questions: list[Path]


def parse_family(spec: str) -> Family:
    """A family from `NAME=INDEX_DIR:QUESTIONS.jsonl[,MORE.jsonl]`."""
    from core.errors import ReportQAError

    name, eq, rest = spec.partition("=")
    index, colon, files = rest.partition(":")
    if not eq or not colon or not name or not index or not files:
        raise ReportQAError(f"--family {spec!r} is not NAME=INDEX_DIR:QUESTIONS.jsonl",
                            fix="e.g. --family filings=/tmp/filings-index:questions.jsonl")
    paths = [Path(f) for f in files.split(",") if f]
    for p in [Path(index), *paths]:
        if not p.exists():
            raise ReportQAError(f"--family {name}: {p} does not exist",
                                fix="build the family's index and give its question files")
    return Family(name, Path(index), paths)


def family_questions(name: str, paths: list[Path]) -> list[dict]:
    """A family's questions, tagged with the family; groups kept apart by family."""
    qs = load_questions(paths)
    for q in qs:
        q["family"] = name
        q["group"] = f"{name}:{q['group']}"
        if "question_type" in q:  # analysts' questions, as they wrote them
            q["style"] = "analyst"
    return qs


def open_searcher(index: Path):
    """A searcher over one family's index (its own store, the shared model)."""
    from ingest.embed import get_embedder
    from retrieval.search import Searcher
    from retrieval.store import Store

    store = Store(Path(index))
    return Searcher(store, get_embedder(store.model))


def leave_family_out(caps: list[Captured], ranker: str) -> tuple[list[dict], dict]:
    """Each family scored by models fitted on the other families alone; the rows and,
    per family, the configuration it was scored with."""
    families = sorted({c.q["family"] for c in caps})
    rows: list[dict] = []
    configs = {}
    for fam in families:
        rest = [c for c in caps if c.q["family"] != fam]
        mine = [c for c in caps if c.q["family"] == fam]
        if not rest or not mine:
            continue
        configs[fam] = cfg = fit(None, rest, ranker)
        rows += score(None, mine, cfg)
    return rows, configs


def limited_rows(searcher, questions: list[dict], cfg) -> dict[str, list[dict]]:
    """For questions that name their report (`file`): the system and plain dense
    search limited to that report, as a user who picked the report would search."""
    from fitting.evaluate import Ranked
    from retrieval.answer import Filters

    by_file = {Path(r.source_file).name.lower(): r.report_id for r in searcher.store.reports}
    out: dict[str, list[dict]] = {"system": [], "dense": []}
    for q in questions:
        rid = by_file.get(str(q.get("file", "")).lower())
        if not rid or not q.get("answerable", True):
            continue
        f = Filters(report_ids=(rid,))
        query = searcher.understand(q["question"])
        a = searcher.answer_from(query, searcher.candidates(query, filters=f), top_k=K,
                                 filtered=True, config=cfg)
        qv = searcher.embedder.encode([q["question"]])[0]
        ids = [r for r, _ in searcher.dense(qv, K, f)]
        ps = searcher.store.passages(ids)
        for name, ranked in (("system", Ranked.of([h.passage for h in a.hits], a.abstained)),
                             ("dense", Ranked.of(ps[r] for r in ids if r in ps))):
            r = score_one(q, ranked, K)
            r.update(style=q.get("style"), family=q["family"])
            out[name].append(r)
    return out


def baseline_rows(searcher, questions: list[dict]) -> dict[str, list[dict]]:
    """Plain dense and plain BM25 over a family's passages, scored the same way."""
    b = Baselines(searcher)
    out: dict[str, list[dict]] = {"dense": [], "bm25": []}
    for q in questions:
        for name, fn in (("dense", b.dense), ("bm25", b.bm25)):
            r = score_one(q, fn(q["question"], K), K)
            r.update(style=q.get("style"), family=q["family"])
            out[name].append(r)
    return out


def word_precision(rows: list[dict]) -> dict[str, tuple[float | None, int]]:
    """Per relevance word of the first passage: the share of answers whose first
    passage holds the answer (unanswerable questions count as misses), and how many."""
    out = {}
    for w in WORDS:
        rs = [r for r in rows if r.get("top_match") == w]
        out[w] = (sum(r["top_answers"] for r in rs) / len(rs) if rs else None, len(rs))
    return out


def _table(columns: dict[str, list[dict]]) -> list[str]:
    lines = [f"{'':<12}" + "".join(f"{n:>13}" for n in columns)]
    aggs = {n: summarise(rs) for n, rs in columns.items()}
    for key, short in METRICS:
        vals = [aggs[n].get(key) for n in columns]
        if all(v is None for v in vals):
            continue
        lines.append(f"{short:<12}" + "".join(f"{_fmt(v):>13}" for v in vals))
    lines.append(f"{'questions':<12}" + "".join(f"{aggs[n]['n']:>13}" for n in columns))
    return lines


def report(families: list[tuple[str, object, list[dict]]], ranker: str = "pairwise",
           progress=None) -> tuple[str, dict]:
    """The per-family report: (name, searcher, questions) for each family. Returns the
    text and the configuration fitted on every family."""
    caps: list[Captured] = []
    base: dict[str, dict[str, list[dict]]] = {}
    searcher_of = {name: searcher for name, searcher, _ in families}
    qs_of = {name: qs for name, _, qs in families}
    for name, searcher, qs in families:
        caps += capture(searcher, qs, progress)
        base[name] = baseline_rows(searcher, qs)
    final = fit(None, caps, ranker)
    ins = score(None, caps, final)
    grouped = cross_validate(None, caps, ranker)
    lofo, lofo_cfg = leave_family_out(caps, ranker)
    out = [f"{len(caps)} questions in {len(families)} families; ranker {ranker}; "
           f"grouped {FOLDS}-fold cross-validation pooled over families, and leave one "
           f"family out (fitted on the other families only)"]
    for name, _, _ in families:
        def of(rows, name=name):
            return [r for r in rows if r.get("family") == name]
        out.append(f"\n== {name} ==")
        out += _table({"in-sample": of(ins), "grouped CV": of(grouped),
                       "out-of-family": of(lofo), "plain dense": base[name]["dense"],
                       "plain BM25": base[name]["bm25"]})
        limited = limited_rows(searcher_of[name], qs_of[name], lofo_cfg.get(name, final))
        if limited["system"]:
            a, d = summarise(limited["system"]), summarise(limited["dense"])
            out.append(f"limited to the question's report ({a['n']} answerable), out of "
                       f"family | plain dense: hit@1 {_fmt(a['hit@1'])} | "
                       f"{_fmt(d['hit@1'])}, hit@5 {_fmt(a['hit@5'])} | {_fmt(d['hit@5'])}, "
                       f"MRR {_fmt(a['mrr@10'])} | {_fmt(d['mrr@10'])}")
            analysts = [r for r in limited["system"] if r.get("style") == "analyst"]
            if analysts:
                a = summarise(analysts)
                d = summarise([r for r in limited["dense"] if r.get("style") == "analyst"])
                out.append(f"  of them the analysts' ({a['n']}): hit@1 {_fmt(a['hit@1'])} | "
                           f"{_fmt(d['hit@1'])}, hit@5 {_fmt(a['hit@5'])} | "
                           f"{_fmt(d['hit@5'])}")
        prec = word_precision(of(lofo))
        out.append("first passage's word, out of family: " + "; ".join(
            f"{w} {_fmt(p)} of {n}" for w, (p, n) in prec.items()))
        out.append(f"per style ({name}, out-of-family | plain dense):")
        styles = sorted({str(r.get("style")) for r in of(lofo)})
        for st in styles:
            a = summarise([r for r in of(lofo) if str(r.get("style")) == st])
            d = summarise([r for r in base[name]["dense"] if str(r.get("style")) == st])
            out.append(f"  {st:<14} n={a['n']:<4} hit@1 {_fmt(a['hit@1'])} hit@5 "
                       f"{_fmt(a['hit@5'])} MRR {_fmt(a['mrr@10'])} abst-unans "
                       f"{_fmt(a['abstain_rate'])} abst-ans {_fmt(a['false_abstain_rate'])}"
                       f" | dense hit@1 {_fmt(d['hit@1'])} hit@5 {_fmt(d['hit@5'])}")
        kinds = sorted({str(r.get("kind")) for r in of(lofo) if not r["answerable"]})
        if kinds:
            out.append("  unanswerable, out-of-family abstention by kind: " + ", ".join(
                f"{k} {_fmt(summarise([r for r in of(lofo) if str(r.get('kind')) == k and not r['answerable']])['abstain_rate'])}"  # noqa: E501
                for k in kinds))
    return "\n".join(out), {"config": final, "in_sample": ins, "grouped": grouped,
                            "lofo": lofo, "baselines": base,
                            "objective": _objective(lofo)}
