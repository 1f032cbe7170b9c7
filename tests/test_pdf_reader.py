"""ingest.pdf_reader on generated PDFs (tests/pdf_factory.py), read by the real pypdf."""

from __future__ import annotations

import logging
import re

import pdf_factory as factory
import pytest

from core.errors import UnreadableReport
from ingest.pdf_layout import CAPTION_MARK, ROW_MARK
from ingest.pdf_reader import read_pdf


def _flat(text: str) -> str:
    """Page text with line-end hyphenation undone and all whitespace runs as one space."""
    return " ".join(re.sub(r"-\n(?=[a-z])", "", text).split())


def _paragraphs(text: str) -> list[str]:
    return [" ".join(p.split()) for p in text.split("\n\n") if p.strip()]


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    path = tmp_path_factory.mktemp("pdf") / "northshire-2015.pdf"
    info = factory.make_report_pdf(path)
    return info, read_pdf(path)


@pytest.fixture(scope="module")
def report_no_labels(tmp_path_factory):
    path = tmp_path_factory.mktemp("pdf") / "northshire-2015-nolabels.pdf"
    info = factory.make_report_pdf(path, page_labels=False, table_one_text_object=True)
    return info, read_pdf(path)


def test_pages_in_order_with_page_labels(report):
    info, pages = report
    assert [p.index for p in pages] == list(range(len(info["labels"])))
    assert [p.label for p in pages] == info["labels"] == ["i", "ii", "1", "2", "3"]


def test_labels_none_without_page_labels_but_printed_numbers_kept(report_no_labels):
    info, pages = report_no_labels
    assert [p.label for p in pages] == [None] * 5
    for page, printed in zip(pages, info["printed"], strict=True):
        if printed:
            # The printed number is its own paragraph, for a later stage to read.
            assert printed in _paragraphs(page.text)


@pytest.mark.parametrize("fixture", ["report", "report_no_labels"])
def test_every_body_sentence_in_page_text_in_order(fixture, request):
    info, pages = request.getfixturevalue(fixture)
    for index, sentences in info["sentences"].items():
        flat = _flat(pages[index].text)
        pos = 0
        for sentence in sentences:
            found = flat.find(sentence, pos)
            assert found >= 0, f"page {index}: {sentence!r} not in {flat!r}"
            pos = found + len(sentence)
        for heading in info["headings"][index]:
            assert heading in flat


def test_paragraphs_separated_by_blank_lines(report):
    info, pages = report
    text = pages[2].text
    assert "\n\nQuality of victim contact\n\nVictims we spoke to" in text
    assert "\n\nThe force has an up-to-date strategy" in text
    # Lines inside a paragraph stay single-spaced, hyphenation left for the cleaner.
    first, second = info["hyphenated"]
    assert re.search(rf"{first}\n{second}\b", text)
    paras = _paragraphs(text)
    assert any(p.startswith("Northshire Constabulary is working well") and
               p.endswith("send its neighbourhood teams.") for p in paras)
    assert "\n\n\n" not in text and "\r" not in text


def test_running_header_is_its_own_paragraph(report):
    info, pages = report
    for page in pages[1:]:
        assert _paragraphs(page.text)[0] == info["header"]


def test_sentence_over_page_break(report):
    info, pages = report
    split = info["split_sentence"]
    first_page, second_page = (pages[i].text for i in split["pages"])
    assert _paragraphs(first_page)[-1].endswith(split["first"])
    body = [p for p in _paragraphs(second_page) if p not in (info["header"], "2")]
    assert body[0].startswith(split["second"])


@pytest.mark.parametrize("fixture", ["report", "report_no_labels"])
def test_table_rows_carry_label_and_every_header(fixture, request):
    info, pages = request.getfixturevalue(fixture)
    lines = [ln.lstrip(ROW_MARK + CAPTION_MARK)
             for ln in pages[info["table"]["page"]].text.split("\n")]
    _period, local, national = info["table"]["header"]
    for label, a, b in info["table"]["rows"]:
        # One line a row: its label, then each value after its two-line column header.
        assert f"{label} — {local}: {a}; {national}: {b}" in lines
    # The label column's header (the period) is the table's caption, not a value's.
    assert "12 months to June 2015" in lines


