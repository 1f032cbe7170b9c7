"""What the indexed passages can be filtered by (reports, forces, years, sections,
kinds), and which build is live — so the UI can offer filters and notice a rebuild
without touching index files itself."""

from __future__ import annotations

from pathlib import Path

from ingest.index import current_build_dir
from ingest.models import KINDS, short_heading
from retrieval.store import Store


def current_build(index_dir: Path | str) -> str | None:
    """The name of the live build of an index, or None when there is no index yet.
    Cheap (reads one small pointer file): callers use it as a cache key."""
    build = current_build_dir(Path(index_dir))
    return build.name if build else None


def facets(store: Store) -> dict:
    """Filter options from the indexed passages.

    Returns ``{"reports": [{"report_id", "title", "force", "year", "passages"}],
    "forces": [...], "years": [...], "sections": [...], "kinds": [...]}``: forces and
    years sorted, sections (top-level headings in their citation form) in reading
    order, kinds in :data:`ingest.models.KINDS` order."""
    reports: dict[str, dict] = {}
    for r in store.reports:
        reports[r.report_id] = {"report_id": r.report_id, "title": r.title,
                                "force": r.force, "year": r.year, "passages": 0}
    sections: dict[str, None] = {}
    kinds: set[str] = set()
    for p in store.iter_passages():
        rep = reports.setdefault(p.report_id, {
            "report_id": p.report_id, "title": p.report_title, "force": p.force,
            "year": p.year, "passages": 0})
        rep["passages"] += 1
        if p.section:
            sections.setdefault(short_heading(p.section[0]), None)
        kinds.add(p.kind)
    reps = sorted(reports.values(), key=lambda r: (r["force"], r["year"] or 0, r["title"]))
    return {
        "reports": reps,
        "forces": sorted({r["force"] for r in reps if r["force"]}),
        "years": sorted({r["year"] for r in reps if r["year"]}),
        "sections": list(sections),
        "kinds": [k for k in KINDS if k in kinds] + sorted(kinds - set(KINDS)),
    }
