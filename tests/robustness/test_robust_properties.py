"""Property-based tests (hypothesis) of the text path a report takes — decoding,
cleaning (ingest/clean.py), structure (ingest/sections.py) and passage splitting
(ingest/passages.py), through the same ``ingest_file`` the index build runs:

* any text or bytes in: passages (or one clear error line) out, never an exception;
* no text lost: every body sentence of a generated report — however it is spread over
  pages, paragraphs, bullets and lines, with running headers, page numbers, headings,
  hostile characters and odd scripts around it — is in some passage;
* ids stable: the same content gives the same passage ids under any file name, on
  every run, and ids are unique (the index requires it).

Examples are derandomised so CI runs are reproducible; set REPORTQA_HYPOTHESIS_RANDOM=1
to explore new ones."""

from __future__ import annotations

import os
import re
import string
from pathlib import Path

import pytest
import robust_factory as rf
from hypothesis import HealthCheck, assume, example, given, settings
from hypothesis import strategies as st

from core.models import KINDS
from ingest.clean import normalise_chars
from ingest.pipeline import ingest_file

EXAMPLES = int(os.environ.get("REPORTQA_HYPOTHESIS_EXAMPLES", "150"))
SETTINGS = settings(
    max_examples=EXAMPLES, deadline=None, database=None,
    derandomize=not os.environ.get("REPORTQA_HYPOTHESIS_RANDOM"),
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                           HealthCheck.function_scoped_fixture],
)
TALLY = {"examples": 0, "sentences": 0, "lost": 0}


def _ingest(tmp_path: Path, data: bytes | str, name: str = "report.txt"):
    path = tmp_path / name
    if isinstance(data, str):
        path.write_text(data, encoding="utf-8")
    else:
        path.write_bytes(data)
    res = ingest_file(path)
    # ingest_file turns a crash into this line (and logs the traceback): a bug.
    assert "could not be processed" not in (res.error or ""), res.error
    return res


def _check_passages(res) -> None:
    if res.error:
        name = Path(res.path).name
        assert res.error.startswith(f"{name}: ") and " — " in res.error, res.error
        assert "\n" not in res.error
        return
    ids = [p.passage_id for p in res.passages]
    assert len(ids) == len(set(ids)), "passage ids must be unique"
    for p in res.passages:
        assert p.text.strip() and p.kind in KINDS
        assert len(p.passage_id) == 16
        assert all(a <= b for a, b in zip(p.pdf_pages, p.pdf_pages[1:]))


# -- any input ------------------------------------------------------------------------------

LINES = st.sampled_from([
    "", "", "", "7", "ii", "Page 3 of 10", "Contents", "\f", "Summary", "Recommendations",
    "How effective is the force at reducing crime?", "Good", "Requires improvement",
    "Good GoodGood", "Crime excluding fraud  55.1  60.7", "Crime 12 34", "• a bullet point",
    "1 A footnote text.", "kits1 were given.", "investi-", "gation was good.",
    "Crime inspection 2014 – West Midlands Police", " starts a page", "\t1 Introduction  4",
    "<script>alert(1)</script>", "[x](http://evil) ![i](http://e/i.png)", "\u202eevil",
    "=HYPERLINK(\"x\")", "a" * 3000, "word " * 400, "Table 1 shows this.",
])


@st.composite
def messy_text(draw) -> str:
    parts = draw(st.lists(st.one_of(LINES, st.text(max_size=80)), max_size=60))
    return "\n".join(parts)


@SETTINGS
@given(text=st.one_of(st.text(max_size=2000), messy_text()))
@example(text="")
@example(text="\x00" * 50)
@example(text="\f\f\f")
@example(text="How effective is the force at reducing crime?\n\n" * 20)
def test_any_text_gives_passages_or_a_clear_error(tmp_path, text):
    res = _ingest(tmp_path, text)
    _check_passages(res)


