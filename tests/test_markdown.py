"""Markdown reports get the same structure as extracted text."""

from __future__ import annotations

from ingest.markdown import markdown_to_text
from ingest.pipeline import ingest_file

MD = """# Crime inspection 2016 – Westshire Police

## How effective is the force at reducing crime and preventing offending?

### Quality of victim contact

The **force** has a [victim plan](http://example.org) that officers follow. Victims are
contacted within two days, and supervisors check a sample of cases every month to make
sure that this happens and that victims are kept informed of progress.

   Indented text in Markdown is not a new page.

### Crime

The table below shows crime rates in Westshire compared with England and Wales.

| Measure | Westshire rate | England and Wales rate |
|---|---|---|
| Crime excluding fraud | 55.1 | 60.7 |
| Burglary in a dwelling | 7.9 | 8.9 |

### Recommendations

- Within three months, Westshire Police should review how it contacts victims.
"""


def test_markdown_to_text_drops_markup():
    t = markdown_to_text("## Head\n\nSome **bold** and [link](http://x) and `code`.\n")
    assert t == "Head\n\nSome bold and link and code."


def test_markdown_report_sections_and_table(tmp_path):
    f = tmp_path / "westshire-2016.md"
    f.write_text(MD, encoding="utf-8")
    res = ingest_file(f)
    assert res.error is None, res.error
    assert res.report.force == "Westshire Police" and res.report.year == 2016
    q = "How effective is the force at reducing crime and preventing offending?"
    paths = {p.section for p in res.passages}
    assert (q, "Quality of victim contact") in paths and (q, "Recommendations") in paths
    (table,) = [p for p in res.passages if p.kind == "table"]
    assert "Burglary in a dwelling — Westshire 7.9, England and Wales 8.9" in table.text
    text = " ".join(p.text for p in res.passages)
    assert "http://example.org" not in text and "**" not in text
    assert "Indented text in Markdown is not a new page." in text
    assert any(p.kind == "recommendation" for p in res.passages)
