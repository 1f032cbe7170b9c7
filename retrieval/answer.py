"""What retrieval returns: an Answer with ranked Hits, each a Passage with its score
and highlight. The machine-readable form is README's ("Machine-readable
answers")."""

from __future__ import annotations

from dataclasses import dataclass, field

from ingest.models import Passage

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

    def accepts(self, p: Passage) -> bool:
        """Whether a passage passes the filters."""
        return self.accepts_fields(p.report_id, p.force, p.year, p.section, p.kind)

    def accepts_fields(self, report_id: str, force: str, year: int | None,
                       section: tuple[str, ...], kind: str) -> bool:
        """The same test on a passage's fields (the index stores them as columns)."""
        if self.report_ids and report_id not in self.report_ids:
            return False
        if self.forces and not any(f.lower() in (force or "").lower() for f in self.forces):
            return False
        if self.years and year not in self.years:
            return False
        if self.section:
            from ingest.models import short_heading

            s = self.section.lower()
            if not any(s in part.lower() or s in short_heading(part).lower()
                       for part in section):
                return False
        if self.kinds and kind not in self.kinds:
            return False
        return True

    @property
    def active(self) -> bool:
        return bool(self.report_ids or self.forces or self.years or self.section or self.kinds)


@dataclass(frozen=True)
class Hit:
    """One cited passage in an answer."""

    passage: Passage
    score: float
    highlight: str
    rank: int = 0
    features: dict = field(default_factory=dict, compare=False)

    def to_dict(self) -> dict:
        """The passage object of README's machine-readable answers."""
        p = self.passage
        return {
            "rank": self.rank, "score": round(float(self.score), 4),
            "passage_id": p.passage_id, "citation": p.citation, "report": p.report_title,
            "report_id": p.report_id, "force": p.force, "year": p.year,
            "section": list(p.section), "page": p.page or None,
            "pdf_page": p.pdf_pages[0] if p.pdf_pages else None, "kind": p.kind,
            "text": p.text, "highlight": self.highlight, "source_file": p.source_file,
        }


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

    @property
    def summary_line(self) -> str:
        """One line that opens the answer in the UI and CLI."""
        if self.abstained:
            why = f" ({self.reason})" if self.reason else ""
            head = NO_ANSWER.rstrip(".") + why + "."
            return head + " Nearest passages:" if self.hits else head
        reports = {h.passage.report_id for h in self.hits}
        n = len(self.hits)
        return (f"{n} passage{'s' if n != 1 else ''} from {len(reports)} "
                f"report{'s' if len(reports) != 1 else ''}")

    def to_dict(self) -> dict:
        """README's machine-readable answer."""
        d = {"id": self.id, "question": self.question, "abstained": self.abstained,
             "confidence": round(float(self.confidence), 4), "reason": self.reason,
             "follow_up_of": self.follow_up_of,
             "corrections": [list(c) for c in self.corrections],
             "passages": [h.to_dict() for h in self.hits]}
        if self.searched_as and self.searched_as != self.question:
            d["searched_as"] = self.searched_as
        return d