@SETTINGS
@given(data=st.binary(max_size=3000))
def test_any_bytes_named_txt(tmp_path, data):
    res = _ingest(tmp_path, data)
    _check_passages(res)


# -- no text lost ---------------------------------------------------------------------------

_LETTERS = string.ascii_lowercase * 4 + "éüßøłçñαβγδжщ漢字ساعة"
# Bidi overrides, zero-width and BOM characters hide in text; C0 controls (NUL, ESC)
# appear too, but more than one in fifty characters is binary data, refused as such.
_HOSTILE = ["\u202e", "\u202d", "\u200b", "\ufeff", "\u2066", "\u2028", "\u00ad"]
_TOKENS = st.one_of(
    st.text(alphabet=_LETTERS, min_size=1, max_size=10),
    st.sampled_from(["12", "3.5", "1,000", "45%", "£2m", "(ASB)", "anti-social", "PCSOs",
                     "‘quoted’", "“said”", "2014/15", "e.g.", "<b>bold</b>", "[x](http://e)",
                     "![i](http://e/i.png)", "&amp;", "=SUM(A1)", "#", "*", "_", "`code`",
                     # Words that alone on a line look like page furniture or structure.
                     "7", "2014", "iv", "mix", "civil", "Good", "Summary",
                     "Page 3"]),
    st.tuples(st.text(alphabet=_LETTERS, min_size=1, max_size=6), st.sampled_from(_HOSTILE),
              st.text(alphabet=_LETTERS, min_size=1, max_size=6)).map("".join),
)


@st.composite
def sentence(draw) -> str:
    first = draw(st.text(alphabet=string.ascii_lowercase, min_size=2, max_size=9))
    words = draw(st.lists(_TOKENS, min_size=2, max_size=30))
    punct = draw(st.lists(st.sampled_from(["", "", "", ",", ";", ":"]), min_size=len(words),
                          max_size=len(words)))
    body = " ".join(w + p for w, p in zip(words, punct)).rstrip(",;:")
    return f"{first.capitalize()} {body}{draw(st.sampled_from(['.', '.', '!', '?']))}"


HEADINGS = st.sampled_from([
    "Neighbourhood policing", "Partnership working", "Summary", "Recommendations",
    "How effective is the force at reducing crime?", "Victim care", "Introduction",
    "Tackling anti-social behaviour", "Investigating crime",
])


def _wrap(text: str, width: int) -> str:
    if not width:
        return text
    lines, cur = [], ""
    for w in text.split(" "):
        if cur and len(cur) + 1 + len(w) > width:
            lines.append(cur)
            cur = w
        else:
            cur = f"{cur} {w}" if cur else w
    lines.append(cur)
    return "\n".join(lines)


