"""Reading report files into pages. PDFs go through pypdf (ingest/pdf_reader.py);
plain text and Markdown are decoded here and split into pages by the cues that text
extracted from a PDF keeps (form feeds, or the layout rules in :func:`split_text_pages`).
Parsing is kept apart from cleaning and chunking: readers only produce RawPages."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

from core.errors import UnreadableReport
from core.models import RawPage

#: File types the corpus may hold.
SUPPORTED = (".pdf", ".txt", ".md", ".markdown")


def file_hash(path: Path) -> str:
    """sha256 of the file's bytes: the identity of a report's content."""
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def read_pages(path: Path) -> list[RawPage]:
    """Read one report file into pages, or raise :class:`UnreadableReport` naming the
    file, why, and what to do."""
    path = Path(path)
    if not path.exists():
        raise UnreadableReport(
            f"{path.name}: file not found (it may have been moved or deleted during the build)",
            path=str(path), fix="check the corpus folder and rebuild",
        )
    suffix = path.suffix.lower()
    if suffix not in SUPPORTED:
        raise UnreadableReport(
            f"{path.name}: unsupported file type '{suffix}'", path=str(path),
            fix="convert it to PDF, .txt or .md",
        )
    if path.stat().st_size == 0:
        raise UnreadableReport(
            f"{path.name}: empty file (0 bytes)", path=str(path),
            fix="replace it with the full report",
        )
    if suffix == ".pdf":
        from ingest.pdf_reader import read_pdf

        return read_pdf(path)
    text = decode_text(path)
    if len(text.strip()) < 20:
        raise UnreadableReport(
            f"{path.name}: no text in the file", path=str(path),
            fix="replace it with the full report",
        )
    if suffix in (".md", ".markdown"):
        from ingest.markdown import markdown_to_text

        # Markdown has no pages (unless form feeds mark them) and its indentation
        # means nothing about page starts.
        text = markdown_to_text(text)
        chunks = text.split("\f") if "\f" in text else [text]
        return [RawPage(index=i, text=c) for i, c in enumerate(chunks) if c.strip()]
    return split_text_pages(text)


def decode_text(path: Path) -> str:
    """Decode a text file: UTF-8 (with or without BOM), UTF-16 with a BOM (Notepad's
    "Unicode"), else Windows-1252, which is what Word and older Windows tools write.
    Binary files are refused; a stray control character (a NUL) in text is not
    binary, and is removed in cleaning."""
    data = path.read_bytes()
    if data[:5] == b"%PDF-":
        raise UnreadableReport(
            f"{path.name}: binary content in a text file", path=str(path),
            fix="give the file its real extension (e.g. .pdf) or export it as plain text",
        )
    text = None
    if data[:2] in (b"\xff\xfe", b"\xfe\xff"):
        try:
            text = data.decode("utf-16")
        except UnicodeDecodeError:
            text = None
    if text is None:
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError:
            text = data.decode("cp1252", errors="replace")
    controls = sum(1 for ch in text[:8192] if ord(ch) < 32 and ch not in "\n\r\t\f")
    if controls > max(8, len(text[:8192]) // 50):
        raise UnreadableReport(
            f"{path.name}: binary content in a text file", path=str(path),
            fix="give the file its real extension or export it as plain text",
        )
    return text.replace("\r\n", "\n").replace("\r", "\n")


_MD_HEADING = re.compile(r"^(#{1,6})\s+(.*\S)\s*#*\s*$")


def split_text_pages(text: str) -> list[RawPage]:
    """Split extracted text into pages.

    Form feeds are page breaks when present. Otherwise the cues that pypdf-style
    extraction leaves are used: a line that starts with a single space begins a new
    page (extractors emit the page's first text run with the space that separated
    it from the previous page), and a run of three or more blank lines is a page
    break (the gap where a page's furniture was). Printed page labels are read later
    from running headers/footers (see ingest/clean.py)."""
    if "\f" in text:
        chunks = text.split("\f")
        return [RawPage(index=i, text=c) for i, c in enumerate(chunks) if c.strip()] or [
            RawPage(index=0, text=text)
        ]
    pages: list[list[str]] = [[]]
    blank_run = 0
    for line in text.split("\n"):
        if not line.strip():
            blank_run += 1
            pages[-1].append("")
            continue
        new_page = (
            (line.startswith(" ") and not line.startswith("  ") and pages[-1])
            or (blank_run >= 3 and any(x.strip() for x in pages[-1]))
        )
        if new_page and any(x.strip() for x in pages[-1]):
            pages.append([])
        blank_run = 0
        pages[-1].append(line[1:] if line.startswith(" ") and not line.startswith("  ") else line)
    return [
        RawPage(index=i, text="\n".join(p).strip("\n"))
        for i, p in enumerate(x for x in pages if any(y.strip() for y in x))
    ]
