"""Reading benchmark for the ingest stage: how well and how fast do we read real PDFs.

Each file goes through ``ingest.pipeline.ingest_file`` (read, clean, sections,
passages, metadata; no embedding), one file at a time in this one process. Files are
grouped into families ("realworld filings", "shipped report", or the name of any other
folder given) and each family gets one row per figure:

- pages/s: PDF pages (pypdf's page count; ``report.pages`` for text files) over the
  seconds ``ingest_file`` took, overall and for the slowest file. Single process, so the
  per-core figure is the same number.
- split / glued words per 10,000 words of passage text (see ``WordChecker``).
- table rows: lines of "table" passages that carry " — " and values, the share whose
  every value has a header name, and "column N" cells.
- passages under 10 words, and passages whose last heading is a table row (three or
  more numbers).
- metadata: body (``report.force``) found, a title that is not "Inspection ..." on a
  report that is no inspection, and graded judgments invented for a non-inspection.

    .venv/bin/python benchmarks/reading_bench.py                      # the shipped report
    .venv/bin/python benchmarks/reading_bench.py FILINGS_DIR \\
        corpus/hmic-crime-inspection-2014-west-midlands.txt --not-inspection filings
    .venv/bin/python benchmarks/reading_bench.py DIR_OR_FILE ... --files 2 \\
        --pages-per-file 30 --per-file --examples --json-out result.json

Each folder given is a family (named after the folder); with none, the shipped report
(``corpus/hmic-crime-inspection-2014-west-midlands.txt``) alone. The team measures a
folder of 24 real SEC filings kept beside the repository (not shipped with it): pass
any folder of reports. ``--not-inspection NAME`` marks a family known to hold no
inspection, so a title "Inspection …" there counts as not found.
"""

from __future__ import annotations

import argparse
import importlib.resources
import json
import re
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from itertools import zip_longest
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# Appended, not prepended: PYTHONPATH=/another/checkout must win, so the same script can
# measure another version of the ingest package.
if str(ROOT) not in sys.path:
    sys.path.append(str(ROOT))

SHIPPED = ROOT / "corpus" / "hmic-crime-inspection-2014-west-midlands.txt"
FAMILY_NAMES = {SHIPPED.resolve(): "shipped report"}
#: Families whose reports are known to be inspections (True) or not (False); main()
#: adds the --not-inspection ones.
FAMILY_INSPECTION = {"shipped report": True}

#: Dictionary words rarer than this (symspellpy's counts, from 12,714 up) are unknown.
MIN_COUNT = 25_000
SHORT_WORDS = 10
MAX_EXAMPLES = 20

LETTERS = re.compile(r"^[A-Za-z]+$")
EDGE_PUNCT = "\"'“”‘’()[]{}"
NUMBER = re.compile(r"^\(?[$£€]?\d[\d,]*(?:\.\d+)?%?\)?[,;:.]?$")
COLUMN_N = re.compile(r"\bcolumn \d+\b")
INSPECTION_TITLE = re.compile(r"^Inspection\b")
#: Halves that make a word look glued although it is a compound ("noncurrent").
PREFIXES = {"non", "pre", "sub", "over", "under", "inter", "multi", "anti", "counter",
            "out", "self", "post", "semi", "mid", "super", "cyber", "micro", "macro", "re",
            "co", "un", "off", "up", "down", "back", "fore", "tele", "bio", "eco"}
SUFFIXES = {"wide", "based", "like", "less", "holder", "holders", "owned", "related",
            "free", "wise", "ward", "wards", "fold", "ship", "ships", "time", "line",
            "lines", "side", "work", "works", "point", "where", "ever"}
#: Function words: a token that splits into one of these + a word is an extraction
#: glue ("andliabilities"), and does not count towards the document's own vocabulary.
FUNCTION = {"and", "the", "for", "with", "from", "our", "its", "that", "which", "are",
            "was", "were", "has", "have", "not", "this", "these", "their", "other", "such",
            "any", "all", "into", "onto", "upon", "than", "then", "but", "also"}


# --------------------------------------------------------------------------- words


