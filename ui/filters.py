"""The ask page's filters (in the sidebar): report, force, year, section, kind,
programme, latest only, and passages per answer."""

from __future__ import annotations

import streamlit as st

from retrieval.answer import Filters
from retrieval.export import clean_text

#: The section selectbox's "no restriction" option.
ANY_SECTION = "(any section)"


def sidebar_filters(fac: dict) -> tuple[Filters, int]:
    """The filter widgets, from the index's facets; the Filters they set and the
    passages per answer."""
    st.header("Filters")
    reports = {r["report_id"]: r for r in fac["reports"]}

    def report_label(rid: str) -> str:
        r = reports[rid]
        head = f"{r['force']} — {r['title']}" if r["force"] else r["title"]
        return clean_text(f"{head} ({r['year']})" if r["year"] else head)

    report_ids = st.multiselect("Report", list(reports), format_func=report_label,
                                key="f_reports", placeholder="All reports")
    forces = st.multiselect("Force", fac["forces"], format_func=clean_text, key="f_forces",
                            placeholder="All forces")
    years = st.multiselect("Year", fac["years"], key="f_years", placeholder="All years")
    section = st.selectbox("Section", [ANY_SECTION] + fac["sections"],
                           format_func=clean_text, key="f_section")
    kinds = st.multiselect("Kind", fac["kinds"], key="f_kinds", placeholder="All kinds")
    programmes = st.multiselect("Programme", fac.get("programmes", []), key="f_programmes",
                                placeholder="All programmes") \
        if len(fac.get("programmes", [])) > 1 else []
    latest = st.checkbox("Latest inspection only", key="f_latest",
                         help="Leave out reports superseded by a later report of the same "
                              "body and programme")
    top_k = st.slider("Passages per answer", 1, 20, 5, key="top_k")
    f = Filters(report_ids=tuple(report_ids), forces=tuple(forces),
                years=tuple(int(y) for y in years),
                section=None if section == ANY_SECTION else section, kinds=tuple(kinds),
                programmes=tuple(programmes), latest_only=bool(latest))
    return f, int(top_k)
