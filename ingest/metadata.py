"""A report's metadata from its own text: inspected force (or "national"), inspection
year, printed type and programme family, publication date and graded judgments.

Sources are tried in a fixed order, and each field records where it came from
(:attr:`core.models.Report.provenance`): the running header ("Crime inspection 2014
– West Midlands Police", "Ardenvale Police – PEEL assessment 2021/22"), then the title
page (a cover of short lines: "PEEL: Police effectiveness 2016" / "An inspection of
Ardenvale Police" / "Published March 2017"), then the body text ("An inspection of
<force>", "Published <date>"), and only then the file's path (folder or file names
holding a year or a force name), because archives are often filed by the year they
were downloaded, not the year inspected.

Years: the inspection year the report states; "2021/22" gives 2021 (the year the
inspection began), and the title keeps the printed "2021/22". Years of cited figures
("12 months to June 2013") are never used.

The general rules for any report (its body, document type, title and period from the
cover) are :mod:`ingest.cover`'s; this module adds the police-inspection rules and
puts the fields together.
"""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

from core.models import Report
from ingest.clean import Page
from ingest.cover import (
    YEAR,
    cover_body,
    cover_type,
    general_title,
    text_body,
    text_mentions,
    year_number,
)
from ingest.sections import OVERALL_LABEL, PILLAR_HEADING, Element

_FORCE = re.compile(
    r"\b((?:[A-Z][a-z]+|and|of|the)(?: (?:[A-Z][a-z]+|and|of))* "
    r"(?:Police|Constabulary|Police Service|Fire and Rescue Service))\b"
)
# Parts of a title line are separated by a spaced dash (en, em or hyphen).
_PART_SPLIT = re.compile(r"\s+[–—-]\s+")
_TYPE_WORDS = re.compile(
    r"\b(?:inspection|review|assessment|PEEL|effectiveness|efficiency|legitimacy|"
    r"leadership|thematic)\b", re.I)
_INSPECTION_OF = re.compile(r"^(?:an?\s+)?inspection\s+of\s+(?:the\s+)?", re.I)
_NATIONAL_TITLE = re.compile(r"\b(?:national|thematic|forces)\b", re.I)
_NATIONAL_TEXT = re.compile(
    r"\b(?:national|thematic)\s+(?:thematic\s+)?inspection\b|"
    r"\bwe\s+inspected\s+(?:\d+|[a-z]+(?:-[a-z]+)?)\s+(?:police\s+)?forces\b", re.I)
_MONTHS = ["january", "february", "march", "april", "may", "june", "july", "august",
           "september", "october", "november", "december"]
_DATE = (r"(?:(?P<day>\d{1,2})\s+)?(?P<month>January|February|March|April|May|June|July|"
         r"August|September|October|November|December)\s+(?P<dyear>(?:19|20)\d{2})")
_DATE_LINE = re.compile(rf"^(?:Published:?\s+(?:on\s+|in\s+)?)?{_DATE}$")
# Capital "Published": the report's own date line; "published in October 2014" inside
# a sentence is another report's.
_PUBLISHED = re.compile(rf"\bPublished:?\s+(?:on\s+|in\s+)?{_DATE}\b")
# A type with its year in running text ("our PEEL: police effectiveness 2016 inspection").
_TEXT_TYPE_YEAR = re.compile(
    rf"\b(?P<type>crime inspection|PEEL(?::\s*police\s+(?:effectiveness|efficiency|"
    rf"legitimacy|leadership))?|police (?:effectiveness|efficiency|legitimacy|leadership))"
    rf"\s+(?P<year>{YEAR})\b", re.I)
_PILLARS = ("effectiveness", "efficiency", "legitimacy", "leadership")
_POLICE_TYPE = re.compile(r"\b(?:inspection|PEEL|police|constabulary)\b", re.I)
_INSPECTION_WORD = re.compile(r"\b(?:inspection|inspected|PEEL)\b", re.I)


