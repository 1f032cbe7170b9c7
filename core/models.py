"""The one typed data model every stage uses: raw pages, reports and passages."""

from __future__ import annotations

import hashlib
import re
from dataclasses import asdict, dataclass, field, fields

#: Passage kinds, in the order the UI lists them.
KINDS = ("paragraph", "table", "summary", "recommendation", "judgment", "note")

#: The graded judgments HMIC(FRS) uses, lower-case, best first: the four-point scale
#: of 2014-2020 plus "adequate", which the five-point scale of PEEL 2021/22 onward adds.
GRADES = ("outstanding", "good", "adequate", "requires improvement", "inadequate")

#: Report.programme: the family a report belongs to, whatever its printed title says.
#: "PEEL assessment" is the integrated PEEL of 2018/19 onward (one report grading
#: effectiveness, efficiency and legitimacy, or the graded areas of 2021/22);
#: "thematic" is a national report that inspects no single force; "" is unknown.
PROGRAMMES = ("crime inspection", "PEEL effectiveness", "PEEL efficiency", "PEEL legitimacy",
              "PEEL leadership", "PEEL assessment", "thematic", "")

#: Report.provenance values: where a metadata field was read.
PROVENANCES = ("running header", "title page", "text", "path", "none")


@dataclass(frozen=True)
class RawPage:
    """One page as a reader got it: PDF page index (0-based), printed label if the
    file says (PDF /PageLabels), and the extracted text."""

    index: int
    text: str
    label: str | None = None
    #: (line text, font size in points, bold) for the lines whose style the reader
    #: knows (PDFs read through pdfium); empty for text reports.
    styles: tuple[tuple[str, float, bool], ...] = ()
    #: (depth, title) of the PDF outline's entries (bookmarks) that point at this
    #: page, depth 0 for the top level.
    outline: tuple[tuple[int, str], ...] = ()


@dataclass(frozen=True)
class Report:
    """One inspection report and what we know about it as a whole."""

    report_id: str
    title: str
    force: str
    year: int | None
    inspection_type: str
    source_file: str
    content_hash: str
    pages: int
    #: (question heading, grade) pairs, in report order.
    judgments: tuple[tuple[str, str], ...] = ()
    overall_judgment: str | None = None
    #: "printed" when the report states the overall grade, "derived" when every
    #: question has the same grade and the report prints no separate overall one.
    overall_judgment_source: str | None = None
    #: The report's family, one of PROGRAMMES ("PEEL effectiveness", "thematic", ...).
    programme: str = ""
    #: Publication date as the report prints it: ISO "YYYY-MM-DD" or "YYYY-MM".
    published: str | None = None
    #: "force" (one force inspected) or "national" (a thematic report on many).
    scope: str = "force"
    #: Where force, year, inspection_type, programme and published came from: one of
    #: PROVENANCES each. Not part of the hash (a dict is not hashable).
    provenance: dict[str, str] = field(default_factory=dict, hash=False)
    #: (PEEL pillar, grade) pairs, e.g. ("Effectiveness", "Good"), grades as printed.
    pillar_judgments: tuple[tuple[str, str], ...] = ()

    @property
    def family(self) -> str:
        """The programme, else the printed inspection type: what filters, facets and
        the superseded rule group reports by."""
        return (self.programme or self.inspection_type or "").strip()

    def to_dict(self) -> dict:
        """Plain JSON-able form."""
        d = asdict(self)
        d["judgments"] = [list(j) for j in self.judgments]
        d["pillar_judgments"] = [list(j) for j in self.pillar_judgments]
        return d

    @classmethod
    def from_dict(cls, d: dict) -> Report:
        """Inverse of :meth:`to_dict`. A dict written before a field existed (an older
        index) gets that field's default; keys this version does not know are ignored."""
        known = {f.name for f in fields(cls)}
        d = {k: v for k, v in d.items() if k in known}
        d["judgments"] = tuple(tuple(j) for j in d.get("judgments", ()))
        d["pillar_judgments"] = tuple(tuple(j) for j in d.get("pillar_judgments", ()))
        d["provenance"] = dict(d.get("provenance") or {})
        return cls(**d)


#: Legal and kind endings of an organisation's name, which readers leave off
#: ("Boeing" for The Boeing Company, "JPMorgan Chase" for JPMorgan Chase & Co.).
_LEGAL = re.compile(
    r"(?:\s*&\s*co\.?|,?\s+(?:inc|incorporated|corp|corporation|co|company|companies|plc|"
    r"ltd|limited|llc|llp|lp|l\.p|group|holdings?|n\.a|s\.a|ag|se|nv|sa|"
    r"police(?:\s+service)?|constabulary|police\s+force|council|authority|agency|"
    r"department|service|trust)\.?)+\s*$", re.I)


