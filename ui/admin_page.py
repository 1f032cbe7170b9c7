"""The admin page (ui/app.py registers it with st.navigation only where
Settings.admin_enabled allows it — by default, when the app listens on localhost
only; Streamlit runs this file as the page's script): what the live index holds and
how it differs from the corpus folder, and the buttons that change it (update,
rebuild from scratch, optimize). Analysts do not see it. Every change is the same
atomic build as the command line's, so a failed one leaves the previous index
serving."""

import sys
from pathlib import Path

import streamlit as st

try:
    from ui.live_index import open_index
except ImportError:  # `streamlit run ui/app.py` from a checkout that is not installed
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    from ui.live_index import open_index

from core.errors import ReportQAError
from ingest.index_format import Manifest
from ui.build_box import build
from ui.cards import md


def _optimize(settings) -> None:
    from ingest.index import optimize_index

    with st.spinner("Merging the index's segments…"):
        try:
            res = optimize_index(settings)
        except ReportQAError as e:
            st.error(md(e.line()))
            return
    st.success(md(f"Optimized: build {res.get('build_id', '?')}"))
    st.rerun()


@st.cache_data(ttl=60, show_spinner="Comparing the corpus folder with the index…")
def _drift(build_id: str, corpus_dir: str, _manifest: Manifest) -> dict:
    """How the corpus differs from the live build (keyed by build; the manifest is
    that build's). It hashes every file, so it is kept for a minute: each click on the
    page reruns it."""
    from ingest.index import corpus_drift

    return corpus_drift(_manifest, Path(corpus_dir))


def admin_page(settings, store) -> None:
    """The index's state, the corpus folder's drift from it, and the index actions."""
    st.title("Index administration")
    st.markdown(md(f"Corpus folder: {settings.corpus_dir} · index: {settings.index_dir}"))
    status = store.status()
    st.header("Live index")
    st.markdown(md(f"Build {status.build_id}, made {status.built_at}: "
                   f"{len(status.reports)} report(s), {status.passages} passages, "
                   f"{status.segments} segment(s), model {status.model}"))
    drift = _drift(store.build_id, str(settings.corpus_dir), store.manifest)
    if drift.get("differs"):
        st.warning(md(f"The corpus folder differs from the live index: {drift['added']} new,"
                      f" {drift['changed']} changed, {drift['removed']} removed file(s). "
                      "Update the index to serve them."))
    else:
        st.success("The live index matches the corpus folder.")
    for f in status.failures:
        st.warning(md(f"failed in the last build: {f.get('reason') or f.get('file')}"))
    for f in status.stale:
        st.warning(md(f"stale: {f['file']} serves its previous version — now {f['reason']}"))
    st.header("Change the index")
    c1, c2, c3 = st.columns(3)
    if c1.button("Update the index", key="rebuild", type="primary",
                 help="Index new or changed reports from the corpus folder."):
        build(settings, full=False)
    if c2.button("Rebuild from scratch", key="rebuild_full",
                 help="Read and embed every report again (minutes per hundred reports)."):
        build(settings, full=True)
    if c3.button("Optimize", key="optimize", disabled=status.segments <= 1 and
                 not status.deleted_passages,
                 help="Merge the segments into one; nothing is read or embedded again."):
        _optimize(settings)


def main() -> None:
    """The page on the live index."""
    live = open_index(with_facets=False)
    if live:
        admin_page(live.settings, live.searcher.store)


if __name__ == "__main__":  # Streamlit runs a page's script as __main__
    main()