def report_key(rel_path: str) -> str:
    """A report's id from its path relative to the corpus root, without the extension:
    "2014/west-midlands/report.pdf" → "2014-west-midlands-report", so the same file
    name in two folders gives two reports."""
    stem = rel_path.rsplit(".", 1)[0] if "." in rel_path.rsplit("/", 1)[-1] else rel_path
    return re.sub(r"[^a-z0-9]+", "-", stem.lower()).strip("-") or "report"


def _force_name(text: str) -> str | None:
    """The force a title part names on its own: "West Midlands Police", "An inspection
    of Ardenvale Constabulary"."""
    t = _INSPECTION_OF.sub("", text.strip())
    m = _FORCE.fullmatch(t)
    return m.group(1) if m and not t.lower().startswith(("the ", "and ", "of ")) else None


def parse_title_line(line: str) -> tuple[str, str, str | None] | None:
    """(printed type, printed year, force or None) from a title or running-header line
    such as "Crime inspection 2014 – West Midlands Police", "Ardenvale Police – PEEL
    assessment 2021/22" or "PEEL 2021/22 – An inspection of Ardenvale Police"; None when
    the line names no inspection with a year."""
    # A title reads like a title: short, no sentence inside or at its end.
    if len(line) > 160 or re.search(r"[.!?;](?:\s|$)", line.strip()):
        return None
    parts = [p.strip() for p in _PART_SPLIT.split(line.strip()) if p.strip()]
    force = None
    rest = []
    for p in parts:
        f = _force_name(p)
        if f and force is None:
            force = f
        else:
            rest.append(p)
    year = None
    kept = []
    for p in rest:
        m = re.search(rf"\b({YEAR})\b", p)
        if m and year is None:
            year = m.group(1)
            p = (p[:m.start()] + p[m.end():]).strip(" ,:")
        if p:
            kept.append(re.sub(r"\s+", " ", p))
    itype = " – ".join(kept)
    if year is None or not itype or not (force or _TYPE_WORDS.search(itype)):
        return None
    return itype, year, force


def programme_of(itype: str, national: bool = False) -> str:
    """The programme family (models.PROGRAMMES) a printed inspection type names."""
    t = itype.lower()
    if national:
        return "thematic"
    if ("effectiveness, efficiency and legitimacy" in t or "assessment" in t
            or re.fullmatch(r"peel(?:\s+inspection)?", t.strip())):
        return "PEEL assessment"
    if "peel" in t or re.search(r"\bpolice\s+(?:effectiveness|efficiency|legitimacy|"
                                r"leadership)\b", t):
        for p in _PILLARS:
            if p in t:
                return f"PEEL {p}"
        return "PEEL assessment"
    if "crime inspection" in t:
        return "crime inspection"
    if "thematic" in t or "national" in t:
        return "thematic"
    return ""


def _iso(m: re.Match) -> str:
    month = _MONTHS.index(m.group("month").lower()) + 1
    if m.group("day"):
        return f"{m.group('dyear')}-{month:02d}-{int(m.group('day')):02d}"
    return f"{m.group('dyear')}-{month:02d}"


def _title_page(pages: list[Page]) -> list[str]:
    """Lines that can carry the title: a cover page (few lines) whole, else the first
    lines of the first two pages."""
    out: list[str] = []
    for p in pages[:2]:
        lines = [ln.strip() for ln in p.lines if ln.strip()]
        out += lines if len(lines) <= 15 else lines[:6]
    return out


def _path_parts(rel_path: str) -> list[str]:
    parts = rel_path.replace("\\", "/").split("/")
    parts[-1] = parts[-1].rsplit(".", 1)[0]
    return [re.sub(r"[_\s]+", "-", p) for p in parts if p]


def _force_from_path(parts: list[str], text_forces: Counter) -> str | None:
    """A force named by a folder or file name: "west-midlands-police", or a slug such as
    "ardenvale" that begins a force name the text mentions."""
    for part in reversed(parts):
        words = [w for w in re.split(r"[-.]+", part) if w and not w.isdigit()]
        low = [w.lower() for w in words]
        for end in ("police", "constabulary"):
            if end in low:
                i = low.index(end)
                start = i
                while start > 0 and low[start - 1] not in ("inspection", "report", "hmic",
                                                             "hmicfrs", "peel"):
                    start -= 1
                name = " ".join(w if w in ("and", "of") else w.capitalize()
                                for w in low[start:i + 1])
                if start < i:
                    return name
        slug = " ".join(low)
        for f, _ in text_forces.most_common():
            if slug and f.lower().startswith(slug + " "):
                return f
    return None