@st.composite
def report(draw) -> tuple[str, list[str]]:
    """A report as extracted text: pages (form feeds or blank-line gaps), with or
    without a running header and printed number, holding headings, paragraphs (one
    line, or wrapped at spaces; a paragraph may run on over a page break mid-sentence)
    and bullets. Returns the text and its body sentences (all distinct)."""
    pool = draw(st.lists(sentence(), min_size=1, max_size=40, unique=True))
    force = draw(st.sampled_from(["Northshire Police", "Kentmere Constabulary"]))
    header = f"Crime inspection 2016 – {force}"
    breaker = draw(st.sampled_from(["\f", "\n\n\n\n\n"]))
    furniture = draw(st.booleans())
    width = draw(st.sampled_from([0, 0, 12, 60, 90]))
    # The body as blocks, then laid out on pages.
    blocks: list[tuple[str, str]] = []
    i = 0
    while i < len(pool):
        kind = draw(st.sampled_from(["para", "para", "para", "bullets", "heading"]))
        if kind == "heading":
            blocks.append(("heading", draw(HEADINGS)))
            continue
        take = draw(st.integers(1, 6))
        chunk, i = pool[i:i + take], i + take
        if kind == "bullets":
            blocks.append(("bullets", "\n".join(f"• {s}" for s in chunk)))
        else:
            blocks.append(("para", " ".join(chunk)))
    pages: list[list[str]] = [[]]
    carry = None
    last = None
    for kind, text in blocks:
        if carry is not None:
            pages[-1].append(_wrap(carry, width))
            carry = None
        # No page ends with a heading: a heading at the foot of a page is taken for a
        # chapter title drawn out of order and moved up (see
        # test_heading_at_page_foot_keeps_continuation_together, a known failure).
        if pages[-1] and last != "heading" and draw(st.integers(0, 3)) == 0:
            pages.append([])
        last = kind
        if kind == "para" and draw(st.integers(0, 4)) == 0:
            # Runs on over a page break, cut before a lower-case word (a sentence
            # broken by a page break, which the reader rejoins).
            words = text.split(" ")
            # More than 18 words before the break: a shorter fragment at the foot of a
            # page is taken for a heading (see test_short_fragment_before_page_break_is_text,
            # a known failure in ingest/sections.py).
            cuts = [k for k in range(19, len(words)) if words[k][:1] in string.ascii_lowercase]
            if cuts:
                k = draw(st.sampled_from(cuts))
                pages[-1].append(_wrap(" ".join(words[:k]), width))
                pages.append([])
                carry = " ".join(words[k:])
                continue
        pages[-1].append(_wrap(text, width))
    if carry is not None:
        pages[-1].append(_wrap(carry, width))
    out = []
    for n, page in enumerate((p for p in pages if p), draw(st.integers(1, 300))):
        body = "\n\n".join(page)
        out.append(f"{header}\n\n{n}\n\n{body}" if furniture else body)
    return breaker.join(out) + "\n", pool


def _norm(text: str) -> str:
    return rf.flat(normalise_chars(text))


def _body_line_repeats_at_edges(text: str) -> bool:
    """Whether a body line (not the header or page number) near the top or foot of one
    page appears on another page too. Cleaning removes such lines as running headers
    and footers — in a real report, prose never repeats a whole line at page edges —
    so the generator's degenerate sentences ("Aa a a.") wrapped narrow must not."""
    pages = [[ln.strip() for ln in p.split("\n") if ln.strip()]
             for p in re.split(r"\f|\n{5,}", text)]
    furniture = re.compile(r"^(?:Crime inspection 2016 – .*|\d+)$")
    edges = []
    for lines in pages:
        body = [ln for ln in lines if not furniture.match(ln)]
        edges.append(set(body[:3] + body[-3:]))
    for i, e in enumerate(edges):
        others = set().union(*(set(p) for j, p in enumerate(pages) if j != i))
        if e & others:
            return True
    return False


@SETTINGS
@given(doc=report())
def test_no_body_sentence_is_lost(tmp_path, doc):
    text, pool = doc
    assume(len(_norm(text)) >= 20)  # shorter is refused as "no text in the file"
    assume(not _body_line_repeats_at_edges(text))
    res = _ingest(tmp_path, text)
    _check_passages(res)
    assert res.error is None, res.error
    # Line ends inside a paragraph become spaces, as the reader of the passage sees it.
    texts = [_norm(p.text) for p in res.passages]
    lost = [s for s in pool if not any(_norm(s) in t for t in texts)]
    TALLY["examples"] += 1
    TALLY["sentences"] += len(pool)
    TALLY["lost"] += len(lost)
    assert not lost, (lost, [p.text for p in res.passages])


@SETTINGS
@given(doc=report(), other=st.sampled_from(["copy.txt", "renamed report.txt", "x.TXT"]))
def test_ids_stable_across_runs_and_names(tmp_path, doc, other):
    text, _ = doc
    a = _ingest(tmp_path, text, "report.txt")
    b = _ingest(tmp_path, text, "report.txt")
    c = _ingest(tmp_path, text, other)
    assert [p.passage_id for p in a.passages] == [p.passage_id for p in b.passages]
    assert [p.passage_id for p in a.passages] == [p.passage_id for p in c.passages]
    assert [p.text for p in a.passages] == [p.text for p in c.passages]


