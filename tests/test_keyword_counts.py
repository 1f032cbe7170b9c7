"""The keyword index's passage counts and queries (ingest/index_format/keyword.py): the
counts a question's reading takes from term statistics are those a search gives, with
and without deleted documents; phrases the index reads alike are searched once and
score as their OR did. On a real tantivy index of a few passages, and on the real index
of the report."""

from __future__ import annotations

import pytest

from core.models import Passage
from ingest.index_format import KeywordSearch, KeywordWriter, phrase
from retrieval.search import get_searcher
from retrieval.text import glossary

TEXTS = {
    "north": ["Stop and search was used fairly; stops and searches fell by a tenth.",
              "Victims of domestic abuse were contacted within a day.",
              "The force searches for missing people with partners."],
    "south": ["Domestic violence arrests rose; the victim survey was positive.",
              "Officers stop vehicles at night; searching them takes time.",
              "Neighbourhood teams meet partners monthly."],
}
#: Words and phrases: in the text only, in the section only, in both, in neither, and
#: phrases whose words occur but not together.
ASKED = ["victim", "victims", "domestic abuse", "domestic violence", "stop and search",
         "stops and searches", "search", "searching", "north", "report", "partners",
         "partners monthly", "abuse victims", "missing", "xylophone", "night stop",
         "2014", "the"]


def _passages(report: str) -> list[Passage]:
    return [Passage(passage_id=f"{report}-{i}", report_id=report, report_title="Report",
                    force=f"{report.title()} Police", year=2014, inspection_type="crime",
                    section=("Victims",) if i == 0 else ("Stop and search",),
                    page_labels=("1",), pdf_pages=(1,), kind="text", text=t, order=i)
            for i, t in enumerate(TEXTS[report])]


@pytest.fixture(scope="module")
def builds(tmp_path_factory):
    """A build of both reports, and the next build with one report replaced (its old
    documents deleted, not yet merged away)."""
    base = tmp_path_factory.mktemp("keyword")
    first, second = base / "b1", base / "b2"
    first.mkdir()
    w = KeywordWriter(first)
    rows = [p for r in TEXTS for p in _passages(r)]
    w.add(enumerate(rows))
    w.commit()
    second.mkdir()
    w = KeywordWriter(second, previous=first)
    w.delete_reports(["south"])
    w.add((100 + i, p) for i, p in enumerate(_passages("south")[2:]))
    w.commit()
    return KeywordSearch(first), KeywordSearch(second)


@pytest.mark.parametrize("which", [0, 1])
def test_counts_from_term_statistics_are_those_a_search_gives(builds, which):
    kw = builds[which]
    assert kw._deletes == bool(which)
    for text in ASKED:
        expr = phrase(text)
        assert kw.count_together([expr]) == kw.count(expr), text
    for a, b in zip(ASKED, ASKED[1:]):
        pair = [phrase(a), phrase(b)]
        assert kw.count_together(pair) == kw.count(" AND ".join(pair)), (a, b)
    assert kw.count_together([]) == 0


def test_deleted_documents_are_not_counted(builds):
    before, after = builds
    # "violence" was only in the replaced report's passages, which are deleted.
    assert before.count_together([phrase("violence")]) == 1
    assert after.count_together([phrase("violence")]) == 0
    assert after.count_together([phrase("victim")]) == before.count_together(
        [phrase("victim")]) - 1


def test_phrases_read_alike_are_one_weighted_phrase(builds):
    kw = builds[0]
    exprs = [phrase(t) for t in ("stop and search", "stops and searches", "stop-and-search",
                                 "partners", "victim", "victims")]
    merged = kw.any_of(exprs)
    assert merged == '"stop and search"^2 OR "partners" OR "victim"^2'
    plain = kw.search(" OR ".join(exprs), 10)
    got = kw.search(merged, 10)
    assert [r for r, _ in got] == [r for r, _ in plain]
    assert [s for _, s in got] == pytest.approx([s for _, s in plain], rel=1e-6)


def test_the_glossary_counts_are_ready_after_warm_up(ui_index, monkeypatch):
    s = get_searcher(ui_index)
    s.store.lexicon.warm_up()

    def no_search(*_a, **_k):
        raise AssertionError("a glossary term was counted by a search after warm-up")

    monkeypatch.setattr(s.store.keywords, "count", no_search)
    for term in glossary().terms:
        s.store.df(term)


def test_the_keyword_query_is_plain_and_its_search_the_same(ui_index):
    """The keyword query is an OR of phrases as any engine writes it (the keyword
    engines benchmark runs it on FTS5); the search weighs alike phrases as one, with
    the hits of the plain OR."""
    s = get_searcher(ui_index)
    query = s.understand("How many stop and searches led to an arrest?")
    plain = s.keyword_query(query)
    assert "^" not in plain and '"stop and search"' in plain
    assert s.store.keywords.any_of(plain.split(" OR ")) != plain  # alike phrases met
    got, want = s.keyword(query, 20), s.store.keywords.search(plain, 20)
    assert [r for r, _ in got] == [r for r, _ in want]
    assert [x for _, x in got] == pytest.approx([x for _, x in want], rel=1e-6)
