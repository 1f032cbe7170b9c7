"""A small fictional archive of inspection reports across the report families, for
ingestion and retrieval tests.

Every report is **fictional** and says so in its introduction (forces, places and
figures are invented); the layouts follow the published families' structure, built
with benchmarks.scaler's generator: crime inspections (2014 style), PEEL pillar
reports (2016), integrated PEEL assessments (2018/19 four-point, 2021/22 five-point)
and a national thematic report. Files sit in nested folders that reuse one file name
(``<year folder>/<force slug>/report.txt``), some as PDF (reportlab), most as text laid
out like PDF-extracted text (running header, printed page numbers, form feeds).

Each report also carries a ledger of *facts*: for shared topics (victim satisfaction,
999 calls answered within target, crime rate per 1,000, organised crime groups mapped,
stop and search grounds recorded) one sentence stating that report's own figure, placed
once inside a normal paragraph of a named section. ``write_archive`` returns what was
written where, for tests to assert against.
"""

from __future__ import annotations

import hashlib
import random
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path

# benchmarks/ is not an installed package (pyproject installs ingest, retrieval, ui):
# the generator is imported from the checkout.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from benchmarks import scaler  # noqa: E402

#: The archive's fictional forces, and the folder slug each is filed under.
FORCES = {
    "Ardenvale Police": "ardenvale",
    "Blackmere Constabulary": "blackmere",
    "Coldharrow Police": "coldharrow",
    "Dunmorrow Constabulary": "dunmorrow",
}
PILLARS = ("Effectiveness", "Efficiency", "Legitimacy", "Leadership")

#: Fact topics shared by the force reports: (sentence template, sections to place it
#: in, first found wins; the introduction when none is in the report).
FACT_TOPICS = {
    "victim satisfaction": (
        "In the 12 months to March {year}, {force} had a victim satisfaction rate of "
        "{pct1} percent.",
        ["Supporting victims", "Vulnerability, risk and victims", "Protecting vulnerable people",
         "Community contact and victim care"]),
    "999 calls": (
        "{force} answered {pct2} percent of 999 calls within its target time of ten "
        "seconds.",
        ["Managing calls for service", "Meeting current demands", "Responding to the public"]),
    "crime rate": (
        "Recorded crime in the {force} area was {rate} crimes per 1,000 population in the "
        "12 months to June {prev}.",
        ["Force in context", "Crime"]),
    "organised crime groups": (
        "At the time of our inspection {force} had mapped {ocg} organised crime groups.",
        ["Tackling serious and organised crime", "Disrupting serious organised crime"]),
    "stop and search grounds": (
        "Officers in {force} recorded reasonable grounds on {pct3} percent of the stop and "
        "search records we reviewed.",
        ["Stop and search", "Treating the public fairly"]),
}
#: The thematic report's facts: figures across the forces it inspected.
THEMATIC_TOPICS = {
    "stalking reports recorded": (
        "Across the forces we inspected, {pct1} percent of stalking reports had been "
        "recorded as the correct offence.",
        ["Recording and identification"]),
    "victims with a safety plan": (
        "Only {pct2} percent of the stalking victims whose cases we reviewed had a safety "
        "plan.",
        ["Safeguarding victims"]),
}


@dataclass(frozen=True)
class Fact:
    """One stated figure: the sentence (exactly as in the report, once), its section
    path as ingestion gives it, and the figure itself."""

    topic: str
    sentence: str
    section: tuple[str, ...]
    value: str


@dataclass
class ArchiveReport:
    """What one archive file holds, as ingestion should read it."""

    rel_path: str  # POSIX, relative to the archive root
    force: str  # "national" for the thematic report
    year: int
    programme: str  # as core.models.PROGRAMMES
    published: str  # ISO "YYYY-MM" or "YYYY-MM-DD"
    scope: str  # "force" or "national"
    inspection_type: str
    #: Every graded heading → printed grade (questions or areas, and pillars).
    grades: dict[str, str] = field(default_factory=dict)
    #: The pillar subset of ``grades`` ("Effectiveness": "Good").
    pillar_grades: dict[str, str] = field(default_factory=dict)
    #: Question / graded-area subset of ``grades``.
    question_grades: dict[str, str] = field(default_factory=dict)
    facts: dict[str, Fact] = field(default_factory=dict)
    pdf: bool = False
    #: Level-2 sections holding "Areas for improvement" / "Causes of concern" items.
    improvement_sections: tuple[tuple[str, str], ...] = ()


# (year folder, force or None for national, year, programme, written as PDF)
_PLAN = [
    ("2014", "Ardenvale Police", 2014, "crime inspection", False),
    ("Inspection 2015", "Blackmere Constabulary", 2014, "crime inspection", False),
    ("2014", "Coldharrow Police", 2014, "crime inspection", True),
    ("2016", "Ardenvale Police", 2016, "PEEL effectiveness", True),
    ("2016", "Blackmere Constabulary", 2016, "PEEL efficiency", False),
    ("2016", "Coldharrow Police", 2016, "PEEL legitimacy", False),
    ("2016", "Dunmorrow Constabulary", 2016, "PEEL effectiveness", False),
    ("2018-19", "Dunmorrow Constabulary", 2018, "PEEL assessment", False),
    ("2021-22", "Ardenvale Police", 2021, "PEEL assessment", False),
    ("2021-22", "Blackmere Constabulary", 2021, "PEEL assessment", True),
    ("2021-22", "Coldharrow Police", 2021, "PEEL assessment", False),
    ("national", None, 2017, "thematic", False),
]


def _rng(*parts: object) -> random.Random:
    h = hashlib.sha256(":".join(map(str, parts)).encode()).digest()
    return random.Random(int.from_bytes(h[:8], "big"))