def body_core(name: str) -> str:
    """An organisation's name without "The" and its legal or kind ending: the part
    people name it by ("Advanced Micro Devices, Inc." → "Advanced Micro Devices")."""
    core = re.sub(r"^\s*the\s+", "", name, flags=re.I)
    core = _LEGAL.sub("", core).strip(" ,.&")
    return core if len(core) >= 2 else name


def short_heading(heading: str) -> str:
    """A citation-friendly form of a heading: inspection questions such as
    "How effective is the force at tackling anti-social behaviour?" become
    "Tackling anti-social behaviour"; other headings are kept as they are."""
    import re

    # Both forms the reports use: "How effective is the force at X?" and "How
    # effectively / How well does the force X?" (PEEL from 2017 on).
    m = re.match(
        r"(?i)^how (?:effective|good|well|efficient|legitimate)\s+is\s+the\s+"
        r"(?:force|constabulary|service|police(?: force)?)\s+(?:at|in)\s+(.+?)\??$",
        heading.strip(),
    ) or re.match(
        r"(?i)^how (?:effectively|efficiently|well|legitimately|fairly)\s+(?:does|do)\s+"
        r"the\s+(?:force|constabulary|service|police(?: force)?)\s+(.+?)\??$",
        heading.strip(),
    )
    if not m:
        return heading.strip()
    rest = m.group(1).strip()
    return rest[:1].upper() + rest[1:]


@dataclass(frozen=True)
class Passage:
    """A citable unit of text. Immutable; carries everything a citation needs."""

    passage_id: str
    report_id: str
    report_title: str
    force: str
    year: int | None
    inspection_type: str
    section: tuple[str, ...]
    page_labels: tuple[str, ...]
    pdf_pages: tuple[int, ...]
    kind: str
    text: str
    source_file: str = ""
    #: Position of the passage in its report (reading order).
    order: int = 0

    @property
    def page(self) -> str:
        """Printed page label(s) as a citation shows them: "9" or "12–13"."""
        labels = [p for p in self.page_labels if p]
        if not labels:
            return ""
        if len(labels) == 1 or labels[0] == labels[-1]:
            return labels[0]
        return f"{labels[0]}–{labels[-1]}"

    @property
    def citation(self) -> str:
        """The one citation format used everywhere (UI, CLI, exports)."""
        # A national (thematic) report inspects no single body: its title says it all.
        named = self.force and self.force.lower() != "national"
        head = f"{self.force} — {self.report_title}" if named else self.report_title
        parts = [head] + [short_heading(s) for s in self.section]
        text = " › ".join(parts)
        page = self.page
        if page:
            text += f", {'pp.' if '–' in page else 'p.'} {page}"
        return text

    @property
    def context(self) -> str:
        """What a reader of the page knows beyond the passage's words: the body, the
        report and the section path ("Corning — Form 10-K 2021 > Liquidity")."""
        named = self.force and self.force.lower() != "national"
        head = f"{body_core(self.force)} — {self.report_title}" if named else \
            self.report_title
        return " > ".join(x for x in (head, *(short_heading(s) for s in self.section)) if x)

    @property
    def embed_text(self) -> str:
        """What the embedding model sees: the passage's words after its context (body,
        report, section path), which short paragraphs and table rows leave implicit.
        The passage's text itself stays the report's words."""
        ctx = self.context
        return f"{ctx}: {self.text}" if ctx else self.text

    def to_dict(self) -> dict:
        """Plain JSON-able form (lists for tuples)."""
        d = asdict(self)
        for k in ("section", "page_labels", "pdf_pages"):
            d[k] = list(d[k])
        return d

    @classmethod
    def from_dict(cls, d: dict) -> Passage:
        """Inverse of :meth:`to_dict`."""
        d = dict(d)
        for k in ("section", "page_labels", "pdf_pages"):
            d[k] = tuple(d.get(k, ()))
        return cls(**d)


def passage_id(report_hash: str, section: tuple[str, ...], text: str) -> str:
    """Stable id: the same report content, section and text give the same id, so a
    rebuild does not change ids that exports and bookmarks refer to."""
    h = hashlib.sha256()
    for part in (report_hash, "\x1f".join(section), text):
        h.update(part.encode("utf-8"))
        h.update(b"\x1e")
    return h.hexdigest()[:16]


def text_hash(text: str) -> str:
    """Hash of a passage's embedding text, the key of the vector cache."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:24]


@dataclass
class IngestResult:
    """What ingesting one file gave: its report and passages, or why it failed."""

    path: str
    report: Report | None = None
    passages: list[Passage] = field(default_factory=list)
    error: str | None = None
