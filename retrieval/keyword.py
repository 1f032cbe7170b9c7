"""Keyword search over a build's tantivy index (ingest/keyword_index.py): BM25 top-k,
and the passage counts the question reader needs (how many passages use a phrase,
whether some reports use it)."""

from __future__ import annotations

import re
from pathlib import Path

#: The section counts half as much as the text (as FTS5's bm25 weights did).
FIELDS, BOOSTS = ["text", "section"], {"section": 0.5}


def phrase(text: str) -> str:
    """A phrase in the query language ('' for one without a word)."""
    toks = re.findall(r"[a-z0-9]+", text.lower())
    return '"' + " ".join(toks) + '"' if toks else ""


class KeywordSearch:
    """One build's keyword index, opened read-only."""

    def __init__(self, path: Path):
        import tantivy

        self.index = tantivy.Index.open(str(path))
        self.searcher = self.index.searcher()

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
