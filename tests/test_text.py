"""The stem fragment shortcut (retrieval/text.py): ranking skips stemming a sentence's
words when it lacks every fragment of the question's stems, so the claim that every
word holds its stem's fragment must hold for every word the stemmer can meet."""

from __future__ import annotations

import itertools

from retrieval.features import term_share
from retrieval.query import Query, Term
from retrieval.text import _english, stem, stem_fragment, token_text, tokens

SUFFIXES = ("ational", "ization", "isation", "iveness", "fulness", "ousness", "ities",
            "ments", "ingly", "edly", "ies", "ing", "ied", "ed", "es", "ly", "s", "e", "")


def test_every_word_holds_its_stems_fragment():
    words = list(_english())
    # Every suffix rule on short and long bases too, and numbers, hyphenated words.
    bases = ("ab", "abc", "abcd", "polic", "organ", "relat", "cit", "x1")
    words += ["".join(p) for p in itertools.product(bases, SUFFIXES)]
    words += ["1,000", "12.5", "body-worn", "re-offending", "co-op's", "force’s"]
    bad = []
    for w in words:
        low = token_text(w)
        for t in tokens(w):
            if stem_fragment(stem(t)) not in low:
                bad.append((w, t, stem(t)))
    assert len(words) > 80_000
    assert not bad, bad[:10]


def _query(*words: str) -> Query:
    terms = tuple(Term(w, stem(w), 10, 1.0 + i) for i, w in enumerate(words))
    return Query(question=" ".join(words), text=" ".join(words), terms=terms)


def _naive_share(q: Query, text: str) -> float:
    st = {stem(t) for t in tokens(text)}
    return sum(w for k, w in q.weights.items() if k in st) / sum(q.weights.values())


def test_term_share_matches_stemming_every_word():
    q = _query("policies", "victims", "satisfaction", "organisations")
    texts = [
        "The force's policy on victim contact was updated.",
        "Satisfied victims: 84.2 per cent (2014).",
        "Organisational change in the POLICE’s ORGANISATION.",
        "Nothing relevant here at all, 12 of them.",
        "",
    ]
    for text in texts:
        assert term_share(q, text) == _naive_share(q, text), text
    assert term_share(q, texts[3]) == 0.0
    assert term_share(q, texts[0]) > 0.0


def test_glossary_matches_as_every_pattern_would():
    """Glossary.matches tries only the groups a text's stems and words can trigger;
    what it finds is what testing every term's pattern finds."""
    import re

    from retrieval.text import Glossary, _Word, glossary, stem, tokens

    def every(g: Glossary, text: str):
        stems = [stem(t) for t in tokens(text)]
        out = []
        for group, row in zip(g.groups, g._patterns):
            for term, pat in row:
                if isinstance(pat, _Word):
                    rx = re.compile(rf"\b{re.escape(pat.text)}s?\b", re.I if pat.anycase else 0)
                    hit = bool(rx.search(text))
                elif isinstance(pat, tuple):
                    hit = any(tuple(stems[i:i + len(pat)]) == pat for i in range(len(stems)))
                else:
                    hit = bool(pat.search(text))
                if hit:
                    out.append((term, group))
                    break
        return out

    g = glossary()
    texts = ["What about ASB in Birmingham?", "asbs and ASBS, pcsos PCSOs Pcso",
             "the PACT meeting and a pact", "IOMs iom Iom", "Who runs integrated offender "
             "management and neighbourhood policing teams?", "data on today", "A&E and CPS",
             "victim satisfaction with anti-social behaviour", ""]
    for text in texts:
        assert g.matches(text) == every(g, text), text
