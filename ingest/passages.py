"""Structural elements → citable passages: split inside sections on paragraph and
sentence boundaries (never across sections), about 60–250 words, each with its
section path, printed page labels and kind. Also the report's metadata (title,
force, year, inspection type, graded judgments)."""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

from ingest.clean import Page
from ingest.models import Passage, Report, passage_id
from ingest.sections import Element

#: Bumped whenever ingestion changes what passages a file gives: an index built by
#: another version re-ingests every report (cached vectors keep that cheap).
INGEST_VERSION = 4

_SENT_SPLIT = re.compile(r"(?<=[.!?])['’”)]?\s+(?=[A-Z0-9‘“(•])")


def split_sentences(text: str) -> list[str]:
    """Sentences of a paragraph (a light rule: terminal punctuation, then a capital)."""
    parts = _SENT_SPLIT.split(text.strip())
    return [p.strip() for p in parts if p.strip()]


def passage_sentences(text: str) -> list[str]:
    """The sentences of a passage, with table rows and list items (one per line) kept
    whole. The one splitter: the index embeds these, and search scores and highlights
    the same units, so build and query always agree."""
    out = []
    for line in text.split("\n"):
        out.extend(split_sentences(line))
    return out or [text]


def _words(text: str) -> int:
    return len(text.split())


def _kind_for(section: tuple[str, ...], element: Element) -> str:
    if element.kind in ("table", "note"):
        return element.kind
    name = section[-1].lower() if section else ""
    if "recommendation" in name or re.match(
        r"^\W*within \w+ (?:months|weeks)\b.{0,80}\bshould\b", element.text, re.I
    ):
        return "recommendation"
    if "summary" in name or "key findings" in name or "conclusion" in name:
        return "summary"
    return "paragraph"