def test_footnote_marker_and_text(report):
    info, pages = report
    note = info["footnote"]
    paras = _paragraphs(pages[note["page"]].text)
    body = next(i for i, p in enumerate(paras) if note["marker_word"] in p.split())
    assert paras.index(note["text"]) > body


def test_bullets_are_separate_paragraphs(report):
    info, pages = report
    paras = _paragraphs(pages[info["recommendations"]["page"]].text)
    for item in info["recommendations"]["items"]:
        assert sum(p.endswith(item) for p in paras) == 1


def test_two_columns_read_column_by_column(tmp_path):
    info = factory.make_two_column_pdf(tmp_path / "westmoor.pdf")
    (page,) = read_pdf(tmp_path / "westmoor.pdf")
    # The page number at the foot comes last in reading order; cleaning removes it.
    paras = [p for p in _paragraphs(page.text) if not p.isdigit()]
    expected = info["left"] + info["right"]
    assert paras[-len(expected):] == expected
    assert info["heading"] in paras


@pytest.mark.parametrize("algorithm", ["RC4-128", "AES-128", "AES-256"])
def test_encrypted_with_empty_user_password_reads(tmp_path, algorithm):
    # Official PDFs are often AES-encrypted with an empty user password only to
    # restrict editing: they must open (pypdf's crypto extra, a dependency).
    info = factory.make_encrypted_pdf(tmp_path / "open.pdf", user_password="",
                                      algorithm=algorithm)
    pages = read_pdf(tmp_path / "open.pdf")
    for index, sentences in info["sentences"].items():
        for sentence in sentences:
            assert sentence in _flat(pages[index].text)


def test_one_bad_page_does_not_lose_the_others(tmp_path, caplog):
    info = factory.make_damaged_page_pdf(tmp_path / "damaged.pdf", bad_index=3)
    with caplog.at_level(logging.WARNING, logger="ingest.pdf_reader"):
        pages = read_pdf(tmp_path / "damaged.pdf")
    assert len(pages) == 5 and pages[3].text == ""
    assert info["sentences"][4][0] in _flat(pages[4].text)
    assert any("page 4" in r.getMessage() for r in caplog.records)


BAD_INPUTS = {
    "html": (lambda p: factory.make_html_as_pdf(p), "HTML", "download the PDF"),
    "empty": (lambda p: p.write_bytes(b""), "empty", "again"),
    "truncated": (lambda p: factory.make_truncated_pdf(p), "truncated", "again"),
    "encrypted": (lambda p: factory.make_encrypted_pdf(p), "password", "unprotected copy"),
    "scanned": (lambda p: factory.make_scanned_pdf(p), "no text layer", "OCR"),
    "missing": (lambda p: None, "cannot read", "path"),
    "not-pdf": (lambda p: p.write_bytes(b"just some text\n" * 10), "not a PDF", "export"),
}


@pytest.mark.parametrize("case", sorted(BAD_INPUTS))
def test_bad_inputs_raise_unreadable_report(case, tmp_path):
    make, reason, fix = BAD_INPUTS[case]
    path = tmp_path / f"{case}-report.pdf"
    make(path)
    with pytest.raises(UnreadableReport) as err:
        read_pdf(path)
    message = str(err.value)
    assert "\n" not in message
    assert path.name in message and reason in message
    assert " — " in message and fix in message.split(" — ", 1)[1]
    assert err.value.path == str(path) and err.value.fix and fix in err.value.fix


def test_factory_is_deterministic(tmp_path):
    factory.make_report_pdf(tmp_path / "a.pdf")
    factory.make_report_pdf(tmp_path / "b.pdf")
    assert (tmp_path / "a.pdf").read_bytes() == (tmp_path / "b.pdf").read_bytes()