def is_inspection(programme: str, inspection_type: str | None) -> bool:
    """Whether a report is an inspection: it belongs to an inspection programme, or its
    printed type says inspection or PEEL. Only inspections carry graded judgments."""
    return bool(programme) or bool(_INSPECTION_WORD.search(inspection_type or ""))


def _from_titles(pages: list[Page], prov: dict[str, str]
                 ) -> tuple[str | None, str | None, str | None]:
    """(inspection type, printed year, force) from the running header, then the title
    page's lines (:func:`parse_title_line`), then a title-page line naming a force."""
    itype = year_text = force = None
    headers = Counter(p.header for p in pages if p.header)
    sources = [(h, "running header") for h, _ in headers.most_common()]
    sources += [(ln, "title page") for ln in _title_page(pages)]
    for line, where in sources:
        parsed = parse_title_line(line)
        if parsed is None:
            continue
        if itype is None:
            itype, year_text = parsed[0], parsed[1]
            prov["inspection_type"] = prov["year"] = where
        if force is None and parsed[2]:
            force = parsed[2]
            prov["force"] = where
        if force:
            break
    if force is None:
        for ln in _title_page(pages):
            f = _force_name(ln)
            if f:
                force, prov["force"] = f, "title page"
                break
    return itype, year_text, force


def _is_national(itype: str | None, pages: list[Page], flat: str) -> bool:
    """A thematic report on many forces: its title or text says national/thematic."""
    headers = [p.header for p in pages if p.header]
    title_lines = headers + _title_page(pages)
    return bool((itype and _NATIONAL_TITLE.search(itype))
                or any(_NATIONAL_TITLE.search(ln) and _TYPE_WORDS.search(ln)
                       for ln in title_lines)
                or _NATIONAL_TEXT.search(flat))


def _body_from_text(flat: str, rel: str, prov: dict[str, str]
                    ) -> tuple[str | None, Counter]:
    """The body the text names most: a police force (the pattern), or an organisation
    by its full name with a legal form (:func:`text_body`), whichever the text names
    more often. Also returns the forces the text names, for the path fallback."""
    # The pattern can start on a connective ("of Fellmarsh Police"): drop those.
    text_forces = Counter(re.sub(r"(?i)^(?:(?:the|and|of)\s+)+", "", m.group(1).strip())
                          for m in _FORCE.finditer(flat))
    text_forces = Counter({k: v for k, v in text_forces.items() if k[:1].isupper()})
    other = text_body(flat, rel)
    force = text_forces.most_common(1)[0][0] if text_forces else None
    if other and (force is None or text_mentions(other, flat) > text_forces[force]):
        force = other
    if force:
        prov["force"] = "text"
    return force, text_forces


def _find_body(pages: list[Page], flat: str, rel: str, parts: list[str],
               itype: str | None, force: str | None, prov: dict[str, str]
               ) -> tuple[str | None, bool]:
    """(body, national) when the title lines named no force: "An inspection of
    <force>" in the text, a thematic report (body "national"), the cover's
    organisation (:func:`cover_body`), the body the text names most, the path."""
    if force is not None:
        return force, False
    m = re.search(r"\b[Aa]n inspection of (?:the )?" + _FORCE.pattern, flat)
    if m:
        prov["force"] = "text"
        return m.group(1), False
    if _is_national(itype, pages, flat):
        prov["force"] = prov.get("inspection_type", "text")
        return "national", True
    force = cover_body(pages, flat, rel)
    if force:
        prov["force"] = "title page"
        return force, False
    force, text_forces = _body_from_text(flat, rel, prov)
    if force is None:
        force = _force_from_path(parts, text_forces)
        prov["force"] = "path" if force else "none"
    return force, False


