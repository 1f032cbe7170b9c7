"""What retrieval returns: an Answer with ranked Hits, each a Passage with its score
and highlight, and the short answer above them; a Comparison, one row per report. The
machine-readable form is docs/cli.md's ("Machine-readable answers")."""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from core.models import Passage

NO_ANSWER = "No passage in the indexed reports answers this."


@dataclass(frozen=True)
class Filters:
    """Restrict a search. Empty fields mean no restriction; section matches any part
    of the section path, case-insensitively."""

    report_ids: tuple[str, ...] = ()
    forces: tuple[str, ...] = ()
    years: tuple[int, ...] = ()
    section: str | None = None
    kinds: tuple[str, ...] = ()
    #: Programmes (Report.programme, e.g. "PEEL effectiveness"), matched case-blind.
    programmes: tuple[str, ...] = ()
    #: Only each body's latest report of each programme (superseded ones left out).
    latest_only: bool = False

    def accepts(self, p: Passage) -> bool:
        """Whether a passage passes the passage-level filters (report, force, year,
        section, kind); programme and latest-only are report-level (the Store's
        :meth:`retrieval.store.Store.allowed` applies every filter at any index size)."""
        if self.report_ids and p.report_id not in self.report_ids:
            return False
        if self.forces and not any(f.lower() in (p.force or "").lower() for f in self.forces):
            return False
        if self.years and p.year not in self.years:
            return False
        if self.section:
            s = self.section.lower()
            if not any(s in part.lower() for part in p.section):
                return False
        return not (self.kinds and p.kind not in self.kinds)

    @property
    def active(self) -> bool:
        return bool(self.report_ids or self.forces or self.years or self.section or self.kinds
                    or self.programmes or self.latest_only)


@dataclass(frozen=True)
class Hit:
    """One cited passage in an answer."""

    passage: Passage
    score: float
    highlight: str
    rank: int = 0
    features: dict = field(default_factory=dict, compare=False)
    #: Relevance in words: "strong", "partial" or "weak" match (retrieval/relevance.py).
    match: str = ""

    def to_dict(self) -> dict:
        """The passage object of the machine-readable answers."""
        p = self.passage
        return {
            "rank": self.rank, "score": round(float(self.score), 4), "match": self.match,
            "passage_id": p.passage_id, "citation": p.citation, "report": p.report_title,
            "report_id": p.report_id, "force": p.force, "year": p.year,
            "section": list(p.section), "page": p.page or None,
            "pdf_page": p.pdf_pages[0] if p.pdf_pages else None, "kind": p.kind,
            "text": p.text, "highlight": self.highlight, "source_file": p.source_file,
        }


#: Parts of a short answer: (verbatim text, passage rank or None).
Parts = tuple[tuple[str, int | None], ...]


@dataclass(frozen=True)
class ShortAnswer:
    """The short answer: its parts (verbatim text, passage rank or None for the
    abstention reason), the joined text with markers, and the ranks cited. Made by
    retrieval/short_answer.py."""

    parts: Parts

    @property
    def text(self) -> str:
        """The parts joined, each cited part followed by its marker: "… [1] … [2]"."""
        return " ".join(t if r is None else f"{t} [{r}]" for t, r in self.parts)

    @property
    def cites(self) -> tuple[int, ...]:
        """The passage ranks cited, in order."""
        return tuple(r for _, r in self.parts if r is not None)

    def to_dict(self) -> dict:
        """The machine-readable `short_answer` object."""
        return {"text": self.text, "cites": list(self.cites)}


