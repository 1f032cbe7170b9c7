"""Files for the robustness tests: good reports to check nothing is lost, and the bad
files staff really drop into a corpus folder (broken, encrypted, scanned, empty, not
what the name says, huge, with nonsense page labels, duplicated). Deterministic: the
same bytes on every run. Builds on tests/pdf_factory.py (reportlab + pypdf)."""

from __future__ import annotations

import io
import os
import random
import re
from pathlib import Path

import pdf_factory as pf
from pypdf import PdfReader, PdfWriter
from pypdf.generic import ArrayObject, DictionaryObject, NameObject, NumberObject, TextStringObject

QUESTION = "How effective is the force at reducing crime?"


def sentences(text: str) -> list[str]:
    """A paragraph's sentences (the factory's rule)."""
    return [s for s in re.split(r"(?<=[.?!])\s+(?=[A-Z0-9])", text.strip()) if s]


def flat(text: str) -> str:
    """Text with every whitespace run as one space, for "is this sentence there"."""
    return " ".join(text.split())


def text_report(force: str, topic: str, extra: str = "", year: int = 2016) -> tuple[str, list]:
    """A small report in the layout of text extracted from inspection reports, and its
    body sentences (the ones that must end up in some passage)."""
    body = (f"{force} has a clear plan for {topic}. Officers told us that {topic} is a "
            f"priority and that partners are involved in decisions about {topic}. {extra}")
    rec = f"Within three months, {force} should review its {topic} plan and publish the results."
    summ = (f"The force works well on {topic}, and victims are generally satisfied with the "
            f"service they receive from {force}.")
    text = (f"{QUESTION}\n\n{topic.capitalize()}\n\n{body}\n\nRecommendations\n\n• {rec}\n\n\n\n"
            f"Crime inspection {year} – {force}\n\n7\n\nSummary\n\n• {summ}\n")
    return text, sentences(body) + [rec, summ]


def write_text_report(path: Path, force: str, topic: str, extra: str = "") -> list[str]:
    text, expected = text_report(force, topic, extra)
    Path(path).write_text(text, encoding="utf-8")
    return expected


# -- PDFs ---------------------------------------------------------------------------------

BIG_POOL = [
    "Inspectors read the case file and the notes made by the officer in charge.",
    "Supervisors had reviewed the investigation plan within the expected time.",
    "The victim had been told how the investigation was progressing.",
    "Evidence had been stored and recorded in line with the force policy.",
    "The decision to close the case was explained to the victim in writing.",
]


def make_big_pdf(path: Path, pages: int = 500) -> dict:
    """A ``pages``-page evidence annex: running header, printed page number (from 1 on
    the first page), a section heading every 25 pages, and on every page one paragraph
    with a sentence of its own ("Evidence note N: ...") so every page can be checked.
    Returns ``sentences`` ({pdf index: sentences}) and ``printed`` (number per index)."""
    path = Path(path)
    c = pf._canvas(path)
    w = pf._Writer(c)
    header = f"Evidence annex 2015 {pf.DASH} {pf.FORCE}"
    out: dict[int, list[str]] = {}
    for i in range(pages):
        w.page_furniture(header, str(i + 1))
        if i % 25 == 0:
            w.heading(f"Case files reviewed, part {i // 25 + 1}")
        text = (f"Evidence note {i + 1}: inspectors reviewed case file {1000 + i} in full. "
                f"{BIG_POOL[i % len(BIG_POOL)]} {BIG_POOL[(i + 2) % len(BIG_POOL)]}")
        w.para(text)
        out[i] = sentences(text)
        w.new_page()
    c.save()
    return {"sentences": out, "printed": [str(i + 1) for i in range(pages)]}


def _xref_span(data: bytes) -> tuple[int, int]:
    start = data.rfind(b"\nxref") + 1
    end = data.rfind(b"startxref")
    assert 0 < start < end, "expected a classic xref table"
    return start, end


def make_broken_xref_pdf(path: Path, source: Path) -> None:
    """``source`` with every xref offset wrong (as a careless edit or a bad FTP transfer
    in text mode leaves it): the objects are intact, so a reader can rebuild the table."""
    data = Path(source).read_bytes()
    a, b = _xref_span(data)
    table = re.sub(rb"(\d{10}) (\d{5}) n",
                   lambda m: b"%010d %s n" % (int(m.group(1)) + 37, m.group(2)), data[a:b])
    Path(path).write_bytes(data[:a] + table + data[b:])