def _units(text: str, max_words: int) -> list[str]:
    """A paragraph, or its sentence-bounded pieces when it is longer than max_words."""
    if _words(text) <= max_words:
        return [text]
    out: list[str] = []
    cur: list[str] = []
    n = 0
    sentences = []
    for sent in split_sentences(text):
        # Text without sentence ends (lists run together, tables flattened) is cut
        # at word boundaries so no passage outgrows what the model reads.
        words = sent.split()
        sentences += [" ".join(words[i:i + max_words]) for i in range(0, len(words), max_words)]
    target = _words(text) / -(-_words(text) // max_words)  # balanced pieces
    for s in sentences:
        w = _words(s)
        if cur and (n + w > max_words or n >= target):
            out.append(" ".join(cur))
            cur, n = [], 0
        cur.append(s)
        n += w
    if cur:
        out.append(" ".join(cur))
    return out


def build_passages(
    elements: list[Element],
    pages: list[Page],
    report: Report,
    *,
    min_words: int = 60,
    max_words: int = 250,
    target_words: int = 160,
) -> list[Passage]:
    """Group the text elements of each section into passages."""
    passages: list[Passage] = []
    section: tuple[str, ...] = ()
    # (text, kind, page positions) waiting to be packed for the current section.
    pending: list[tuple[str, str, list[int]]] = []

    def make(text: str, kind: str, pgs: list[int], sec: tuple[str, ...]) -> None:
        pgs = sorted(set(pgs))
        labels = tuple(dict.fromkeys(pages[p].label or "" for p in pgs))
        passages.append(Passage(
            passage_id=passage_id(report.content_hash, sec, text),
            report_id=report.report_id, report_title=report.title, force=report.force,
            year=report.year, inspection_type=report.inspection_type, section=sec,
            page_labels=tuple(x for x in labels if x), pdf_pages=tuple(pages[p].index + 1
                                                                        for p in pgs),
            kind=kind, text=text, source_file=report.source_file, order=len(passages),
        ))

    def flush() -> None:
        groups: list[list[tuple[str, str, list[int]]]] = []
        cur: list[tuple[str, str, list[int]]] = []
        n = 0
        for unit in pending:
            w = _words(unit[0])
            # Tables, notes and kind changes stand on their own.
            solo = unit[1] in ("table", "note")
            if cur and (solo or cur[-1][1] in ("table", "note") or cur[-1][1] != unit[1]
                        or n + w > max_words or n >= target_words):
                groups.append(cur)
                cur, n = [], 0
            cur.append(unit)
            n += w
        if cur:
            groups.append(cur)
        # A short tail joins the group before it when they fit together.
        merged: list[list[tuple[str, str, list[int]]]] = []
        for g in groups:
            gw = sum(_words(u[0]) for u in g)
            if (merged and gw < min_words and g[0][1] == merged[-1][0][1]
                    and g[0][1] not in ("table", "note")
                    and gw + sum(_words(u[0]) for u in merged[-1]) <= max_words + 60):
                merged[-1].extend(g)
            else:
                merged.append(g)
        for g in merged:
            text = "\n".join(u[0] for u in g)
            make(text, g[0][1], [p for u in g for p in u[2]], section)
        pending.clear()

    for e in elements:
        if e.kind == "heading":
            flush()
            if e.level <= 1:
                section = (e.text,)
            else:
                section = (section[0], e.text) if section else (e.text,)
            continue
        if e.kind in ("grades", "grid"):
            continue
        kind = _kind_for(section, e)
        for u in _units(e.text, max_words):
            pending.append((u, kind, e.pages))
    flush()

    # The graded judgments are a passage of their own (kind "judgment").
    if report.judgments:
        jp = [i for i, e in enumerate(elements) if e.kind in ("grid", "grades")]
        first = elements[jp[0]] if jp else None
        lines = [f"{report.force} — graded judgments ({report.title}):"]
        lines += [f"{q} {g}." for q, g in report.judgments]
        if report.overall_judgment:
            how = ("" if report.overall_judgment_source == "printed"
                   else " (each question graded the same; no separate overall grade printed)")
            lines.append(f"Overall judgment: {report.overall_judgment}{how}.")
        sec = _judgment_section(elements)
        make("\n".join(lines), "judgment", first.pages if first else [0], sec)
    return passages


def _judgment_section(elements: list[Element]) -> tuple[str, ...]:
    section: tuple[str, ...] = ()
    for e in elements:
        if e.kind == "heading":
            section = (e.text,) if e.level <= 1 else ((section[0], e.text) if section
                                                      else (e.text,))
        if e.kind in ("grid", "grades"):
            return section
    return section


_TITLE_LINE = re.compile(
    r"^(?P<type>[A-Z][A-Za-z ]*?(?:inspection|review|assessment|PEEL[^–—-]*))\s+"
    r"(?P<year>(?:19|20)\d{2})(?:/\d{2,4})?\s*[–—:-]\s*(?P<force>.+)$"
)
_FORCE = re.compile(
    r"\b((?:[A-Z][a-z]+|and|of|the)(?: (?:[A-Z][a-z]+|and|of))* "
    r"(?:Police|Constabulary|Police Service|Fire and Rescue Service))\b"
)


def report_metadata(path: Path, pages: list[Page], elements: list[Element],
                    content_hash: str) -> Report:
    """Title, inspected body, year and type from the running header (e.g. "Crime
    inspection 2014 – West Midlands Police"), else from the text and the file name;
    graded judgments from the judgment grid and chapter grade boxes."""
    title_type, year, force = None, None, None
    headers = Counter(p.header for p in pages if p.header)
    candidates = [h for h, _ in headers.most_common()] + [
        ln.strip() for p in pages[:3] for ln in p.lines[:5] if ln.strip()
    ]
    for h in candidates:
        m = _TITLE_LINE.match(h)
        if m:
            title_type, year, force = m.group("type").strip(), int(m.group("year")), m.group(
                "force").strip()
            break
    text = "\n".join(ln for p in pages for ln in p.lines)
    if force is None:
        forces = Counter(m.group(1).strip() for m in _FORCE.finditer(text))
        forces = Counter({k: v for k, v in forces.items() if not k.lower().startswith(
            ("the ", "and ", "of "))})
        force = forces.most_common(1)[0][0] if forces else ""
    stem = path.stem.replace("_", "-")
    if year is None:
        m = re.search(r"(?:19|20)\d{2}", stem)
        if m:
            year = int(m.group(0))
        else:
            years = Counter(int(y) for y in re.findall(r"\b(20[0-4]\d)\b", text))
            year = max(years) if years else None
    if title_type is None:
        m = re.search(r"([a-z]+)-inspection", stem.lower())
        kind = m.group(1).capitalize() + " inspection" if m else "Inspection"
        title_type = kind
    title = f"{title_type} {year}" if year else title_type

    # Judgments: the grid's grades in order; else each chapter's grade box.
    judgments: list[tuple[str, str]] = []
    grid = next((e for e in elements if e.kind == "grid" and e.grades), None)
    if grid and len(grid.grades) == len(grid.questions):
        judgments = list(zip(grid.questions, grid.grades))
    else:
        chapter = None
        for e in elements:
            if e.kind == "heading" and e.level <= 1:
                chapter = e.text
            if e.kind == "grades" and chapter and len(e.grades) == 1:
                judgments.append((chapter, e.grades[0]))
    overall, source = None, None
    # A grade right after the first chapter heading (before any text) is printed
    # as the overall judgment.
    for i, e in enumerate(elements[:4]):
        if e.kind == "grades" and len(e.grades) == 1 and i > 0 and elements[i - 1].kind == (
                "heading"):
            overall, source = e.grades[0], "printed"
    if overall is None and judgments and len({g for _, g in judgments}) == 1:
        overall, source = judgments[0][1], "derived"

    return Report(
        report_id=re.sub(r"[^a-z0-9]+", "-", path.stem.lower()).strip("-") or "report",
        title=title, force=force or "", year=year, inspection_type=title_type,
        source_file=path.name, content_hash=content_hash, pages=len(pages),
        judgments=tuple(judgments), overall_judgment=overall,
        overall_judgment_source=source,
    )
