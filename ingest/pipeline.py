"""One report file → Report + Passages: read, clean, find structure, split."""

from __future__ import annotations

import logging
from dataclasses import replace
from pathlib import Path

from core.errors import UnreadableReport
from core.models import IngestResult, Passage, passage_id
from ingest.clean import clean_pages
from ingest.passages import build_passages, report_metadata
from ingest.readers import SUPPORTED, file_hash, read_pages
from ingest.sections import attach_footnotes, parse_structure

log = logging.getLogger(__name__)


def printable(text: str) -> str:
    """``text`` with control and bidi characters shown as escapes (ESC as "\\x1b"), for
    lines that name files: a file name can hold a terminal escape sequence or a
    right-to-left override, which must not reach a terminal or a log as such."""
    return "".join(ch if ch.isprintable() else ascii(ch)[1:-1] for ch in text)


def ingest_file(path: Path, *, min_words: int = 60, max_words: int = 250,
                content_hash: str | None = None, rel_path: str | None = None) -> IngestResult:
    """Ingest one file. Never raises for a bad file: the result carries the error
    line instead (one line, control characters escaped), so one broken report never
    stops the others. `rel_path` is the file's path relative to the corpus root (POSIX
    form), the report's key; a lone file is keyed by its name."""
    rel = rel_path or Path(path).name
    res = _ingest_file(Path(path), min_words=min_words, max_words=max_words,
                       content_hash=content_hash, rel_path=rel)
    if res.error:
        name = Path(path).name
        if rel != name and res.error.startswith(name):
            # Name the file by its corpus path: two folders may hold the same name.
            res.error = rel + res.error[len(name):]
        res.error = printable(res.error)
    return res


def _ingest_file(path: Path, *, min_words: int, max_words: int,
                 content_hash: str | None, rel_path: str) -> IngestResult:
    try:
        digest = content_hash or file_hash(path)
        raw = read_pages(path)
        pages = clean_pages(raw)
        elements, _ = parse_structure(pages)
        elements = attach_footnotes(elements, pages)
        report = report_metadata(path, pages, elements, digest, rel_path=rel_path)
        passages = build_passages(elements, pages, report, min_words=min_words,
                                  max_words=max_words)
        if not passages:
            raise UnreadableReport(
                f"{path.name}: no text passages found", path=str(path),
                fix="check the file opens and has selectable text",
            )
        return IngestResult(path=str(path), report=report,
                            passages=_unique_ids(passages, report.content_hash))
    except UnreadableReport as e:
        # One line: the file, why, and what to do (readers.py leaves the fix out of
        # the message; pdf_reader.py puts it in).
        msg = str(e) if path.name in str(e) else f"{path.name}: {e}"
        if e.fix and e.fix not in msg:
            msg += f" — {e.fix}"
        return IngestResult(path=str(path), error=msg)
    except FileNotFoundError:
        return IngestResult(path=str(path), error=f"{path.name}: file disappeared while "
                            "reading — check the corpus folder and rebuild")
    except Exception as e:  # noqa: BLE001 — a bug on one file must not stop the build
        log.exception("unexpected failure reading %s", path)
        return IngestResult(path=str(path), error=f"{path.name}: could not be processed "
                            f"({type(e).__name__}: {e}) — please report this file")


def _unique_ids(passages: list[Passage], content_hash: str) -> list[Passage]:
    """A report that repeats a paragraph word for word within one section gives two
    passages with the same id (report hash + section + text), and the index needs ids
    to be unique: each later copy's id also hashes its occurrence number, which is as
    stable across rebuilds as the first copy's."""
    seen: dict[str, int] = {}
    out: list[Passage] = []
    for p in passages:
        n = seen.get(p.passage_id, 0) + 1
        seen[p.passage_id] = n
        if n > 1:
            p = replace(p, passage_id=passage_id(content_hash, p.section, f"{p.text}\x1f{n}"))
        out.append(p)
    return out


def corpus_files(paths: list[Path]) -> list[Path]:
    """Report files under the given files/folders, sorted, hidden files skipped."""
    out: list[Path] = []
    for p in paths:
        p = Path(p)
        if p.is_dir():
            out.extend(sorted(
                f for f in p.rglob("*")
                # A dangling link is listed too, so the build names it as failed
                # instead of leaving the report out without a word.
                if (f.is_file() or (f.is_symlink() and not f.exists()))
                and f.suffix.lower() in SUPPORTED
                and not any(part.startswith(".") for part in f.relative_to(p).parts)
                and f.name.lower() not in ("readme.md", "source.md", "licence.md", "license.md")
            ))
        else:
            out.append(p)
    return out


def _limit_memory(max_bytes: int) -> None:
    """Worker initialiser: cap the address space so a hostile file raises MemoryError
    in its worker instead of exhausting the machine."""
    try:
        import resource

        resource.setrlimit(resource.RLIMIT_AS, (max_bytes, max_bytes))
    except (ImportError, ValueError, OSError):  # pragma: no cover - not on this platform
        pass