def make_garbage_xref_pdf(path: Path, source: Path) -> None:
    """``source`` whose xref table and trailer are overwritten with digits."""
    data = Path(source).read_bytes()
    a, b = _xref_span(data)
    Path(path).write_bytes(data[:a] + re.sub(rb"\d", b"9", data[a:b]) + data[b:])


def _D(**kw) -> DictionaryObject:
    return DictionaryObject({NameObject("/" + k): v for k, v in kw.items()})


#: /PageLabels number trees that make no sense for a report (pypdf reads most of them
#: without complaint and would give made-up labels).
NONSENSE_LABELS = {
    "unknown-style": [NumberObject(0), _D(S=NameObject("/Q"), St=NumberObject(-5))],
    "junk-entries": [NumberObject(3), TextStringObject("junk"), NumberObject(99),
                     _D(P=TextStringObject("x"))],
    "script-prefix": [NumberObject(0),
                      _D(P=TextStringObject("\u202e<script>alert(1)</script>"))],
    "not-numbers": [TextStringObject("a"), TextStringObject("b")],
    "huge-start": [NumberObject(0), _D(S=NameObject("/D"), St=NumberObject(10**12))],
    "out-of-order": [NumberObject(4), _D(S=NameObject("/D")), NumberObject(0),
                     _D(S=NameObject("/A"))],
    "letters": [NumberObject(0), _D(S=NameObject("/A"))],
    "same-label": [NumberObject(0), _D(P=TextStringObject("Page"))],
}


def make_nonsense_labels_pdf(path: Path, variant: str = "unknown-style") -> dict:
    """The factory report (printed numbers ii, 1, 2, 3 in its footers) with a
    /PageLabels tree from :data:`NONSENSE_LABELS`."""
    path = Path(path)
    info = pf.make_report_pdf(path, page_labels=False)
    w = PdfWriter(clone_from=PdfReader(path))
    w._root_object[NameObject("/PageLabels")] = DictionaryObject(
        {NameObject("/Nums"): ArrayObject(NONSENSE_LABELS[variant])})
    buf = io.BytesIO()
    w.write(buf)
    path.write_bytes(buf.getvalue())
    return info


# -- other files ---------------------------------------------------------------------------

CP1252_TEXT = (
    "How effective is the force at reducing crime?\n\nNeighbourhood policing\n\n"
    "The force spent \u00a31.2 million on the \u2018Safer Streets\u2019 programme \u2013 "
    "mostly on PCSOs in the caf\u00e9 quarter. Officers said it was \u201cworth every "
    "penny\u201d and that residents noticed the difference.\n\n\n\n"
    "Crime inspection 2016 \u2013 Kentmere Police\n\n4\n\nSummary\n\n"
    "\u2022 Victims in the caf\u00e9 quarter were satisfied with the service.\n"
)
#: What the Windows-1252 report must read as (decoded correctly, nothing lost).
CP1252_EXPECTED = [
    "The force spent \u00a31.2 million on the \u2018Safer Streets\u2019 programme \u2013 "
    "mostly on PCSOs in the caf\u00e9 quarter.",
    "Officers said it was \u201cworth every penny\u201d and that residents noticed the "
    "difference.",
    "Victims in the caf\u00e9 quarter were satisfied with the service.",
]


def make_cp1252_txt(path: Path) -> list[str]:
    data = CP1252_TEXT.replace("\n", "\r\n").encode("cp1252")
    assert b"\xa3" in data and b"\x93" in data  # really Windows-1252, not UTF-8
    Path(path).write_bytes(data)
    return CP1252_EXPECTED


def make_binary_txt(path: Path) -> None:
    """Binary data (here a ZIP-like header and random bytes) under a .txt name."""
    rng = random.Random(7)
    Path(path).write_bytes(b"PK\x03\x04\x14\x00\x06\x00" + bytes(rng.randrange(256)
                                                              for _ in range(4000)))


