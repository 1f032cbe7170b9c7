"""The source of a cited passage (retrieval/source.py), with real components: a PDF
made by tests/pdf_factory.py (cover "i", contents "ii", body page "1" at PDF page 3),
indexed with the real model, rendered with PDFium; the bundled .txt report for the text
view; a PDF deleted or changed after indexing for the fallbacks."""

from __future__ import annotations

import io
import time
from dataclasses import replace
from pathlib import Path

import pypdfium2 as pdfium
import pytest
from pdf_factory import PAGE_H, PAGE_W, RECOMMENDATIONS, make_report_pdf
from PIL import Image

from core.settings import load_settings
from ingest.index import build_index
from retrieval import source
from retrieval.source import MAX_WIDTH, NOT_MARKED, render_page, source_view
from retrieval.store import Store

REL = "2015/northshire.pdf"
SCALE = MAX_WIDTH / PAGE_W


def _build(base: Path) -> tuple[dict, Path, Store]:
    corpus = base / "corpus"
    (corpus / "2015").mkdir(parents=True)
    info = make_report_pdf(corpus / REL)
    index_dir = base / "index"
    summary = build_index(load_settings(corpus_dir=corpus, index_dir=index_dir))
    assert summary.passages > 0 and not summary.failed, summary.failed
    return info, corpus, Store(index_dir)


@pytest.fixture(scope="module")
def pdf_index(tmp_path_factory) -> tuple[dict, Path, Store]:
    return _build(tmp_path_factory.mktemp("source"))


def _passage(store: Store, words: str):
    (p,) = [p for p in store.iter_passages() if words in p.text]
    return p


def _pixels(png: bytes) -> Image.Image:
    return Image.open(io.BytesIO(png)).convert("RGB")


def _yellow(img: Image.Image, box=None) -> int:
    """Highlighter-yellow pixels (in a box): paper turned yellow, not black or white."""
    region = img.crop(box) if box else img
    return sum(1 for r, g, b in region.getdata() if r > 200 and g > 170 and b < 140)


def _text_box(path: Path, page_index: int, words: str) -> tuple[int, int, int, int]:
    """Where PDFium's own search finds some words on a page, in image pixels (the
    generated pages are A4, unrotated, cropped at the origin)."""
    doc = pdfium.PdfDocument(str(path))
    try:
        tp = doc[page_index].get_textpage()
        found = tp.search(words, match_case=True).get_next()
        assert found, words
        start, count = found
        boxes = [tp.get_charbox(i) for i in range(start, start + count)]
    finally:
        doc.close()
    left, right = min(b[0] for b in boxes), max(b[2] for b in boxes)
    bottom, top = min(b[1] for b in boxes), max(b[3] for b in boxes)
    return (int(left * SCALE), int((PAGE_H - top) * SCALE),
            int(right * SCALE) + 1, int((PAGE_H - bottom) * SCALE) + 1)


def test_pdf_page_shows_printed_label_and_marks_the_passage(pdf_index):
    info, corpus, store = pdf_index
    p = _passage(store, "Victims we spoke to were mostly satisfied")
    assert p.pdf_pages == (3, 4) and p.page_labels == ("1", "2")
    t0 = time.perf_counter()
    view = source_view(store, p, corpus_dir=corpus)
    first_render = time.perf_counter() - t0
    assert view.kind == "pdf_page" and view.note is None
    # The printed label, never the PDF's page number (3).
    assert view.page_label == "1" == info["printed"][2]
    assert view.pdf_page == 3 and view.continues_on == ("2",)
    assert view.path == corpus / REL
    img = _pixels(view.image)
    assert img.size == view.size and img.width == MAX_WIDTH
    assert abs(img.height - PAGE_H * SCALE) <= 1  # A4's proportions (rounded up)
    plain = _pixels(render_page(corpus / REL, 2).png)
    assert _yellow(plain) == 0
    # Yellow where PDFium's own search finds the passage's words, and not on the
    # paragraph above it (the Summary, another passage).
    here = _text_box(corpus / REL, 2, "Victims we spoke to were mostly satisfied")
    assert _yellow(img, here) > 0.3 * (here[2] - here[0]) * (here[3] - here[1])
    above = _text_box(corpus / REL, 2, "Northshire Constabulary is working well")
    assert _yellow(img, above) == 0
    assert first_render < 2.0, first_render


