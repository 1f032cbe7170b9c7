"""The keyword (BM25) index of a build: tantivy, the Rust search library, chosen over
SQLite FTS5 and bm25s by measurement (benchmarks/keyword_engines.py: at 1M passages
top-60 p95 122 ms against FTS5's 968 ms, and better keyword-only hit@5 on the shipped
report's questions).

One document a passage: its rowid (the key everything else uses), report id and kind
(for deletes and filters), text, and context — body, report and section path (English
stemming). A tantivy index is
itself segmented and its segment files are never changed once written, so an
incremental build hard-links the previous build's files into its own folder, deletes
the changed reports' documents and adds the new ones: the cost is that of the change,
and the previous build's folder is never touched (readers of it keep working)."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterable
from pathlib import Path

from core.models import Passage

#: The folder of the keyword index inside a build.
KEYWORD_DIR = "keyword"
#: Memory the writer may use before it flushes a segment (bounded at any corpus size).
WRITER_HEAP = 128_000_000


def schema():
    """The documents' fields."""
    import tantivy

    sb = tantivy.SchemaBuilder()
    sb.add_integer_field("rowid", stored=True, indexed=True, fast=True)
    sb.add_text_field("report_id", stored=False, tokenizer_name="raw")
    sb.add_text_field("kind", stored=False, tokenizer_name="raw")
    sb.add_text_field("text", stored=False, tokenizer_name="en_stem")
    sb.add_text_field("section", stored=False, tokenizer_name="en_stem")
    return sb.build()


def _link_tree(src: Path, dst: Path) -> None:
    """dst as a copy of src made of hard links (a real copy where links fail)."""
    dst.mkdir(parents=True)
    for f in src.iterdir():
        if not f.is_file() or f.name.endswith(".lock"):
            continue
        if f.suffix == ".json":  # tantivy's own lists: small, rewritten by each commit
            shutil.copy2(f, dst / f.name)
            continue
        try:
            os.link(f, dst / f.name)
        except OSError:
            shutil.copy2(f, dst / f.name)


class KeywordWriter:
    """Writes a build's keyword index, starting from the previous build's when given."""

    def __init__(self, path: Path, previous: Path | None = None, threads: int = 1):
        import tantivy

        self.path = Path(path)
        if previous is not None and (previous / "meta.json").exists():
            _link_tree(previous, self.path)
            self.index = tantivy.Index.open(str(self.path))
        else:
            self.path.mkdir(parents=True, exist_ok=True)
            self.index = tantivy.Index(schema(), path=str(self.path))
        self.writer = self.index.writer(heap_size=WRITER_HEAP, num_threads=threads)

    def delete_reports(self, report_ids: Iterable[str]) -> None:
        """Drop every passage of these reports."""
        for rid in report_ids:
            self.writer.delete_documents_by_term("report_id", rid)

    def add(self, rows: Iterable[tuple[int, Passage]]) -> None:
        """Add passages under their rowids."""
        import tantivy

        for rowid, p in rows:
            self.writer.add_document(tantivy.Document(
                rowid=int(rowid), report_id=p.report_id, kind=p.kind, text=p.text,
                section=p.context))

    def commit(self) -> None:
        """Write everything out; tantivy merges small segments by its merge policy.
        Files no longer used are removed from this folder only."""
        self.writer.commit()
        self.writer.wait_merging_threads()
        self.writer = self.index.writer(heap_size=WRITER_HEAP, num_threads=1)
        self.writer.garbage_collect_files()
        del self.writer
        for lock in self.path.glob("*.lock"):
            lock.unlink()

    def files(self) -> dict[str, int]:
        """The index's files (relative to the build) and their sizes, for the
        manifest's checks."""
        return {f"{KEYWORD_DIR}/{f.name}": f.stat().st_size for f in sorted(self.path.iterdir())
                if f.is_file() and not f.name.startswith(".")}