def load_dictionary() -> dict[str, int]:
    """symspellpy's English frequency dictionary: word (first column) → count."""
    path = importlib.resources.files("symspellpy") / "frequency_dictionary_en_82_765.txt"
    words: dict[str, int] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        parts = line.split()
        if len(parts) >= 2:
            words[parts[0].lower()] = int(parts[1])
    return words


def word_tokens(text: str) -> list[tuple[str, bool, bool]]:
    """Whitespace tokens as (letters, clean_left, clean_right): quotes and brackets
    stripped from the edges, trailing , ; : . ! ? too (clean_right then False, so a
    token ending a clause does not pair with the next one). Letters is "" for a token
    that holds anything but letters (digits, hyphens, apostrophes, slashes)."""
    out = []
    for raw in text.split():
        tok = raw.strip(EDGE_PUNCT)
        left = tok == raw.lstrip(EDGE_PUNCT) and raw[:1] not in EDGE_PUNCT
        core = tok.rstrip(",;:.!?")
        right = core == tok and raw[-1:] not in EDGE_PUNCT
        out.append((core if LETTERS.match(core) else "", left, right))
    return out


def is_acronym(tok: str) -> bool:
    """All capitals, at most five letters (SEC, GAAP, EBITDA is six)."""
    return tok.isupper() and len(tok) <= 5


@dataclass
class WordChecker:
    """Split and glued words in one document's passages.

    A *split* word is two adjacent letter tokens ``a b`` (nothing but a space between
    them) where ``ab`` is a known word and ``a`` or ``b`` is not ("consol idated",
    "incom e", "mi llion"). Against false positives ("pro forma") the joined word must
    also occur whole in the document, unless neither half is in the dictionary at all.

    A *glued* word is a letter token of 8+ letters that is not known but splits into
    two known words of 3+ letters each ("andliabilities"), the first no common prefix
    ("non") and the second no common suffix ("wide"). Against compounds ("datacenter",
    "roadmaps") one half must be a function word ("and", "the") or the two words must
    also occur apart in the document ("net income" beside "netincome").

    Known: the dictionary (count >= MIN_COUNT) plus the document's own words found 3+
    times in its passages, not counting occurrences inside a suspected split pair nor
    tokens that split into a function word + a word. Case-insensitive; tokens with
    digits or other non-letters and all-caps acronyms of up to five letters are
    ignored."""

    dictionary: frozenset[str]
    #: Every dictionary word, whatever its count.
    full: frozenset[str]
    known: set[str] = field(default_factory=set)
    doc_words: set[str] = field(default_factory=set)
    doc_bigrams: set[str] = field(default_factory=set)

    def learn(self, texts: list[str]) -> None:
        """The document's own vocabulary, from its passages."""
        counts: Counter = Counter()
        self.doc_bigrams = set()
        for text in texts:
            toks = word_tokens(text)
            skip = set()
            for i, j in self._pairs(toks):
                a, b = toks[i][0].lower(), toks[j][0].lower()
                self.doc_bigrams.add(f"{a} {b}")
                if self._suspect_pair(a, b, self.dictionary):
                    skip.update((i, j))
            for i, (w, _, _) in enumerate(toks):
                if w and i not in skip and not self._function_glue(w.lower()):
                    counts[w.lower()] += 1
        self.doc_words = {w.lower() for text in texts for w, _, _ in word_tokens(text) if w}
        self.known = set(self.dictionary) | {w for w, n in counts.items() if n >= 3}

    @staticmethod
    def _pairs(toks):
        for i in range(len(toks) - 1):
            (a, _, ra), (b, lb, _) = toks[i], toks[i + 1]
            if a and b and ra and lb and not is_acronym(a) and not is_acronym(b):
                yield i, i + 1

    @staticmethod
    def _suspect_pair(a: str, b: str, known) -> bool:
        return (a + b) in known and (a not in known or b not in known)

    def _split(self, a: str, b: str) -> bool:
        """``a b`` is one word split in two (see the class docstring)."""
        return self._suspect_pair(a, b, self.known) and (
            (a + b) in self.doc_words or (a not in self.full and b not in self.full))

    def _function_glue(self, w: str) -> bool:
        if len(w) < 8 or w in self.dictionary:
            return False
        return any((w[:k] in FUNCTION and w[k:] in self.dictionary)
                   or (w[k:] in FUNCTION and w[:k] in self.dictionary)
                   for k in range(3, len(w) - 2))

    def glued_split(self, w: str) -> str | None:
        """"and|liabilities" when ``w`` reads as two known words glued, else None."""
        lw = w.lower()
        if len(lw) < 8 or lw in self.known or is_acronym(w):
            return None
        for k in range(3, len(lw) - 2):
            a, b = lw[:k], lw[k:]
            if a in PREFIXES or b in SUFFIXES:
                continue
            if a in self.known and b in self.known and (
                    a in FUNCTION or b in FUNCTION or f"{a} {b}" in self.doc_bigrams):
                return f"{a}|{b}"
        return None

    def check(self, text: str) -> tuple[list[str], list[str]]:
        """(split examples, glued examples) found in one passage's text."""
        toks = word_tokens(text)
        splits, glued, used = [], [], -1
        for i, j in self._pairs(toks):
            if i <= used:
                continue
            a, b = toks[i][0], toks[j][0]
            if self._split(a.lower(), b.lower()):
                splits.append(f"{a} {b} → {(a + b).lower()}")
                used = j
        for w, _, _ in toks:
            if w and (g := self.glued_split(w)):
                glued.append(f"{w} → {g}")
        return splits, glued


