"""The library page (ui/app.py registers it with st.navigation; Streamlit runs this
file as the page's script): what the index holds, sortable and filterable, with the
grades across bodies; choosing a report filters the chat to it."""

import sys
from pathlib import Path

import streamlit as st

try:
    from ui.live_index import open_index
except ImportError:  # `streamlit run ui/app.py` from a checkout that is not installed
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    from ui.live_index import open_index

from retrieval.export import clean_text
from retrieval.facets import GRADE_ORDER, library
from ui.cards import md


def library_page(searcher) -> None:
    """The report library: the table of reports (filtered by body, programme, year and
    latest), the picked report's "Ask about this report", and the grades chart."""
    import pandas as pd

    st.title("Report library")
    rows = library(searcher.store)
    bodies = sorted({r["body"] for r in rows if r["body"]})
    progs = sorted({r["programme"] for r in rows if r["programme"]})
    years = sorted({r["year"] for r in rows if r["year"]})
    c1, c2, c3, c4 = st.columns([3, 3, 2, 2])
    pick_b = c1.multiselect("Body", bodies, key="lib_bodies", placeholder="All bodies")
    pick_p = c2.multiselect("Programme", progs, key="lib_programmes",
                            placeholder="All programmes")
    pick_y = c3.multiselect("Year", years, key="lib_years", placeholder="All years")
    only_latest = c4.checkbox("Latest only", key="lib_latest")
    shown = [r for r in rows if (not pick_b or r["body"] in pick_b)
             and (not pick_p or r["programme"] in pick_p)
             and (not pick_y or r["year"] in pick_y) and (r["latest"] or not only_latest)]
    st.caption(md(f"{len(shown)} of {len(rows)} reports · index built "
                  f"{searcher.store.manifest.built_at or '?'}"))
    table = [{"Body": clean_text(r["body"]), "Programme": clean_text(r["programme"]),
              "Year": r["year"], "Published": r["published"] or "", "Pages": r["pages"],
              "Passages": r["passages"], "Overall": r["overall"] or "",
              "Judgments": "; ".join(f"{clean_text(j['of'])}: {j['grade']}"
                                     for j in r["judgments"]),
              "Latest": "yes" if r["latest"] else "superseded",
              "File": clean_text(r["source_file"])} for r in shown]
    event = st.dataframe(table, hide_index=True, key="lib_table", on_select="rerun",
                         selection_mode="single-row", width="stretch")
    picked = list(getattr(getattr(event, "selection", None), "rows", []) or [])
    if picked:
        rep = shown[picked[0]]
        st.markdown("**" + md(f"{rep['body']} — {rep['title']}") + "**")
        if st.button("Ask about this report", key="lib_ask", type="primary"):
            st.session_state["f_reports"] = [rep["report_id"]]
            st.switch_page(st.session_state["rq_pages"]["ask"])
    grades = [{"body": r["body"] or r["title"], "grade": j["grade"]}
              for r in shown for j in r["judgments"] if j["grade"] in GRADE_ORDER]
    if grades:
        st.header("Grades across bodies")
        data = pd.DataFrame(grades).value_counts().reset_index(name="judgments")
        st.bar_chart(data, x="body", y="judgments", color="grade", height=300)


def main() -> None:
    """The page on the live index (the same cached Searcher as the ask page's)."""
    live = open_index(with_facets=False)
    if live:
        library_page(live.searcher)


if __name__ == "__main__":  # Streamlit runs a page's script as __main__
    main()
