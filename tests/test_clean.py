"""Unit tests of the cleaning and structure rules on tiny hand-made pages."""

from __future__ import annotations

from core.models import RawPage
from ingest.clean import (
    assign_labels,
    drop_repeated_pages,
    extract_footnotes,
    normalise_chars,
    strip_furniture,
)
from ingest.readers import split_text_pages
from ingest.sections import parse_structure


def test_normalise_chars():
    assert normalise_chars("anti\u2011social\u00a0behaviour\u202e") == "anti-social behaviour"
    assert normalise_chars("ﬁnd") == "find"


def test_text_pages_split_on_leading_space_and_blank_runs():
    text = "First page line.\n\nMore.\n Second page starts here.\nx\n\n\n\nThird page.\n"
    pages = split_text_pages(text)
    assert [p.text.splitlines()[0] for p in pages] == [
        "First page line.", "Second page starts here.", "Third page."]
    assert split_text_pages("a\fb")[1].text == "b"


def test_repeated_page_dropped_and_remainder_kept():
    page = [f"line {i} of the page" for i in range(6)]
    out = drop_repeated_pages([page, page + ["", "new text after the copy"]])
    assert out[1] == ["", "new text after the copy"]


def test_furniture_and_labels():
    pages = [["Body text one."], ["Report title", "", "7", "", "Body text two."],
             ["Body three."]]
    stripped = strip_furniture(pages)
    assert stripped[1][0] == ["", "", "Body text two."]
    assert stripped[1][1] == "7" and stripped[1][2] == "Report title"
    labels = assign_labels([s[1] for s in stripped], [None] * 3)
    assert labels == ["6", "7", "8"]
    # Labels a PDF declares win.
    assert assign_labels(["3", None], ["iv", "v"]) == ["iv", "v"]


def test_footnotes_extracted_and_markers_removed():
    lines = ["Officers hand out kits1 to victims, at 55.1 per 1,000.", "",
             "1 Kits mark property."]
    kept, notes = extract_footnotes(lines)
    assert notes == {"1": "Kits mark property."}
    assert kept[0] == "Officers hand out kits to victims, at 55.1 per 1,000."


def _structure(text: str):
    from ingest.clean import clean_pages

    pages = clean_pages([RawPage(0, text)])
    return parse_structure(pages)[0]


def test_headings_paragraphs_bullets_and_dehyphenation():
    els = _structure(
        "How effective is the force at protecting people?\n\nVictim care\n\n"
        "The force has a well-\nestablished plan and a thorough investi-\ngation process.\n\n"
        "• first point;\n\n• second point.\n"
    )
    kinds = [(e.kind, e.level) for e in els]
    assert kinds[:2] == [("heading", 1), ("heading", 2)]
    para = els[2].text
    assert "well-established" in para and "investigation" in para
    assert [e.kind for e in els[3:]] == ["bullet", "bullet"]


def test_judgment_grid_is_not_sections():
    els = _structure(
        "How effective is the force at A things?\n\nHow effective is the force at B things?"
        "\n\nGood Requires improvement\n\nSome summary text follows here.\n")
    grid = [e for e in els if e.kind == "grid"]
    assert grid and grid[0].grades == ["Good", "Requires improvement"]
    assert not [e for e in els if e.kind == "heading"]


def test_a_year_ending_the_running_header_is_not_the_page_number():
    header = "Stalking and harassment – a national thematic inspection 2017"
    body = [f"Body text line {k} of the page, which goes on here." for k in range(6)]
    pages = [[header, "", *body, "", str(n)] for n in (2, 3, 4)]
    stripped = strip_furniture(pages)
    assert [number for _, number, _ in stripped] == ["2", "3", "4"]
    assert all(header not in lines for lines, _, _ in stripped)
    # A footer that carries the page number in its text still gives it.
    pages = [[f"Body text of page {n}.", "", f"Crime inspection – Northshire {n}"]
             for n in (5, 6, 7)]
    assert [number for _, number, _ in strip_furniture(pages)] == ["5", "6", "7"]