def _year_fallback(parts: list[str], published: str | None, prov: dict[str, str]
                   ) -> int | None:
    """A year the report does not state as its own: from a folder or file name, else
    the publication date's."""
    for part in reversed(parts):
        m = re.search(r"(?<!\d)((?:19|20)\d{2})(?!\d)", part)
        if m:
            prov["year"] = "path"
            return int(m.group(1))
    if published:
        prov["year"] = prov["published"]
        return int(published[:4])
    prov["year"] = "none"
    return None


def _find_programme(itype: str | None, parts: list[str], national: bool, policing: bool,
                    prov: dict[str, str]) -> str:
    """The programme family from the printed type, else from the path."""
    programme = ""
    # "Assessment" or "review" names a police programme only on a police report (or
    # a type naming police, PEEL or an inspection): a company's "Annual assessment
    # 2023" is no PEEL assessment.
    if itype is not None and (policing or _POLICE_TYPE.search(itype)):
        programme = programme_of(itype, national)
        prov["programme"] = prov["inspection_type"] if programme else "none"
    if not programme:
        path_kind = " ".join(parts).replace("-", " ")
        if national:
            programme = "thematic"
        elif policing or _POLICE_TYPE.search(path_kind):
            programme = programme_of(path_kind)
        prov["programme"] = ("path" if programme and not national
                             else prov["force"] if national else "none")
    return programme


def report_metadata(path: Path, pages: list[Page], elements: list[Element],
                    content_hash: str, rel_path: str | None = None) -> Report:
    """The report's :class:`Report`: metadata from its text first (running header, title
    page, body), the path (``rel_path``, relative to the corpus root) only as a
    fallback, each field's source in ``provenance``; graded judgments per question, per
    PEEL pillar and overall, for inspections only (:func:`is_inspection`).

    The body (``force``): an inspected police force from the title lines or "An
    inspection of <force>"; else an organisation named on the cover
    (:func:`cover_body`: a company, an audit office, an agency); else the body the
    text names most; else the path. The type and title: an inspection's printed type
    and year ("Crime inspection 2014"); else the cover's document type and period
    (:func:`general_title`: "Form 10-K 2023", "Form 10-Q, quarter ended June 30,
    2023"); "Inspection" only for a report with evidence of being one (a police force
    as its body, "-inspection" in its file name), else "Report".
    """
    rel = rel_path or path.name
    prov: dict[str, str] = {}
    itype, year_text, force = _from_titles(pages, prov)
    flat = re.sub(r"\s+", " ", "\n".join(ln for p in pages for ln in p.lines))
    parts = _path_parts(rel)
    force, national = _find_body(pages, flat, rel, parts, itype, force, prov)
    # A police force (or a thematic report on forces) is inspected: the corpus'
    # first family. Any other body's report is an inspection only if it says so.
    policing = force is not None and (national or bool(_FORCE.fullmatch(force)))

    period = year = None
    if itype is None:
        m = _TEXT_TYPE_YEAR.search(flat)
        if m:
            itype, year_text = m.group("type"), m.group("year")
            itype = itype[:1].upper() + itype[1:]
            prov["inspection_type"] = prov["year"] = "text"
    # A police report without a printed type stays an "Inspection" rather than being
    # named by its first heading; a printed document type is always taken.
    if itype is None and (cover_type(pages) or not policing):
        general = general_title(pages)
        if general:
            itype, period, year, prov["inspection_type"] = general
            if year is not None:
                prov["year"] = "title page"

    published, prov["published"] = _published(pages, flat)
    if year is None and year_text:
        year = year_number(year_text)
    if year is None:
        year = _year_fallback(parts, published, prov)
    programme = _find_programme(itype, parts, national, policing, prov)
    if itype is None:
        m = re.search(r"([a-z]+)-inspection", path.stem.lower().replace("_", "-"))
        if m:
            itype, prov["inspection_type"] = m.group(1).capitalize() + " inspection", "path"
        else:
            itype = "Inspection" if policing or programme else "Report"
            prov["inspection_type"] = "none"
    title = _title(itype, year_text, period, year)

    judgments, pillars, overall, source = report_judgments(elements, programme, itype)
    return Report(
        report_id=report_key(rel),
        title=title, force=force or "", year=year, inspection_type=itype,
        source_file=rel, content_hash=content_hash, pages=len(pages),
        judgments=tuple(judgments), overall_judgment=overall,
        overall_judgment_source=source, programme=programme, published=published,
        scope="national" if national else "force",
        provenance={k: prov[k] for k in ("force", "year", "inspection_type", "programme",
                                         "published")},
        pillar_judgments=tuple(pillars),
    )