# --------------------------------------------------------------------------- passages


def table_row_stats(passages) -> dict:
    """Rows of "table" passages (lines with " — " and a number after it), how many
    name every value's header, and "column N" cells in all passages."""
    rows = named = 0
    for p in passages:
        if p.kind != "table":
            continue
        for line in p.text.splitlines():
            if " — " not in line:
                continue
            rest = line.split(" — ", 1)[1]
            if not any(NUMBER.match(t) for t in rest.split()):
                continue
            rows += 1
            named += row_is_named(rest)
    cells = sum(len(COLUMN_N.findall(p.text)) for p in passages)
    return {"table_rows": rows, "named_rows": named, "column_n_cells": cells}


def row_is_named(rest: str) -> bool:
    """Whether every value of a row follows a header name: no "column N", and each cell
    ("header: value; …" as the PDF reader writes rows, or "name 1, other name 2
    (unit)" as text tables are written) names its header."""
    if COLUMN_N.search(rest):
        return False
    rest = re.sub(r"\s*\([^()]*[A-Za-z][^()]*\)\s*$", "", rest)  # the row's unit/period
    if ": " in rest:
        # The PDF reader's rows: "header: value; header: value".
        return all(":" in cell and cell.split(":", 1)[0].strip()
                   for cell in rest.split("; ") if cell.strip())
    for cell in re.split(r",\s+", rest):
        toks = cell.split()
        if not toks:
            continue
        if len(toks) < 2 or not re.search(r"[A-Za-z]", " ".join(toks[:-1])):
            return False
    return True


def short_passages(passages) -> int:
    """Passages of fewer than SHORT_WORDS whitespace tokens."""
    return sum(len(p.text.split()) < SHORT_WORDS for p in passages)


def heading_is_row(heading: str) -> bool:
    """A heading with three or more numbers (1,234 / (1,234) / 12.5% / $5) is a table
    row read as a heading."""
    return sum(bool(NUMBER.match(t)) for t in heading.split()) >= 3


def heading_stats(passages) -> dict:
    """Passages under a table-row heading, and distinct such headings."""
    heads = [p.section[-1] for p in passages if p.section]
    distinct = set(heads)
    bad = {h for h in distinct if heading_is_row(h)}
    return {"row_heading_passages": sum(h in bad for h in heads),
            "distinct_headings": len(distinct), "row_headings": len(bad),
            "row_heading_examples": sorted(bad)[:MAX_EXAMPLES]}


def is_inspection(report) -> bool:
    """An inspection report: a programme, or "inspection" in its type or title."""
    return bool(report.programme) or "inspection" in (
        f"{report.inspection_type} {report.title}".lower())