@dataclass(frozen=True)
class Answer:
    """The passages that answer a question, or (abstained) the nearest ones."""

    question: str
    hits: tuple[Hit, ...]
    abstained: bool
    confidence: float
    id: str | None = None
    #: The question as searched (normalised, spell-corrected, with the previous
    #: question when read as a follow-up).
    searched_as: str | None = None
    build_id: str = ""
    #: The abstention signals behind `confidence` (see retrieval/abstain.py).
    signals: dict = field(default_factory=dict, compare=False)
    #: Why no passage answers (one line), when abstained.
    reason: str | None = None
    #: The previous question this one was read as a follow-up of, if it was.
    follow_up_of: str | None = None
    #: Spelling corrections made to the question: (as typed, as searched).
    corrections: tuple[tuple[str, str], ...] = ()
    #: What the question was read as being about among the indexed reports (the
    #: bodies, years, programme and reports it names; whether it asks across reports).
    scope: dict | None = field(default=None, compare=False)
    #: The short answer's parts (verbatim text, passage rank or None), made once with
    #: the answer (retrieval/short_answer.py: Searcher.ask, a comparison, a saved
    #: conversation reopened); None for an answer made without one.
    short: Parts | None = field(default=None, compare=False)

    @property
    def no_answer_line(self) -> str:
        """What an abstention says: that no passage answers, and why when known."""
        why = f" ({self.reason})" if self.reason else ""
        return NO_ANSWER.rstrip(".") + why + "."

    @property
    def summary_line(self) -> str:
        """One line that opens the answer in the UI and CLI."""
        if self.abstained:
            head = self.no_answer_line
            return head + " Nearest passages:" if self.hits else head
        reports = {h.passage.report_id for h in self.hits}
        n = len(self.hits)
        return (f"{n} passage{'s' if n != 1 else ''} from {len(reports)} "
                f"report{'s' if len(reports) != 1 else ''}")

    @property
    def short_answer(self) -> ShortAnswer:
        """The short extractive answer above the cards, as made with the answer. An
        answer made without one (by hand) has none, unless it abstains: then its
        short answer is the abstention's line."""
        if self.short is not None:
            # Saved conversations bring the parts back as JSON lists.
            return ShortAnswer(tuple((str(t), None if r is None else int(r))
                                     for t, r in self.short))
        return ShortAnswer(((self.no_answer_line, None),) if self.abstained else ())

    def to_dict(self) -> dict:
        """the machine-readable answer."""
        d = {"id": self.id, "question": self.question, "abstained": self.abstained,
             "short_answer": self.short_answer.to_dict(),
             "confidence": round(float(self.confidence), 4), "reason": self.reason,
             "follow_up_of": self.follow_up_of,
             "corrections": [list(c) for c in self.corrections], "scope": self.scope,
             "passages": [h.to_dict() for h in self.hits]}
        if self.searched_as and self.searched_as != self.question:
            d["searched_as"] = self.searched_as
        return d


@dataclass(frozen=True)
class ComparisonRow:
    """One report's answer to a question asked across reports."""

    report_id: str
    title: str
    force: str
    year: int | None
    programme: str
    #: The report's passage that answers the question (its best one when none does).
    hit: Hit | None
    #: Whether that passage answers the question (the abstainer's decision).
    answers: bool
    confidence: float
    #: The graded judgment the question is about, when it asks about grades.
    judgment: str | None = None
    judgment_of: str | None = None
    #: The figure the highlighted sentence states, and its unit ("%", "per 1,000").
    figure: float | None = None
    unit: str | None = None
    #: The report is superseded by a later one of the same body and programme.
    latest: bool = True

    def to_dict(self) -> dict:
        """the machine-readable comparison row."""
        return {"report_id": self.report_id, "title": self.title, "force": self.force,
                "year": self.year, "programme": self.programme, "latest": self.latest,
                "answers": self.answers, "confidence": round(float(self.confidence), 4),
                "judgment": self.judgment, "judgment_of": self.judgment_of,
                "figure": self.figure, "unit": self.unit,
                "passage": self.hit.to_dict() if self.hit else None}


@dataclass(frozen=True)
class Comparison:
    """A question asked across reports: one row per report in scope."""

    question: str
    rows: tuple[ComparisonRow, ...]
    searched_as: str | None = None
    build_id: str = ""
    #: Why there is no row (the question names a body or year with no report).
    reason: str | None = None
    id: str | None = None
    #: The short answer of the answering rows' passages (see as_answer), made once
    #: with the comparison (retrieval/comparison.py).
    short: Parts | None = field(default=None, compare=False)

    @property
    def answering(self) -> tuple[ComparisonRow, ...]:
        """The rows whose report answers the question."""
        return tuple(r for r in self.rows if r.answers and r.hit)

    @property
    def chart_unit(self) -> str | None:
        """The unit shared by the figures of at least two answering rows (the rows
        can be charted), else None."""
        from collections import Counter

        units = Counter(r.unit for r in self.answering if r.figure is not None and r.unit)
        if not units:
            return None
        unit, n = units.most_common(1)[0]
        return unit if n >= 2 else None

    @property
    def summary_line(self) -> str:
        """One line that opens the comparison in the UI and CLI."""
        if not self.rows:
            return NO_ANSWER.rstrip(".") + (f" ({self.reason})." if self.reason else ".")
        n, k = len(self.rows), len(self.answering)
        return (f"{k} of {n} report{'s' if n != 1 else ''} answer this "
                f"(one row per report)")

    def as_answer(self) -> Answer:
        """The answering rows' passages as one Answer (rank = row number), for the
        exports."""
        hits = tuple(replace(r.hit, rank=i) for i, r in enumerate(self.answering, 1))
        return Answer(question=self.question, hits=hits, abstained=not hits,
                      confidence=max((r.confidence for r in self.answering), default=0.0),
                      id=self.id, searched_as=self.searched_as, build_id=self.build_id,
                      reason=self.reason, short=self.short)

    def to_dict(self) -> dict:
        """the machine-readable comparison."""
        return {"id": self.id, "question": self.question, "comparison": True,
                "reason": self.reason, "chart_unit": self.chart_unit,
                "rows": [r.to_dict() for r in self.rows]}