def _published(pages: list[Page], flat: str) -> tuple[str | None, str]:
    """(publication date, provenance): a date line on the title page, else
    "Published <date>" in the text."""
    for ln in _title_page(pages):
        m = _DATE_LINE.match(ln)
        if m:
            return _iso(m), "title page"
    m = _PUBLISHED.search(flat)
    if m:
        return _iso(m), "text"
    return None, "none"


def _title(itype: str, year_text: str | None, period: str | None, year: int | None) -> str:
    """"<type> <printed year>" ("Crime inspection 2014", "Form 10-K 2023"), or
    "<type>, <period>" for a period other than a year ("Form 10-Q, quarter ended June
    30, 2023"); the type alone when it already holds the year or none is known."""
    when = period or year_text or (str(year) if year else None)
    if not when or re.search(rf"\b{re.escape(when)}\b", itype):
        return itype
    return f"{itype}, {when}" if " ended " in when else f"{itype} {when}"


def report_judgments(elements: list[Element], programme: str = "",
                     inspection_type: str | None = "Inspection"
                     ) -> tuple[list[tuple[str, str]], list[tuple[str, str]], str | None,
                                str | None]:
    """(per-question judgments, per-pillar judgments, overall grade, its source).

    Only an inspection (:func:`is_inspection` of ``programme`` and ``inspection_type``)
    is graded: a company report's "Options Outstanding" table row or an "Outstanding"
    line is a word, not a grade, so any other report gets nothing.

    Per question: the summary grid's grades in order, else each graded chapter's grade
    box. A chapter titled by a PEEL pillar ("Effectiveness") grades that pillar. The
    overall grade is printed either under a label ("Overall judgement") or right after
    the report's first heading; in a single-pillar PEEL report it is also that pillar's
    grade. "derived": every question has the same grade and no overall one is printed.
    """
    judgments: list[tuple[str, str]] = []
    pillars: list[tuple[str, str]] = []
    overall, source = None, None
    if not is_inspection(programme, inspection_type):
        return judgments, pillars, overall, source
    first_heading = next((i for i, e in enumerate(elements) if e.kind == "heading"), None)
    grid = next((e for e in elements if e.kind == "grid" and e.grades), None)
    chapter = None
    graded: set[str] = set()
    for i, e in enumerate(elements):
        if e.kind == "heading" and e.level <= 1:
            chapter = e.text
        if e.kind != "grades" or len(e.grades) != 1:
            continue
        prev = elements[i - 1] if i else None
        grade = e.grades[0]
        if prev is not None and prev.kind == "heading" and (
                OVERALL_LABEL.match(prev.text) or i - 1 == first_heading):
            if overall is None:
                overall, source = grade, "printed"
                continue
        if chapter is None or chapter in graded:
            continue
        graded.add(chapter)
        pm = PILLAR_HEADING.match(chapter)
        if pm:
            pillars.append((pm.group(1).capitalize(), grade))
        else:
            judgments.append((chapter, grade))
    if grid and len(grid.grades) == len(grid.questions):
        judgments = list(zip(grid.questions, grid.grades))
    if overall and programme.startswith("PEEL ") and programme != "PEEL assessment":
        pillars.insert(0, (programme.split()[1].capitalize(), overall))
    if overall is None and judgments and len({g for _, g in judgments}) == 1:
        overall, source = judgments[0][1], "derived"
    return judgments, pillars, overall, source