def metadata_stats(report, family: str) -> dict:
    """Body found, title found (an "Inspection ..." title on a non-inspection is not
    one) and invented grades (any graded judgment on a non-inspection). Whether the
    report is an inspection comes from its family where that is known (no filing is
    one, so a filing titled "Inspection 2015" fails), else from ``is_inspection``."""
    said = is_inspection(report)
    insp = FAMILY_INSPECTION.get(family, said)
    title_ok = bool(report.title.strip()) and (
        insp or not INSPECTION_TITLE.search(report.title.strip()))
    graded = bool(report.judgments) or bool(report.overall_judgment)
    return {"inspection": insp, "reader_says_inspection": said, "body": report.force,
            "title": report.title,
            "body_found": bool(report.force.strip()), "title_found": title_ok,
            "invented_grade": graded and not insp}


# --------------------------------------------------------------------------- files


def family_files(paths: list[Path], n_files: int | None) -> dict[str, list[Path]]:
    """Files by family, in order; at most ``n_files`` per family."""
    from ingest.pipeline import corpus_files

    out: dict[str, list[Path]] = {}
    for p in paths:
        r = p.resolve()
        name = FAMILY_NAMES.get(r) or (r.name if r.is_dir() else r.parent.name)
        out.setdefault(name, []).extend(corpus_files([p]))
    return {k: (v[:n_files] if n_files else v) for k, v in out.items()}


def cut_pdf(path: Path, n_pages: int, tmp: Path) -> Path:
    """The first ``n_pages`` pages of a PDF as a new file (the file itself if shorter)."""
    from pypdf import PdfReader, PdfWriter

    reader = PdfReader(path)
    if len(reader.pages) <= n_pages:
        return path
    writer = PdfWriter()
    for page in reader.pages[:n_pages]:
        writer.add_page(page)
    out = tmp / path.name
    with out.open("wb") as f:
        writer.write(f)
    return out


def page_count(path: Path, report) -> int:
    """pypdf's page count of a PDF; the report's for other files."""
    if path.suffix.lower() == ".pdf":
        from pypdf import PdfReader

        return len(PdfReader(path).pages)
    return report.pages if report else 0


def measure_file(path: Path, family: str, checker: WordChecker, pages_cap: int | None,
                 tmp: Path) -> dict:
    """Time ``ingest_file`` on one file and take every figure from its result."""
    from ingest.pipeline import ingest_file

    src = cut_pdf(path, pages_cap, tmp) if pages_cap and path.suffix.lower() == ".pdf" \
        else path
    t = time.perf_counter()
    res = ingest_file(src)
    secs = time.perf_counter() - t
    row = {"family": family, "file": path.name, "pages": page_count(src, res.report),
           "seconds": secs, "error": res.error, "passages": len(res.passages)}
    if src != path:
        src.unlink()
    if res.error or not res.report:
        return row
    texts = [p.text for p in res.passages]
    checker.learn(texts)
    splits, glued = [], []
    for text in texts:
        s, g = checker.check(text)
        splits += s
        glued += g
    row.update({"words": sum(len(t.split()) for t in texts), "split": len(splits),
                "glued": len(glued), "split_examples": splits[:MAX_EXAMPLES],
                "glued_examples": glued[:MAX_EXAMPLES], "short": short_passages(res.passages),
                **table_row_stats(res.passages), **heading_stats(res.passages),
                **metadata_stats(res.report, family)})
    return row


# --------------------------------------------------------------------------- figures


def ratio(a: float, b: float) -> float | None:
    """a / b, or None when b is 0."""
    return a / b if b else None


