"""PDF text libraries side by side on the same real pages: speed and split/glued words.

For the first N pages of each PDF given (30 by default; a folder gives up to
``--files`` of its PDFs, spread over it), each reader's text of every page is timed and checked
with benchmarks/reading_bench.py's ``WordChecker`` (split and glued words per 10,000):

- ``pypdf plain`` and ``pypdf layout``: ``page.extract_text()`` in both modes;
- ``pdfminer.six`` (through pdfplumber's ``page.extract_text()``, its layout analysis);
- ``pdfplumber tables``: ``page.extract_tables()`` alone (its table finder), with the
  share of tables whose first row names every numeric column;
- ``pypdfium2 text``: pdfium's text page (``get_text_range``), no positions;
- ``reportqa reader``: ``ingest.pdf_reader.read_pdf`` (pdfium character boxes → lines,
  cells and tables with headers; pypdf opens and checks the file).

    .venv/bin/python benchmarks/pdf_libraries.py FOLDER_OR_PDF ... [--pages 30] [--files 6]

pdfplumber is not a dependency of reportqa: ``pip install pdfplumber`` to include it.
"""

from __future__ import annotations

import argparse
import re
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from reading_bench import MIN_COUNT, WordChecker, load_dictionary  # noqa: E402

NUMERIC = re.compile(r"^\(?[$€£]?\s?\d[\d,.]*\)?%?$")


def cut(path: Path, pages: int, tmp: Path) -> Path:
    """The first ``pages`` pages of a PDF as a new file."""
    from pypdf import PdfReader, PdfWriter

    reader, writer = PdfReader(path), PdfWriter()
    for page in reader.pages[:pages]:
        writer.add_page(page)
    out = tmp / path.name
    with open(out, "wb") as fh:
        writer.write(fh)
    return out


def pypdf_texts(path: Path, mode: str) -> list[str]:
    from pypdf import PdfReader

    return [p.extract_text(extraction_mode=mode) for p in PdfReader(path).pages]


def pdfminer_texts(path: Path) -> list[str]:
    import pdfplumber

    with pdfplumber.open(path) as pdf:
        return [p.extract_text() or "" for p in pdf.pages]


def pdfplumber_tables(path: Path) -> tuple[list[str], dict]:
    """Tables as text (cells joined by spaces, for the word check), and how many have a
    first row that names every column holding numbers below it."""
    import pdfplumber

    texts, found, headed = [], 0, 0
    with pdfplumber.open(path) as pdf:
        for page in pdf.pages:
            for table in page.extract_tables():
                found += 1
                rows = [[c or "" for c in row] for row in table]
                texts.append("\n".join(" ".join(r) for r in rows))
                numeric_cols = {k for row in rows[1:] for k, c in enumerate(row)
                                if NUMERIC.match(c.strip())}
                if rows and numeric_cols and all(
                        k < len(rows[0]) and rows[0][k].strip() for k in numeric_cols):
                    headed += 1
    return texts, {"tables": found, "first_row_names_numeric_columns": headed}


def pdfium_texts(path: Path) -> list[str]:
    import pypdfium2 as pdfium

    doc = pdfium.PdfDocument(str(path))
    try:
        return [doc[i].get_textpage().get_text_range() for i in range(len(doc))]
    finally:
        doc.close()


def reportqa_texts(path: Path) -> list[str]:
    from ingest.pdf_reader import read_pdf

    return [p.text for p in read_pdf(path)]


def measure(name: str, fn, files: list[Path], dictionary) -> dict:
    pages = words = split = glued = 0
    extra: dict = {}
    seconds = 0.0
    for f in files:
        t0 = time.perf_counter()
        out = fn(f)
        seconds += time.perf_counter() - t0
        if isinstance(out, tuple):
            out, more = out
            for k, v in more.items():
                extra[k] = extra.get(k, 0) + v
        from pypdf import PdfReader

        pages += len(PdfReader(f).pages)
        checker = WordChecker(*dictionary)
        checker.learn(out)
        for text in out:
            s, g = checker.check(text)
            split += len(s)
            glued += len(g)
            words += len(text.split())
    return {"reader": name, "pages": pages, "pages_per_s": pages / seconds if seconds else 0,
            "split_per_10k": 1e4 * split / max(words, 1),
            "glued_per_10k": 1e4 * glued / max(words, 1), **extra}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("pdfs", nargs="+", type=Path, help="PDF files or folders of PDFs")
    ap.add_argument("--pages", type=int, default=30, help="first pages of each file")
    ap.add_argument("--files", type=int, default=6, help="PDFs taken from each folder")
    args = ap.parse_args(argv)
    src = []
    for p in args.pdfs:
        if p.is_dir():
            found = sorted(p.glob("*.pdf"))
            src += found[:: max(1, len(found) // args.files)][:args.files]
        else:
            src.append(p)
    counts = load_dictionary()
    dictionary = (frozenset(w for w, n in counts.items() if n >= MIN_COUNT), frozenset(counts))
    readers = [("pypdf plain", lambda f: pypdf_texts(f, "plain")),
               ("pypdf layout", lambda f: pypdf_texts(f, "layout")),
               ("pypdfium2 text", pdfium_texts),
               ("reportqa reader", reportqa_texts)]
    try:
        import pdfplumber  # noqa: F401

        readers[2:2] = [("pdfminer.six (pdfplumber text)", pdfminer_texts),
                        ("pdfplumber tables", pdfplumber_tables)]
    except ImportError:
        print("pdfplumber not installed: its rows are skipped", file=sys.stderr)
    with tempfile.TemporaryDirectory() as tmp:
        files = [cut(f, args.pages, Path(tmp)) for f in src]
        print(f"{len(files)} files, first {args.pages} pages each: "
              + ", ".join(f.name for f in files))
        print(f"{'reader':32} {'pages/s':>8} {'split/10k':>10} {'glued/10k':>10}  other")
        for name, fn in readers:
            r = measure(name, fn, files, dictionary)
            other = ", ".join(f"{k} {v}" for k, v in r.items()
                              if k not in ("reader", "pages", "pages_per_s", "split_per_10k",
                                           "glued_per_10k"))
            print(f"{name:32} {r['pages_per_s']:8.1f} {r['split_per_10k']:10.2f} "
                  f"{r['glued_per_10k']:10.2f}  {other}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
