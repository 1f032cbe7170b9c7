"""One report file → Report + Passages: read, clean, find structure, split."""

from __future__ import annotations

import logging
from pathlib import Path

from ingest.clean import clean_pages
from ingest.errors import UnreadableReport
from ingest.models import IngestResult
from ingest.passages import build_passages, report_metadata
from ingest.readers import SUPPORTED, file_hash, read_pages
from ingest.sections import attach_footnotes, parse_structure

log = logging.getLogger(__name__)


def ingest_file(path: Path, *, min_words: int = 60, max_words: int = 250,
                content_hash: str | None = None) -> IngestResult:
    """Ingest one file. Never raises for a bad file: the result carries the error
    line instead, so one broken report never stops the others."""
    path = Path(path)
    try:
        digest = content_hash or file_hash(path)
        raw = read_pages(path)
        pages = clean_pages(raw)
        elements, _ = parse_structure(pages)
        elements = attach_footnotes(elements, pages)
        report = report_metadata(path, pages, elements, digest)
        passages = build_passages(elements, pages, report, min_words=min_words,
                                  max_words=max_words)
        if not passages:
            raise UnreadableReport(
                f"{path.name}: no text passages found", path=str(path),
                fix="check the file opens and has selectable text",
            )
        return IngestResult(path=str(path), report=report, passages=passages)
    except UnreadableReport as e:
        return IngestResult(path=str(path), error=str(e) if path.name in str(e) else
                            f"{path.name}: {e}" + (f" — {e.fix}" if e.fix else ""))
    except FileNotFoundError:
        return IngestResult(path=str(path), error=f"{path.name}: file disappeared while "
                            "reading — check the corpus folder and rebuild")
    except Exception as e:  # noqa: BLE001 — a bug on one file must not stop the build
        log.exception("unexpected failure reading %s", path)
        return IngestResult(path=str(path), error=f"{path.name}: could not be processed "
                            f"({type(e).__name__}: {e}) — please report this file")


def corpus_files(paths: list[Path]) -> list[Path]:
    """Report files under the given files/folders, sorted, hidden files skipped."""
    out: list[Path] = []
    for p in paths:
        p = Path(p)
        if p.is_dir():
            out.extend(sorted(
                f for f in p.rglob("*")
                if f.is_file() and f.suffix.lower() in SUPPORTED
                and not any(part.startswith(".") for part in f.relative_to(p).parts)
                and f.name.lower() not in ("readme.md", "source.md", "licence.md", "license.md")
            ))
        else:
            out.append(p)
    return out