def test_another_page_marks_another_region(pdf_index):
    _, corpus, store = pdf_index
    a = source_view(store, _passage(store, "Victims we spoke to"), corpus_dir=corpus)
    b = source_view(store, _passage(store, RECOMMENDATIONS[0][:40]), corpus_dir=corpus)
    assert b.kind == "pdf_page" and b.page_label == "3" and b.pdf_page == 5
    img = _pixels(b.image)
    here = _text_box(corpus / REL, 4, RECOMMENDATIONS[0][:40])
    assert _yellow(img, here) > 0
    # The marked regions do not overlap: a on the upper half of page 1, b lower on page 3.
    top_a = min(box[1] for box in a.boxes)
    top_b = min(box[1] for box in b.boxes)
    assert max(box[3] for box in a.boxes) < top_b or top_a > max(box[3] for box in b.boxes)
    assert _yellow(img, a.boxes[0]) == 0


def test_second_page_of_a_passage_running_over_a_page_break(pdf_index):
    info, corpus, store = pdf_index
    p = _passage(store, "Victims we spoke to")
    view = source_view(store, p, corpus_dir=corpus, pdf_page=4)
    assert view.kind == "pdf_page" and view.page_label == "2" and view.continues_on == ()
    here = _text_box(corpus / REL, 3, info["split_sentence"]["second"][:30])
    assert _yellow(_pixels(view.image), here) > 0


def test_passage_not_found_on_its_page_is_shown_unmarked_with_a_note(pdf_index):
    _, corpus, store = pdf_index
    p = replace(_passage(store, "Victims we spoke to"),
                text="Xylophone quartz jubilant zephyr marmalade nebula.")
    view = source_view(store, p, corpus_dir=corpus)
    assert view.kind == "pdf_page" and view.note == NOT_MARKED and view.boxes == ()
    assert _yellow(_pixels(view.image)) == 0


def test_rendered_pages_are_cached(pdf_index):
    _, corpus, store = pdf_index
    p = _passage(store, "smart water kits")
    first = source_view(store, p, corpus_dir=corpus)
    hits = source._render_cached.cache_info().hits
    again = source_view(store, p, corpus_dir=corpus)
    assert source._render_cached.cache_info().hits == hits + 1
    assert again.image is first.image


def test_found_under_the_manifest_corpus_when_corpus_dir_lacks_it(pdf_index, tmp_path):
    _, corpus, store = pdf_index
    view = source_view(store, _passage(store, "Victims we spoke to"), corpus_dir=tmp_path)
    assert view.kind == "pdf_page" and view.path == corpus / REL


def test_text_report_shows_neighbours_of_the_same_chapter(ui_index):
    store = Store(ui_index)
    by_section: dict[tuple, list] = {}
    for p in store.iter_passages():
        by_section.setdefault(p.section[:1], []).append(p)  # by chapter
    section = max(by_section.values(), key=len)
    assert len(section) >= 5
    section.sort(key=lambda p: p.order)
    mid = section[2]
    view = source_view(store, mid)
    assert view.kind == "text" and view.image is None and view.note is None
    assert view.passage == mid
    assert view.before == tuple(section[0:2]) and view.after == tuple(section[3:5])
    assert [p.order for p in view.before + (mid,) + view.after] == sorted(
        p.order for p in section[:5])
    first = source_view(store, section[0], neighbours=1)
    assert first.before == () and first.after == (section[1],)


def test_removed_pdf_falls_back_to_the_section_text(tmp_path):
    _, corpus, store = _build(tmp_path)
    p = _passage(store, "Victims we spoke to")
    (corpus / REL).unlink()
    view = source_view(store, p, corpus_dir=corpus)
    assert view.kind == "text" and view.image is None
    assert REL in view.note and "not at" in view.note
    assert view.passage == p
    assert all(x.section[:1] == p.section[:1] for x in view.before + view.after)
    assert view.before or view.after


def test_changed_pdf_falls_back_with_a_note(tmp_path):
    _, corpus, store = _build(tmp_path)
    p = _passage(store, "Victims we spoke to")
    with (corpus / REL).open("ab") as fh:
        fh.write(b"\n% edited after indexing\n")
    view = source_view(store, p, corpus_dir=corpus)
    assert view.kind == "text" and view.image is None
    assert REL in view.note and "has changed since it was indexed" in view.note