def _work(args: tuple[str, str, int, int, str]) -> IngestResult:
    path, digest, lo, hi, rel = args
    return ingest_file(Path(path), min_words=lo, max_words=hi, content_hash=digest,
                       rel_path=rel)


def ingest_many(paths: list[Path], digests: dict[str, str], settings, progress=None,
                rel_paths: dict[Path, str] | None = None):
    """Ingest files in worker processes (yielding results as they finish), each under
    its time limit (:func:`file_time_limit`, scaled by its pages) and a memory
    cap. A file that times out, or kills
    its worker, yields an error result; the others carry on. `digests` and
    `rel_paths` are keyed by each file's path relative to the corpus root (by the
    file's name when `rel_paths` is not given). `progress`, a bar the caller closes,
    advances once a file."""
    rel_paths = rel_paths or {p: p.name for p in paths}
    import multiprocessing as mp

    if not paths:
        return
    if not _workers_can_start():
        # Worker processes re-import the main module; when it has no file (python -
        # or an interactive session) they cannot, so read here, without the limits.
        for p in paths:
            yield ingest_file(p, min_words=settings.min_words, max_words=settings.max_words,
                              content_hash=digests.get(rel_paths[p]) or None,
                              rel_path=rel_paths[p])
            if progress is not None:
                progress.update(1)
        return
    limits = {str(p): file_time_limit(p, settings) for p in paths}
    jobs = [(str(p), digests.get(rel_paths[p], ""), settings.min_words, settings.max_words,
             rel_paths[p]) for p in paths]
    workers = max(1, min(len(jobs), settings.ingest_workers))
    ctx = mp.get_context("forkserver")
    pending = list(jobs)
    while pending:
        pool = ctx.Pool(workers, initializer=_limit_memory,
                        initargs=(settings.worker_memory_bytes,), maxtasksperchild=50)
        try:
            handles = [(job, pool.apply_async(_work, (job,))) for job in pending]
            pending = []
            for i, (job, h) in enumerate(handles):
                name = printable(job[4])
                try:
                    res = h.get(timeout=limits[job[0]])
                except mp.TimeoutError:
                    res = IngestResult(path=job[0],
                                       error=timeout_message(name, limits[job[0]]))
                    # The stuck worker cannot be interrupted: restart the pool and
                    # resubmit what had not finished.
                    for job2, h2 in handles[i + 1 :]:
                        if h2.ready():
                            try:
                                yield h2.get(0)
                            except Exception as e:  # noqa: BLE001
                                yield _crashed(job2[0], e, job2[4])
                            if progress is not None:
                                progress.update(1)
                        else:
                            pending.append(job2)
                    yield res
                    if progress is not None:
                        progress.update(1)
                    break
                except Exception as e:  # noqa: BLE001 — a worker died (e.g. out of memory)
                    res = _crashed(job[0], e, job[4])
                yield res
                if progress is not None:
                    progress.update(1)
        finally:
            pool.terminate()
            pool.join()


def page_count(path: Path) -> int:
    """Pages of a PDF as pdfium counts them (a fraction of a millisecond a file; 0 when
    it cannot tell), or about one page per 3,000 characters of a text file."""
    path = Path(path)
    try:
        if path.suffix.lower() == ".pdf":
            import pypdfium2 as pdfium

            doc = pdfium.PdfDocument(str(path))
            try:
                return len(doc)
            finally:
                doc.close()
        return path.stat().st_size // 3000 + 1
    except Exception:  # noqa: BLE001 — the reader names a broken file; here it is 0
        return 0


def file_time_limit(path: Path, settings) -> float:
    """Seconds a file may take to read: the base limit and an allowance per page."""
    return settings.file_timeout_s + settings.file_timeout_per_page_s * page_count(path)


def timeout_message(name: str, limit: float) -> str:
    """The one line for a file given up on for time."""
    return (f"{name}: took longer than {limit:.0f} s to read — check the file opens "
            "normally, or raise REPORTQA_FILE_TIMEOUT (or REPORTQA_FILE_TIMEOUT_PER_PAGE)")


def _workers_can_start() -> bool:
    import os
    import sys

    f = getattr(sys.modules.get("__main__"), "__file__", None)
    # No file (python -c, a notebook): multiprocessing skips re-importing the main
    # module. A file that does not exist ("<stdin>"): the workers would fail to start.
    return f is None or os.path.exists(f)


def _crashed(path: str, e: BaseException, rel: str) -> IngestResult:
    name = printable(rel)
    if isinstance(e, MemoryError):
        return IngestResult(path=path, error=f"{name}: needs too much memory to read — "
                            "split the file or check it is not damaged")
    return IngestResult(path=path, error=f"{name}: reading failed ({type(e).__name__}) — "
                        "check the file opens normally")
