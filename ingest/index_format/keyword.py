"""The keyword (BM25) index of a build: tantivy, the Rust search library, chosen over
SQLite FTS5 and bm25s by measurement (benchmarks/keyword_engines.py: at 1M passages
top-60 p95 122 ms against FTS5's 968 ms, and better keyword-only hit@5 on the shipped
report's questions).

One document a passage: its rowid (the key everything else uses), report id and kind
(for deletes and filters), text, and context — body, report and section path (English
stemming). A tantivy index is itself segmented and its segment files are never changed
once written, so an incremental build hard-links the previous build's files into its
own folder, deletes the changed reports' documents and adds the new ones: the cost is
that of the change, and the previous build's folder is never touched (readers of it
keep working).

The writer (builds) and the reader (queries: BM25 top-k, and the passage counts the
question reader needs — how many passages use a phrase, whether some reports use it)
are the two halves of one format, kept side by side."""

from __future__ import annotations

import json
import os
import re
import shutil
from collections.abc import Iterable
from functools import cached_property
from pathlib import Path

from core.errors import IndexError_
from core.models import Passage
from ingest.index_format.layout import KEYWORD
from ingest.index_format.manifest import REBUILD

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
    """Writes a build folder's keyword index, starting from the previous build's (its
    folder) when given."""

    def __init__(self, build: Path, previous: Path | None = None, threads: int = 1):
        import tantivy

        self.path = Path(build) / KEYWORD
        old = Path(previous) / KEYWORD if previous is not None else None
        if old is not None and (old / "meta.json").exists():
            _link_tree(old, self.path)
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


def keyword_files(build: Path) -> list[str]:
    """The keyword index's files, relative to their build folder (for the manifest's
    checks)."""
    folder = Path(build) / KEYWORD
    return [f"{KEYWORD}/{f.name}" for f in sorted(folder.iterdir())
            if f.is_file() and not f.name.startswith(".")]


def is_keyword_file(name: str) -> bool:
    """Whether a file a manifest lists (relative to its build) is the keyword
    index's."""
    return name.startswith(f"{KEYWORD}/")


# -- reading ----------------------------------------------------------------------------

#: The section counts half as much as the text (as FTS5's bm25 weights did).
FIELDS, BOOSTS = ["text", "section"], {"section": 0.5}
#: The longest token en_stem keeps (tantivy's RemoveLongFilter in its en_stem).
_LONGEST_TOKEN = 40


def phrase(text: str) -> str:
    """A phrase in the query language ('' for one without a word)."""
    toks = re.findall(r"[a-z0-9]+", text.lower())
    return '"' + " ".join(toks) + '"' if toks else ""


class KeywordSearch:
    """A build folder's keyword index, opened read-only; IndexError_ if it is
    damaged."""

    def __init__(self, build: Path):
        import tantivy

        path = Path(build) / KEYWORD
        try:
            self.index = tantivy.Index.open(str(path))
            self.searcher = self.index.searcher()
            # Term statistics count deleted documents until tantivy merges them away:
            # they are passage counts only in an index without deletes.
            self._deletes = any(seg.get("deletes") for seg in json.loads(
                (path / "meta.json").read_text(encoding="utf-8"))["segments"])
        except (ValueError, OSError, KeyError, TypeError) as e:
            raise IndexError_(f"index folder {path} is damaged "
                              f"({str(e).splitlines()[0][:80]})", fix=REBUILD) from None

    @cached_property
    def _analyzer(self):
        """en_stem as tantivy registers it, to look terms up as the index holds them."""
        import tantivy

        return (tantivy.TextAnalyzerBuilder(tantivy.Tokenizer.simple())
                .filter(tantivy.Filter.remove_long(_LONGEST_TOKEN))
                .filter(tantivy.Filter.lowercase())
                .filter(tantivy.Filter.stemmer("english")).build())

    def _terms(self, expr: str) -> list[str]:
        """The terms the index holds for a :func:`phrase`'s words (en_stem's)."""
        return self._analyzer.analyze(expr.strip('"'))

    def _query(self, expr: str, report_ids=None, kinds=None):
        import tantivy

        q, _errors = self.index.parse_query_lenient(expr, FIELDS, field_boosts=BOOSTS)
        musts = [(tantivy.Occur.Must, q)]
        schema = self.index.schema
        # Filters add nothing to the score (BM25 features are the text's alone).
        for field, values in (("report_id", report_ids), ("kind", kinds)):
            if values:
                musts.append((tantivy.Occur.Must, tantivy.Query.const_score_query(
                    tantivy.Query.term_set_query(schema, field, list(values)), 0.0)))
        return q if len(musts) == 1 else tantivy.Query.boolean_query(musts)

    def any_of(self, phrases: Iterable[str]) -> str:
        """The query expression for passages that hold any of several phrases (as
        :func:`phrase` writes them), scored as their OR is: phrases the index reads
        alike ("stop and searches", "stops and searches": the same stems) become one
        phrase weighted by their number, which scores as their OR did (to float
        rounding) with one phrase search instead of several. A phrase search is the
        dear part of a question's keyword search: 2-3 ms each at 100,000 passages."""
        alike: dict[str, list[str]] = {}
        # The query parser reads a phrase written twice once.
        for expr in dict.fromkeys(e for e in phrases if e):
            key = " ".join(self._terms(expr)) or expr
            alike.setdefault(key, []).append(expr)
        return " OR ".join(same[0] + (f"^{len(same)}" if len(same) > 1 else "")
                           for same in alike.values())

    def search(self, expr: str, k: int, report_ids=None, kinds=None
               ) -> list[tuple[int, float]]:
        """(rowid, BM25 score) of the k best matches of a query expression (phrases
        ORed), optionally among some reports and passage kinds."""
        if not expr or k <= 0 or (report_ids is not None and not report_ids):
            return []
        res = self.searcher.search(self._query(expr, report_ids, kinds), k, count=False)
        if not res.hits:
            return []
        rowids = self.searcher.fast_field_values("rowid", [a for _, a in res.hits])
        return [(int(r), float(s)) for (s, _), r in zip(res.hits, rowids) if r is not None]

    def count(self, expr: str, report_ids=None) -> int:
        """Passages matching a query expression (optionally among some reports)."""
        if not expr or (report_ids is not None and not report_ids):
            return 0
        return int(self.searcher.search(self._query(expr, report_ids), 1, count=True).count)

    def count_together(self, phrases: Iterable[str]) -> int:
        """Passages whose text or section holds every one of several phrases (as
        :func:`phrase` writes them; 0 for none).

        The terms' document counts answer most cases without a search, which costs up
        to 4 ms on 100,000 passages for a common word or phrase: a phrase with a term
        that neither field holds is in no passage (exact even with deletes, which only
        add to those counts), and one word that only one field holds is in as many
        passages as that field's count says (exact in an index without deletes). The
        rest are counted by a search."""
        exprs = [e for e in phrases if e]
        if not exprs:
            return 0
        counts = []
        for expr in exprs:
            terms = self._terms(expr)
            in_fields = [[self.searcher.doc_freq(f, t) for t in terms] for f in FIELDS]
            if not terms or not any(all(c) for c in in_fields):
                return 0
            counts.append(in_fields)
        if len(counts) == 1 and len(counts[0][0]) == 1 and not self._deletes:
            (text,), (section,) = counts[0]
            if not (text and section):
                return text or section
        return self.count(" AND ".join(exprs))