def summarise(family: str, rows: list[dict]) -> dict:
    """One family's figures from its files' rows."""
    ok = [r for r in rows if not r.get("error")]
    tot = Counter()
    for r in ok:
        for k in ("pages", "seconds", "words", "split", "glued", "passages", "short",
                  "table_rows", "named_rows", "column_n_cells", "row_heading_passages",
                  "distinct_headings", "row_headings"):
            tot[k] += r[k]
    slowest = min(ok, key=lambda r: ratio(r["pages"], r["seconds"]) or 0, default=None)
    return {
        "family": family, "files": len(rows), "failed": [r["error"] for r in rows
                                                          if r.get("error")],
        **{k: round(v, 3) if isinstance(v, float) else v for k, v in tot.items()},
        "pages_per_s": ratio(tot["pages"], tot["seconds"]),
        "pages_per_s_per_core": ratio(tot["pages"], tot["seconds"]),
        "slowest_file": slowest and slowest["file"],
        "slowest_pages_per_s": slowest and ratio(slowest["pages"], slowest["seconds"]),
        "split_per_10k": ratio(10_000 * tot["split"], tot["words"]),
        "glued_per_10k": ratio(10_000 * tot["glued"], tot["words"]),
        "named_row_share": ratio(tot["named_rows"], tot["table_rows"]),
        "short_share": ratio(tot["short"], tot["passages"]),
        "row_heading_passage_share": ratio(tot["row_heading_passages"], tot["passages"]),
        "row_heading_share": ratio(tot["row_headings"], tot["distinct_headings"]),
        "bodies_found": sum(r["body_found"] for r in ok),
        "titles_found": sum(r["title_found"] for r in ok),
        "invented_grades": sum(r["invented_grade"] for r in ok),
        "reader_says_inspection": sum(r["reader_says_inspection"] for r in ok),
        "reports": len(ok),
        **{f"{k}_examples": spread(ok, f"{k}_examples")
           for k in ("split", "glued", "row_heading")},
    }


def spread(rows: list[dict], key: str) -> list[str]:
    """Up to MAX_EXAMPLES examples taken in turn from each file, "file: example"."""
    lists = [[f"{r['file']}: {e}" for e in r[key]] for r in rows]
    turns = zip_longest(*lists) if lists else []
    return [e for turn in turns for e in turn if e][:MAX_EXAMPLES]


def fmt(v, digits: int = 1, pct: bool = False) -> str:
    """A figure for the table: "-" for none, a percentage, or rounded."""
    if v is None:
        return "-"
    if pct:
        return f"{100 * v:.{digits}f}%"
    if isinstance(v, float):
        return f"{v:,.{digits}f}"
    return f"{v:,}"


def table(header: list[str], rows: list[list[str]]) -> str:
    """A plain-text table with columns padded to their widest cell."""
    widths = [max(len(str(x)) for x in col) for col in zip(header, *rows)]
    line = lambda cells: "  ".join(str(c).ljust(w) for c, w in zip(cells, widths))  # noqa: E731
    return "\n".join([line(header), line(["-" * w for w in widths])]
                     + [line(r) for r in rows])


def report_text(fams: list[dict], files: list[dict], per_file: bool, examples: bool) -> str:
    """The whole printed report."""
    out = ["Speed: ingest_file (read, clean, sections, passages, metadata; no embedding), "
           "single process, so pages/s per core = pages/s.",
           table(["family", "files", "pages", "seconds", "pages/s", "pages/s/core",
                  "slowest file", "its pages/s"],
                 [[f["family"], f["files"], fmt(f["pages"]), fmt(f["seconds"]),
                   fmt(f["pages_per_s"]), fmt(f["pages_per_s_per_core"]),
                   f["slowest_file"] or "-", fmt(f["slowest_pages_per_s"])] for f in fams]),
           "", "Text: per 10,000 words of passage text; table rows from 'table' passages.",
           table(["family", "words", "split/10k", "glued/10k", "table rows", "named",
                  "column-N cells", "passages", "<10 words", "row-heading passages",
                  "row headings / distinct"],
                 [[f["family"], fmt(f["words"]), fmt(f["split_per_10k"], 2),
                   fmt(f["glued_per_10k"], 2), fmt(f["table_rows"]),
                   fmt(f["named_row_share"], pct=True), fmt(f["column_n_cells"]),
                   fmt(f["passages"]),
                   f"{fmt(f['short'])} ({fmt(f['short_share'], pct=True)})",
                   f"{fmt(f['row_heading_passages'])} "
                   f"({fmt(f['row_heading_passage_share'], pct=True)})",
                   f"{f['row_headings']}/{f['distinct_headings']} "
                   f"({fmt(f['row_heading_share'], pct=True)})"] for f in fams]),
           "", "Metadata (a title 'Inspection ...' on a non-inspection is not found; any "
           "grade on a non-inspection is invented).",
           table(["family", "bodies found", "titles found", "invented grades",
                  "read as inspection", "failed files"],
                 [[f["family"], f"{f['bodies_found']}/{f['reports']}",
                   f"{f['titles_found']}/{f['reports']}", f["invented_grades"],
                   f"{f['reader_says_inspection']}/{f['reports']}", len(f["failed"])]
                  for f in fams])]
    for f in fams:
        out += [f"failed: {e}" for e in f["failed"]]
    if per_file:
        out += ["", table(["file", "pages", "seconds", "pages/s", "passages", "<10 words",
                           "column-N", "body", "title"],
                          [file_row(r) for r in files])]
    if examples:
        for f in fams:
            for kind in ("split", "glued", "row_heading"):
                out += ["", f"{f['family']}: {kind.replace('_', ' ')} examples"]
                out += [f"  {e}" for e in f[f"{kind}_examples"]] or ["  (none)"]
    return "\n".join(out)