def test_repeated_paragraph_gets_distinct_stable_ids(tmp_path):
    """The same paragraph word for word, three times in one section (boilerplate): three
    passages, three ids, the same ids on a rebuild."""
    para = " ".join(f"The force reviewed case {i} and found the guidance was followed."
                    for i in range(14))
    text = f"{rf.QUESTION}\n\nVictim care\n\n" + "\n\n".join([para] * 3) + "\n"
    a, b = _ingest(tmp_path, text), _ingest(tmp_path, text, "again.txt")
    ids = [p.passage_id for p in a.passages]
    assert len(ids) == 3 and len(set(ids)) == 3
    assert ids == [p.passage_id for p in b.passages]


@pytest.fixture(scope="module", autouse=True)
def _report_tally(figures):
    yield
    figures("properties", examples=TALLY["examples"], sentences_checked=TALLY["sentences"],
            data_lost=TALLY["lost"])


# -- known failures in ingest/sections.py and ingest/passages.py --------------------------
# Found by the properties above; those modules were outside this change. Each is strict:
# when it is fixed the test passes, xfail-strict fails, and the marker should go.

def _texts(tmp_path, text: str) -> str:
    res = _ingest(tmp_path, text)
    assert res.error is None, res.error
    return "\n".join(rf.flat(p.text) for p in res.passages)


def test_contents_word_on_a_wrapped_line_is_text(tmp_path):
    text = (f"{rf.QUESTION}\n\nVictim care\n\nOfficers explained the case to victims and "
            "gave them a leaflet\nwith the investigation's\ncontents.\n\nThe force has a "
            "plan for victims and it reviews the plan every year with partners.\n")
    assert "gave them a leaflet with the investigation's contents." in _texts(tmp_path, text)


def test_short_fragment_before_page_break_is_text(tmp_path):
    text = (f"{rf.QUESTION}\n\nVictim care\n\nVictims told us that officers kept them "
            "informed. The force checks this every month.\n\nThe force has made good "
            "progress in\ftackling burglary since the last inspection, and most victims "
            "are satisfied.\n")
    assert ("The force has made good progress in tackling burglary since the last "
            "inspection") in _texts(tmp_path, text)


@pytest.mark.xfail(strict=True, reason="sections.parse_structure step 2: a heading at the "
                   "foot of a page is moved above the next page's first block even when "
                   "that block continues the sentence the heading interrupted")
def test_heading_at_page_foot_keeps_continuation_together(tmp_path):
    text = (f"{rf.QUESTION}\n\nVictim care\n\nVictims told us that officers kept them "
            "informed, and the force works closely with local partners to\n\n"
            "Partnership working\freduce the harm done to repeat victims.\n\nThe "
            "partnership board meets every month and reviews each case in detail.\n")
    assert ("the force works closely with local partners to reduce the harm done to "
            "repeat victims.") in _texts(tmp_path, text)


def test_long_block_of_lines_is_linear(tmp_path):
    import time

    text = "Crime inspection 2016 – Alphashire Police\n\n" + "\n".join(
        f"Officers visited street {i} and spoke to residents" for i in range(2000)) + ".\n"
    t0 = time.perf_counter()
    _texts(tmp_path, text)
    assert time.perf_counter() - t0 < 1.0


def test_paragraph_without_sentence_breaks_is_split(tmp_path):
    text = f"{rf.QUESTION}\n\nVictim care\n\n" + " ".join(
        f"item {i} reviewed" for i in range(1500)) + "\n"
    res = _ingest(tmp_path, text)
    assert max(len(p.text.split()) for p in res.passages) <= 2 * 250