#: Chapters that state no findings.
_FRONT_MATTER = re.compile(r"(?i)^(?:overall summary|summary|overview|introduction|methodology|"
                           r"force in context|annex\b.*|about\b.*|what each judg\w+ means|"
                           r"contents|foreword)$")
_FIGURES = ("pct1", "pct2", "pct3", "rate", "ocg")


def _place_facts(rep: scaler.SynthReport, topics: dict, r: random.Random
                 ) -> dict[str, Fact]:
    """Append each topic's sentence to the first paragraph of its section (so it sits
    inside a normal paragraph); returns the ledger."""
    force = rep.force
    values = {"pct1": f"{r.uniform(60, 95):.1f}", "pct2": f"{r.uniform(70, 99):.1f}",
              "pct3": f"{r.uniform(40, 98):.1f}", "rate": f"{r.uniform(30, 95):.1f}",
              "ocg": str(r.randint(8, 140)), "year": str(rep.year),
              "prev": str(rep.year - 1), "force": force}
    # Section path of each paragraph element, as ingestion builds it.
    paths: list[tuple[str, ...]] = []
    sec: tuple[str, ...] = ()
    for e in rep.elements:
        if e.kind == "heading":
            sec = (e.text,) if e.level <= 1 else ((sec[0], e.text) if sec else (e.text,))
        paths.append(sec)
    facts: dict[str, Fact] = {}
    for topic, (tpl, wanted) in topics.items():
        # The first paragraph of the first wanted section the report has; else of
        # its first findings chapter (as in the published reports, a figure is a
        # finding: never in the introduction or the methodology).
        target = next((i for name in wanted for i, e in enumerate(rep.elements)
                       if e.kind == "para" and paths[i] and paths[i][-1] == name), None)
        if target is None:
            target = next(i for i, e in enumerate(rep.elements)
                          if e.kind == "para" and paths[i]
                          and not any(_FRONT_MATTER.match(x) for x in paths[i]))
        sentence = tpl.format(**values)
        value = next(values[k] for k in _FIGURES if "{" + k + "}" in tpl)
        e = rep.elements[target]
        e.text = f"{e.text} {sentence}"
        facts[topic] = Fact(topic, sentence, paths[target], value)
    return facts


def build_report(force: str | None, year: int, programme: str, index: int = 0,
                 seed: int = 0) -> tuple[scaler.SynthReport, dict[str, Fact]]:
    """The fictional report and its fact ledger (deterministic by the arguments)."""
    rep = scaler.make_family_report(index, seed, 0.5, programme=programme, force=force,
                                    year=year, theme="stalking and harassment")
    topics = THEMATIC_TOPICS if rep.scope == "national" else FACT_TOPICS
    facts = _place_facts(rep, topics, _rng(seed, force, year, programme))
    return rep, facts


def _record(rep: scaler.SynthReport, facts: dict[str, Fact], rel_path: str, pdf: bool
            ) -> ArchiveReport:
    pillars = {k: v for k, v in rep.grades.items() if k in PILLARS}
    improve = []
    sec = ""
    for e in rep.elements:
        if e.kind == "heading" and e.level <= 1:
            sec = e.text
        elif e.kind == "heading" and e.text in ("Areas for improvement", "Causes of concern"):
            improve.append((sec, e.text))
    return ArchiveReport(
        rel_path=rel_path, force=rep.force, year=rep.year, programme=rep.programme,
        published=rep.published or "", scope=rep.scope, inspection_type=rep.inspection_type,
        grades=dict(rep.grades), pillar_grades=pillars,
        question_grades={k: v for k, v in rep.grades.items() if k not in pillars},
        facts=facts, pdf=pdf, improvement_sections=tuple(improve))


def write_force_report(path: Path, force: str | None, year: int, programme: str, *,
                       index: int = 0, seed: int = 0, pdf: bool | None = None,
                       rel_path: str | None = None) -> ArchiveReport:
    """Write one fictional report to ``path`` (a PDF when ``pdf`` or the name ends in
    .pdf, else PDF-extracted-style text); ``force`` None gives a national thematic
    report (use programme "thematic"). Returns its :class:`ArchiveReport`."""
    path = Path(path)
    pdf = path.suffix.lower() == ".pdf" if pdf is None else pdf
    rep, facts = build_report(force, year, programme, index, seed)
    path.parent.mkdir(parents=True, exist_ok=True)
    if pdf:
        scaler.write_pdf(rep, path)
    else:
        path.write_text(scaler.report_text(rep, page_lines=40), encoding="utf-8")
    return _record(rep, facts, rel_path or path.name, pdf)


def write_archive(root: Path, *, pdf: bool = True) -> list[ArchiveReport]:
    """Write the archive under ``root`` (12 reports: 4 forces over 2014, 2016, 2018/19
    and 2021/22, and one national thematic report; 3 as PDF unless ``pdf`` is False).
    Blackmere's 2014 crime inspection is filed under "Inspection 2015", so its year
    must come from its text."""
    root = Path(root)
    out = []
    for i, (folder, force, year, programme, as_pdf) in enumerate(_PLAN):
        as_pdf = as_pdf and pdf
        slug = FORCES[force] if force else "stalking-and-harassment"
        rel = f"{folder}/{slug}/report.{'pdf' if as_pdf else 'txt'}"
        out.append(write_force_report(root / rel, force, year, programme, index=i,
                                      pdf=as_pdf, rel_path=rel))
    return out


def passages_containing(passages, sentence: str) -> list:
    """The passages whose text holds ``sentence`` (whitespace-normalised)."""
    want = re.sub(r"\s+", " ", sentence)
    return [p for p in passages if want in re.sub(r"\s+", " ", p.text)]