def file_row(r: dict) -> list[str]:
    """One line of the per-file table."""
    if r.get("error"):
        return [r["file"], fmt(r["pages"]), fmt(r["seconds"]), "-", "-", "-", "-",
                "FAILED", r["error"][:60]]
    return [r["file"], fmt(r["pages"]), fmt(r["seconds"]),
            fmt(ratio(r["pages"], r["seconds"])), fmt(r["passages"]), fmt(r["short"]),
            fmt(r["column_n_cells"]), (r["body"] or "-")[:30], (r["title"] or "-")[:50]]


def main(argv=None) -> int:
    """Read the files, print the tables, write --json-out."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("paths", nargs="*", type=Path, help="files or folders, a family each "
                    "(default: the shipped report)")
    ap.add_argument("--not-inspection", action="append", default=[], metavar="FAMILY",
                    help="a family (folder name) known to hold no inspection report")
    ap.add_argument("--files", type=int, help="only the first N files of each family")
    ap.add_argument("--pages-per-file", type=int, help="read only each PDF's first N pages")
    ap.add_argument("--min-count", type=int, default=MIN_COUNT,
                    help="dictionary count floor for a known word (default %(default)s)")
    ap.add_argument("--per-file", action="store_true", help="also print a row per file")
    ap.add_argument("--examples", action="store_true",
                    help=f"print up to {MAX_EXAMPLES} split/glued/row-heading examples")
    ap.add_argument("--json-out", type=Path, help="write every figure here")
    a = ap.parse_args(argv)
    from tqdm import tqdm

    import ingest

    paths = a.paths or [SHIPPED]
    FAMILY_INSPECTION.update(dict.fromkeys(a.not_inspection, False))
    fams = family_files(paths, a.files)
    counts = load_dictionary()
    checker = WordChecker(frozenset(w for w, n in counts.items() if n >= a.min_count),
                          frozenset(counts))
    work = [(fam, p) for fam, ps in fams.items() for p in ps]
    rows = []
    with tempfile.TemporaryDirectory(prefix="reading-bench-") as tmp:
        bar = tqdm(work, file=sys.stderr, unit="file")
        for fam, p in bar:
            bar.set_postfix_str(p.name[:40])
            rows.append(measure_file(p, fam, checker, a.pages_per_file, Path(tmp)))
    summaries = [summarise(fam, [r for r in rows if r["family"] == fam]) for fam in fams]
    print(f"ingest package: {Path(ingest.__file__).parent}")
    print(f"pages per file: {a.pages_per_file or 'all'}; files per family: {a.files or 'all'}")
    print(report_text(summaries, rows, a.per_file, a.examples))
    if a.json_out:
        meta = {"ingest": str(Path(ingest.__file__).parent), "paths": [str(p) for p in paths],
                "files_per_family": a.files, "pages_per_file": a.pages_per_file,
                "min_count": a.min_count, "single_process": True}
        a.json_out.write_text(json.dumps({"meta": meta, "families": summaries,
                                          "files": rows}, indent=2, default=str))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
