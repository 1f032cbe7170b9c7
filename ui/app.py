"""The reportqa Streamlit app: ask a question, read the short answer and the cited
passages, open each passage's source page, ask a follow-up, and keep the passages you
need in a basket that becomes the briefing's annex.

Run with `reportqa serve`, which binds to 127.0.0.1 (or `streamlit run ui/app.py
--server.address 127.0.0.1`: without that option Streamlit listens on every interface,
and the app has no login). The index is the one `load_settings().index_dir` names
(REPORTQA_INDEX), opened by ui/live_index.py.

This file is the entry point: it opens the live index (or shows how to build one) and
runs the page asked for. Pages: Ask (ui/ask_page.py: the conversation; the sidebar
holds the filters, basket and conversations), Library (ui/library.py: what the index
holds), and Admin (ui/admin_page.py: changing the index) where Settings.admin_enabled
allows it. The widgets they share are apart: ui/answer_view.py (a turn's reply and its
cards), ui/comparison_view.py, ui/source_dialog.py, ui/filters.py, ui/basket_panel.py,
ui/conversations.py; the session's state is ui/state.py.

Untrusted text — passages from reports, questions from users, uploaded files — reaches
the page only through st.text, widget options, or st.html after html.escape (ui/cards.py);
Markdown-rendering elements get it backslash-escaped. Control and bidi-override
characters are removed."""

from __future__ import annotations

import sys
from pathlib import Path

import streamlit as st

try:
    from ui.live_index import admin_enabled, open_index
except ImportError:  # `streamlit run ui/app.py` from a checkout that is not installed
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    from ui.live_index import admin_enabled, open_index

from ui import state
from ui.ask_page import ask_page
from ui.cards import CSS

HERE = Path(__file__).resolve().parent


def main() -> None:
    """The app: no-index help, or its pages — Ask (conversation, basket), Library and,
    where allowed, Admin."""
    st.set_page_config(page_title="reportqa — inspection reports", page_icon="📑",
                       layout="wide")
    live = open_index(with_facets=True)
    if not live:
        return

    st.html(CSS)
    pages = {
        "ask": st.Page(lambda: ask_page(live), title="Ask", icon="💬", url_path="ask",
                       default=True),
        "library": st.Page(str(HERE / "library.py"), title="Library", icon="📚",
                           url_path="library"),
    }
    if admin_enabled(live.settings):
        pages["admin"] = st.Page(str(HERE / "admin_page.py"), title="Admin", icon="🛠️",
                                 url_path="admin")
    # The library's "Ask about this report" switches back to the ask page.
    st.session_state["rq_pages"] = pages
    st.navigation(list(pages.values())).run()
    state.persist()


if __name__ == "__main__":
    main()