def make_bad_corpus(corpus: Path) -> dict:
    """Fill ``corpus`` with good reports and every kind of bad file. Returns
    ``good`` ({file: sentences that must be indexed}), ``bad`` ({file: words its
    failure message must contain}), ``duplicate`` (copy, original), ``big`` (the 500-page
    PDF's name and info), ``labels`` (the nonsense-labels PDF's name and info) and
    ``vanishing``/``dangling`` (files that go away during the build)."""
    corpus = Path(corpus)
    corpus.mkdir(parents=True, exist_ok=True)
    good: dict[str, list[str]] = {}
    bad: dict[str, tuple[str, ...]] = {}

    info = pf.make_report_pdf(corpus / "northshire-2015.pdf")
    good["northshire-2015.pdf"] = [s for ss in info["sentences"].values() for s in ss]
    # The same bytes under a second name: indexed once, reported as a duplicate.
    (corpus / "northshire-2015-copy.pdf").write_bytes((corpus / "northshire-2015.pdf")
                                                       .read_bytes())
    good["alphashire-2016.txt"] = write_text_report(corpus / "alphashire-2016.txt",
                                                    "Alphashire Police", "burglary")
    enc = pf.make_encrypted_pdf(corpus / "encrypted-no-password.pdf", user_password="")
    good["encrypted-no-password.pdf"] = [s for ss in enc["sentences"].values() for s in ss]
    good["kentmere-cp1252.txt"] = make_cp1252_txt(corpus / "kentmere-cp1252.txt")
    big = make_big_pdf(corpus / "evidence-annex-500-pages.pdf")
    good["evidence-annex-500-pages.pdf"] = [s for ss in big["sentences"].values() for s in ss]
    lab = make_nonsense_labels_pdf(corpus / "nonsense-page-labels.pdf", "unknown-style")
    good["nonsense-page-labels.pdf"] = [s for ss in lab["sentences"].values() for s in ss]
    # Offsets wrong but objects intact: pypdf rebuilds the table, nothing is lost.
    src = corpus.parent / "source-for-xref.pdf"
    xinfo = pf.make_report_pdf(src, page_labels=False)
    make_broken_xref_pdf(corpus / "broken-xref-offsets.pdf", src)
    good["broken-xref-offsets.pdf"] = [s for ss in xinfo["sentences"].values() for s in ss]
    # Footnote markers ("kits1") are removed from the text.
    for name, ss in good.items():
        if name.endswith(".pdf"):
            good[name] = [s.replace("kits1", "kits") for s in ss]

    make_garbage_xref_pdf(corpus / "broken-xref-table.pdf", src)
    bad["broken-xref-table.pdf"] = ("damaged", "PDF")
    pf.make_truncated_pdf(corpus / "truncated-download.pdf")
    bad["truncated-download.pdf"] = ("truncated",)
    pf.make_encrypted_pdf(corpus / "encrypted-with-password.pdf", user_password="secret")
    bad["encrypted-with-password.pdf"] = ("encrypted", "password")
    pf.make_scanned_pdf(corpus / "scanned-no-text.pdf")
    bad["scanned-no-text.pdf"] = ("no text layer", "OCR")
    (corpus / "zero-bytes.pdf").write_bytes(b"")
    bad["zero-bytes.pdf"] = ("empty", "0 bytes")
    pf.make_html_as_pdf(corpus / "web-page-saved-as.pdf")
    bad["web-page-saved-as.pdf"] = ("HTML",)
    make_binary_txt(corpus / "binary-named.txt")
    bad["binary-named.txt"] = ("binary",)
    # Removed after the build has hashed it, before a worker reads it (see the test).
    write_text_report(corpus / "vanishing-report.txt", "Vanishing Police", "patrols")
    bad["vanishing-report.txt"] = ("deleted", "not found")
    # A link whose target is gone (an unmounted share): listed, but cannot be read.
    os.symlink(corpus.parent / "unmounted-share" / "report.pdf", corpus / "dangling-link.pdf")
    bad["dangling-link.pdf"] = ("No such file",)
    return {"good": good, "bad": bad,
            "duplicate": ("northshire-2015.pdf", "northshire-2015-copy.pdf"),
            "big": ("evidence-annex-500-pages.pdf", big),
            "labels": ("nonsense-page-labels.pdf", lab),
            "vanishing": "vanishing-report.txt", "dangling": "dangling-link.pdf"}
