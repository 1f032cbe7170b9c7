"""The one entry point that answers a question, for the app and the command line alike
(`reportqa ask`, `--batch`, `export`): a question asked across reports ("compare …
across the forces", "each force", "which forces") gets the comparison, one row per
report; any other question gets the answer, its cited passages. Every caller goes
through `respond`, so the same question gets the same kind of reply everywhere, and the
reply says which kind it is."""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Literal

from retrieval.answer import Answer, Comparison, Filters

#: The kinds of reply.
ANSWER = "answer"
COMPARISON = "comparison"


@dataclass(frozen=True)
class Response:
    """What a question got. `kind` says which: "comparison" (then `comparison` holds the
    table) or "answer". `answer` is always there: for a comparison, the answering rows'
    passages as one Answer (rank = row number), which the app shows as cards and the
    exports write."""

    kind: Literal["answer", "comparison"]
    answer: Answer
    comparison: Comparison | None = None

    def to_dict(self) -> dict:
        """The machine-readable reply, "kind" first: an answer as `Answer.to_dict`; a
        comparison as `reportqa compare --json` gives it ("comparison": true, "rows",
        "chart_unit"), with its answering passages as an answer's fields beside it, so
        a script reading "passages" or "short_answer" reads either kind."""
        d = {"kind": self.kind, **self.answer.to_dict()}
        if self.comparison is not None:
            d.update(self.comparison.to_dict())
        return d


def asks_across_reports(searcher, answer: Answer) -> bool:
    """Whether the question `answer` answers is one for the comparison: its scope says
    it asks across reports, it was not read as a follow-up (a follow-up's "compare"
    leans on the previous turn's subject, not on every report), and the index holds
    more than one report to compare."""
    return (bool((answer.scope or {}).get("compare")) and not answer.follow_up_of
            and len(searcher.store.reports) > 1)


def respond(searcher, question: str, *, top_k: int = 5, filters: Filters | None = None,
            history: list[str] | None = None, qid: str | None = None,
            follow_up: bool | None = None,
            step: Callable[[str], AbstractContextManager] | None = None) -> Response:
    """Answer `question` with `searcher` (a retrieval.search.Searcher): the comparison
    when it asks across reports (see asks_across_reports) and at least one report
    answers it, else the answer. `top_k`, `filters`, `history`, `qid` and `follow_up`
    are Searcher.ask's. `step`, when given, wraps each stage and is called with what
    the stage does ("Searching the reports…"), e.g. st.spinner."""
    step = step or (lambda _what: contextlib.nullcontext())

    def ask() -> Answer:
        with step("Searching the reports…"):
            return searcher.ask(question, top_k=top_k, filters=filters, history=history,
                                qid=qid, follow_up=follow_up)

    def compare(query=None) -> Comparison:
        with step("Comparing the reports…"):
            return searcher.compare(question, filters=filters, qid=qid, query=query)

    alone = follow_up is False or not (history and history[-1].strip())
    query = searcher.understand(question) if alone and len(searcher.store.reports) > 1 \
        else None
    if query is not None and searcher.scope(query).compare:
        # A question read alone that asks across reports: the comparison first, and
        # the answer only if no report answers (the answer's search would otherwise
        # be done and dropped: a third of a two-report comparison's time).
        comparison = compare(query)
        if comparison.answering:
            return Response(COMPARISON, comparison.as_answer(), comparison)
        return Response(ANSWER, ask())
    answer = ask()
    if asks_across_reports(searcher, answer):
        comparison = compare()
        # A table in which no report answers says less than the answer's nearest
        # passages and its reason, so that question keeps its answer.
        if comparison.answering:
            return Response(COMPARISON, comparison.as_answer(), comparison)
    return Response(ANSWER, answer)
