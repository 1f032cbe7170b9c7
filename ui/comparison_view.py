"""A comparison across reports on the ask page: its summary line, the table (one row
per report), a bar chart when two or more rows state figures in the same unit, and the
table's download buttons (one per registered export format)."""

from __future__ import annotations

import streamlit as st

from retrieval.answer import Comparison
from retrieval.export import FORMATS, clean_text, comparison_rows, render, safe_filename
from ui.cards import md


def comparison_table(c: Comparison) -> list[dict]:
    """The comparison's rows as the app's table (one row per report)."""
    out = []
    for r in c.rows:
        ok = r.answers and r.hit is not None
        out.append({
            "Body": clean_text(r.force), "Year": r.year, "Programme": clean_text(r.programme),
            "Answers": "yes" if ok else "no",
            "Judgment": clean_text(r.judgment or ""),
            "Figure": r.figure if ok else None, "Unit": r.unit if ok else None,
            "Key sentence": clean_text(r.hit.highlight) if ok else "",
            "Citation": clean_text(r.hit.passage.citation) if ok else "",
            "Latest": "yes" if r.latest else "superseded",
        })
    return out


def render_comparison(c: Comparison, turn_id: int) -> None:
    """The comparison of one turn, above its answering passages' cards."""
    st.markdown("**" + md(c.summary_line) + "**")
    if not c.rows:
        return
    st.dataframe(comparison_table(c), hide_index=True, key=f"cmp:{turn_id}", width="stretch")
    unit = c.chart_unit
    if unit:
        import pandas as pd

        data = pd.DataFrame([{"report": f"{r.force} {r.year or ''}".strip(), "figure": r.figure}
                             for r in c.answering if r.unit == unit and r.figure is not None])
        st.caption(md(f"The figure each report's key sentence states ({unit})"))
        st.bar_chart(data, x="report", y="figure", height=260)
    rows = comparison_rows(c)
    for col, fmt in zip(st.columns(len(FORMATS)), FORMATS.values()):
        col.download_button(
            f"Table as {fmt.label}", data=render(rows, fmt.name) if rows else b"",
            file_name=safe_filename("compare " + c.question, fmt.name), mime=fmt.mime,
            key=f"cmpdl:{turn_id}:{fmt.name}", disabled=not rows, on_click="ignore")
    st.caption("The answering passage of each report follows.")
