"""What the indexed passages can be filtered by (reports, forces, years, sections,
kinds), and which build is live — so the UI can offer filters and notice a rebuild
without touching index files itself."""

from __future__ import annotations

from pathlib import Path

from core.models import KINDS, short_heading
from ingest.index_format import current_build_dir
from retrieval.store import Store


def current_build(index_dir: Path | str) -> str | None:
    """The name of the live build of an index, or None when there is no index yet.
    Cheap (reads one small pointer file): callers use it as a cache key."""
    build = current_build_dir(Path(index_dir))
    return build.name if build else None


def facets(store: Store) -> dict:
    """Filter options from the index, as SQL aggregates (no passage is decoded, so
    this stays fast at archive size).

    Returns ``{"reports": [{"report_id", "title", "force", "year", "programme",
    "latest", "passages"}], "forces": [...], "years": [...], "programmes": [...],
    "sections": [...], "kinds": [...]}``: forces, years and programmes sorted, sections
    (top-level headings in their citation form) in reading order, kinds in
    :data:`core.models.KINDS` order."""
    db = store.db
    counts = dict(db.execute("SELECT report_id, count(*) FROM passages GROUP BY report_id"))
    reps = [{"report_id": r.report_id, "title": r.title, "force": r.force, "year": r.year,
             "programme": r.family,
             "latest": store.latest.get(r.report_id, True),
             "passages": counts.get(r.report_id, 0)} for r in store.reports]
    reps.sort(key=lambda r: (r["force"], r["year"] or 0, r["title"]))
    tops = db.execute(
        "SELECT CASE WHEN instr(section, ' > ') > 0 THEN substr(section, 1, "
        "instr(section, ' > ') - 1) ELSE section END AS top, min(rowid) AS first "
        "FROM passages WHERE section != '' GROUP BY top ORDER BY first").fetchall()
    sections = list(dict.fromkeys(short_heading(t) for t, _ in tops))
    kinds = {k for (k,) in db.execute("SELECT DISTINCT kind FROM passages")}
    return {
        "reports": reps,
        "forces": sorted({r["force"] for r in reps if r["force"]}),
        "years": sorted({r["year"] for r in reps if r["year"]}),
        "programmes": sorted({r["programme"] for r in reps if r["programme"]}),
        "sections": sections,
        "kinds": [k for k in KINDS if k in kinds] + sorted(kinds - set(KINDS)),
    }


#: Grades, best first, on the four- and five-point scales.
GRADE_ORDER = ("outstanding", "good", "adequate", "requires improvement", "inadequate")


def library(store: Store) -> list[dict]:
    """One row per indexed report for the library page: body, programme, year,
    publication date, pages, passages, whether it is the latest of its kind, its
    overall grade and its graded judgments (per pillar and per question); ordered by
    body, then year."""
    counts = dict(store.db.execute(
        "SELECT report_id, count(*) FROM passages GROUP BY report_id"))
    rows = []
    for r in store.reports:
        judged = list(r.pillar_judgments) + \
            [(short_heading(h), g) for h, g in r.judgments]
        rows.append({
            "report_id": r.report_id, "body": r.force, "title": r.title,
            "programme": r.family, "year": r.year,
            "published": r.published, "pages": r.pages,
            "passages": counts.get(r.report_id, 0),
            "latest": store.latest.get(r.report_id, True),
            "overall": (r.overall_judgment or "").lower() or None,
            "judgments": [{"of": h, "grade": g.lower()} for h, g in judged],
            "source_file": r.source_file,
        })
    rows.sort(key=lambda x: (x["body"], x["year"] or 0, x["title"]))
    return rows


def unmatched_filters(store: Store, filters) -> list[str]:
    """For each filter value that matches nothing in the index, one line naming it and
    the values that would match ([] when every value matches something)."""
    from core.models import KINDS

    fac = facets(store)
    out = []

    def listed(values) -> str:
        values = [str(v) for v in values]
        return ", ".join(values[:12]) + (f" and {len(values) - 12} more"
                                         if len(values) > 12 else "")

    for f in filters.forces:
        if not any(f.lower() in x.lower() for x in fac["forces"]):
            out.append(f"--force {f!r} matches no indexed report (forces: "
                       f"{listed(fac['forces'])})")
    for y in filters.years:
        if y not in fac["years"]:
            out.append(f"--year {y} matches no indexed report (years: {listed(fac['years'])})")
    for k in filters.kinds:
        if k not in fac["kinds"]:
            where = "kinds in this index" if k in KINDS else "kinds"
            out.append(f"--kind {k!r} is not a passage kind here ({where}: "
                       f"{listed(fac['kinds'] if k in KINDS else KINDS)})")
    ids = {r["report_id"] for r in fac["reports"]}
    for r in filters.report_ids:
        if r not in ids:
            out.append(f"--report {r!r} is no indexed report id (see `reportqa index "
                       "status`)")
    for p in filters.programmes:
        if p.lower() not in {x.lower() for x in fac["programmes"]}:
            out.append(f"--programme {p!r} matches no indexed report (programmes: "
                       f"{listed(fac['programmes'])})")
    if filters.section and not store.db.execute(
            "SELECT 1 FROM passages WHERE instr(lower(section), ?) > 0 LIMIT 1",
            [filters.section.lower()]).fetchone():
        out.append(f"--section {filters.section!r} matches no section heading (top-level "
                   f"sections: {listed(fac['sections'])})")
    return out
