"""A question asked across reports: for each report in scope, the report's passage
that answers it — the finding itself rather than a summary restating it — with the
figure its highlight states and, for questions about grades, the graded judgment."""

from __future__ import annotations

import re
from dataclasses import replace

from core.models import Report
from retrieval.answer import Comparison, ComparisonRow, Filters, Hit
from retrieval.query import Query
from retrieval.short_answer import short_answer
from retrieval.text import stem, tokens

#: Candidates from each search within one report (an answer's search across every
#: report takes SearchConfig.candidates). Measured: the archive comparisons' coverage
#: was the same at 20, 30, 40 and 60 (dev 0.924, held-back 0.861); on the real filings 117 of 119
#: rows kept their passage at 30 (a litigation section replaced an exhibit list in one);
#: a comparison of three reports took 60-93 ms at 60 (65-77 at 30).
REPORT_CANDIDATES = 30
#: A summary restating a finding gives way to the finding itself when the finding
#: scores at least this share of the summary's score.
FINDING_SHARE = 0.9
_PERCENT = re.compile(r"(?<![\d.])(\d{1,3}(?:\.\d+)?)\s*(?:%|per\s*cent\b|percent\b)", re.I)
_RATE = re.compile(r"(?<![\d.,])(\d[\d,]*(?:\.\d+)?)\s+(?:crimes?\s+|incidents?\s+|offences?\s+)?"
                   r"(?:per|for\s+every|in\s+every)\s+(1,000|1000|100,000|100000)", re.I)


def compare(searcher, question: str, filters: Filters | None = None,
            qid: str | None = None, query: Query | None = None) -> Comparison:
    """The comparison of `question` across the reports in scope (the filters, and the
    bodies, years and programme the question names), answered with `searcher` (a
    retrieval.search.Searcher), one row per report; with the short answer of its
    answering rows' passages (Comparison.as_answer). `query`: the question already
    read by searcher.understand."""
    query = query or searcher.understand(question)
    scope = searcher.scope(query)
    store = searcher.store
    base = dict(question=question, id=qid, searched_as=query.text, build_id=store.build_id)
    if scope.missing:
        return _with_short_answer(Comparison(rows=(), reason=scope.missing, **base))
    filters = scope.narrowed(filters or Filters())
    reports = {r.report_id: r for r in store.reports}
    latest = store.latest
    rows = []
    for rid in store.report_ids_where(filters):
        rep = reports[rid]
        a = searcher.answer_from(query, searcher.candidates(
            query, filters=replace(filters, report_ids=(rid,)), k=REPORT_CANDIDATES),
            top_k=3, filtered=True)
        hit = finding(a.hits, query)
        fig, unit = figure(hit.highlight) if hit else (None, None)
        grade, of = judgment(query, rep) if "grade" in query.wants else (None, None)
        rows.append(ComparisonRow(
            report_id=rid, title=rep.title, force=rep.force, year=rep.year,
            programme=rep.family, hit=hit, answers=bool(hit) and not a.abstained,
            confidence=a.confidence, judgment=grade, judgment_of=of, figure=fig,
            unit=unit, latest=latest.get(rid, True)))
    rows.sort(key=lambda r: (r.force, r.year or 0, r.title))
    reason = None if rows else "the filters leave no report"
    return _with_short_answer(Comparison(rows=tuple(rows), reason=reason, **base))


def _with_short_answer(c: Comparison) -> Comparison:
    return replace(c, short=short_answer(c.as_answer()).parts)


def finding(hits, query: Query) -> Hit | None:
    """A report's answering passage among its best hits: the best one, unless it is a
    summary restating a finding, or a recommendation when the question asks for no
    recommendation, and a passage stating findings (a paragraph or table row) scores
    nearly as well."""
    if not hits:
        return None
    top = hits[0]
    restating = ("summary",) if query.wants_recommendation else ("summary", "recommendation")
    if top.passage.kind in restating:
        for h in hits[1:]:
            if h.passage.kind in ("paragraph", "table") and h.score >= FINDING_SHARE * top.score:
                return h
    return top


def figure(text: str) -> tuple[float | None, str | None]:
    """The first percentage or rate a sentence states: (value, unit)."""
    m = _PERCENT.search(text or "")
    if m:
        return float(m.group(1)), "%"
    m = _RATE.search(text or "")
    if m:
        per = m.group(2).replace(",", "")
        return float(m.group(1).replace(",", "")), f"per {int(per):,}"
    return None, None


def judgment(query: Query, rep: Report) -> tuple[str | None, str | None]:
    """The graded judgment a question about grades asks for: the judged question or
    pillar whose heading shares the most of the question's terms, weighted by their
    IDF (a rare "legitimacy" outweighs a common "force"); else the overall one."""
    want = query.weights
    best, best_n = None, 0.0
    pairs = list(rep.judgments) + list(rep.pillar_judgments)
    stems = [{stem(x) for x in tokens(h)} for h, _ in pairs]
    # Words most judged headings share ("force", "effective") say nothing of which
    # question is meant.
    common = {t for t in set().union(*stems) if sum(t in st for st in stems) * 2 > len(stems)} \
        if len(stems) > 1 else set()
    for (heading, grade), st in zip(pairs, stems):
        n = sum(want[t] for t in st - common if t in want)
        if n > best_n:
            best, best_n = (grade, heading), n
    if best:
        return best
    if rep.overall_judgment:
        return rep.overall_judgment, "overall"
    return None, None
