"""The index build from the app, with a live status box: used by the no-index page
and the admin page. It is the same atomic build as `reportqa index build`, so a failed
one leaves the previous index serving."""

from __future__ import annotations

import logging

import streamlit as st

from core.errors import ReportQAError
from retrieval.export import clean_text
from ui.cards import md


class _StatusLog(logging.Handler):
    """Shows the index build's progress log lines in the st.status box."""

    def __init__(self, placeholder):
        super().__init__(logging.INFO)
        self.placeholder = placeholder

    def emit(self, record: logging.LogRecord) -> None:
        try:
            self.placeholder.text(clean_text(record.getMessage())[:300])
        except Exception:  # noqa: BLE001 — progress display must never break a build
            pass


def build(settings, full: bool) -> None:
    """Build (or update) the index with a live status box, then rerun the page on the
    new build."""
    from ingest.index import build_index

    with st.status("Building the index…", expanded=True) as box:
        st.text(f"Reports: {settings.corpus_dir}\nIndex: {settings.index_dir}")
        line = st.empty()
        handler = _StatusLog(line)
        logger = logging.getLogger("ingest")
        old_level = logger.level
        logger.addHandler(handler)
        logger.setLevel(logging.INFO)
        try:
            summary = build_index(settings, full=full)
        except ReportQAError as e:
            box.update(label="The index could not be built", state="error")
            st.error(md(e.line()))
            return
        finally:
            logger.removeHandler(handler)
            logger.setLevel(old_level)
        if summary.passages == 0:
            box.update(label="Nothing usable was indexed", state="error")
            st.error(md(f"No readable reports in {settings.corpus_dir} — add PDF, .txt "
                        "or .md reports there and try again."))
            return
        for f in summary.failed:
            st.warning(md(f["reason"]))
        box.update(label=f"Index built: {summary.passages} passages in "
                         f"{summary.seconds:.0f} s", state="complete", expanded=False)
    st.rerun()
