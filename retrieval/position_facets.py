"""Which report, kind and section each FAISS position's passage has, as small arrays
read once per loaded index: the passages any filter allows are then array lookups, not
a SQLite query per filter.

A comparison searches each report in scope under the user's filter, and each (report,
filter) pair read its passages' rowids from SQLite: 1.9 ms a report on the real
filings, 2.2 ms of a comparison's 20 ms under a filter not seen before, and 65-384 ms
for a broad filter at 1M passages, 517 ms for a section (4-13 ms now:
benchmarks/README.md, "Filtered search at size")."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

#: A filter naming fewer than one report in this many reads only its reports' positions;
#: a broader one tests every position.
FEW_REPORTS = 8


def section_text(section: str | None) -> str:
    """A passage's stored section path (its headings joined by " > ") as a section
    filter tests it: lower-cased, every letter (SQLite's lower(), which the filter
    used before, left "É" as it was)."""
    return (section or "").lower()


@dataclass(frozen=True, eq=False)
class PositionFacets:
    """Per FAISS position, the index of its passage's report in `report_ids` (-1 for
    none), of its kind in `kinds` and of its section path in `sections` (as
    :func:`section_text` gives it); `by_report` holds the positions grouped by report
    (`starts[i]` to `starts[i + 1]`), so a filter naming a few reports reads only
    theirs."""

    report_ids: tuple[str, ...]
    kinds: tuple[str, ...]
    sections: tuple[str, ...]
    report_of: np.ndarray
    kind_of: np.ndarray
    section_of: np.ndarray
    by_report: np.ndarray
    starts: np.ndarray
    #: Each report id's index in `report_ids`.
    code_of: dict[str, int]

    @classmethod
    def read(cls, rows, positions, n: int) -> PositionFacets:
        """From (rowid, report_id, kind, section) rows of every live passage;
        `positions` maps rowids to FAISS positions, `n` is the FAISS index's size."""
        rep_code: dict[str, int] = {}
        kind_code: dict[str, int] = {}
        sec_code: dict[str, int] = {}
        # Straight into one array: lists of the rows' values kept 36 MB more after
        # loading 1M passages (+87 MB against +51 MB, measured before sections were
        # read too; with them +54 MB, 1.4-2.6 s).
        got = np.fromiter(
            ((rowid, rep_code.setdefault(rid, len(rep_code)),
              kind_code.setdefault(kind, len(kind_code)),
              sec_code.setdefault(section, len(sec_code)))
             for rowid, rid, kind, section in rows),
            dtype=[("rowid", np.int64), ("report", np.int32), ("kind", np.int16),
                   ("section", np.int32)])
        # Reports numbered in report-id order, as SQLite sorts them (bytewise UTF-8,
        # which is code-point order: Python's sort of str).
        rep_names = sorted(rep_code)
        renumber = np.empty(max(len(rep_names), 1), dtype=np.int32)
        for new, name in enumerate(rep_names):
            renumber[rep_code[name]] = new
        pos = positions(got["rowid"])
        ok = pos >= 0

        def per_position(values, dtype):
            out = np.full(n, -1, dtype=dtype)
            out[pos[ok]] = values[ok]
            return out

        report_of = per_position(renumber[got["report"]], np.int32)
        by_report = np.argsort(report_of, kind="stable").astype(np.int32)
        return cls(
            report_ids=tuple(rep_names),
            kinds=tuple(sorted(kind_code, key=kind_code.get)),
            sections=tuple(section_text(s) for s in sorted(sec_code, key=sec_code.get)),
            report_of=report_of, kind_of=per_position(got["kind"], np.int16),
            section_of=per_position(got["section"], np.int32), by_report=by_report,
            starts=np.searchsorted(report_of[by_report], np.arange(len(rep_names) + 1)),
            code_of={r: i for i, r in enumerate(rep_names)})

    def mask(self, report_ids: list[str] | None, kinds: tuple[str, ...] = (),
             section: str | None = None) -> np.ndarray:
        """A boolean per FAISS position: its passage is of one of these reports (every
        report when None), of one of these kinds (every kind when none) and, with a
        `section`, its section path holds that text (case-blind)."""
        n = len(self.report_of)
        if report_ids is None:
            keep = self.report_of >= 0
        else:
            codes = [c for c in map(self.code_of.get, report_ids) if c is not None]
            if len(codes) * FEW_REPORTS < len(self.report_ids):
                # A few reports: only their positions are read (three reports of 1M
                # passages: 0.01 ms, against 1.0 ms for a test of every position).
                pos = (np.concatenate([self.by_report[self.starts[c]:self.starts[c + 1]]
                                       for c in codes]) if codes else np.zeros(0, np.int32))
                pos = pos[self._passes(pos, kinds, section)]
                keep = np.zeros(n, dtype=bool)
                keep[pos] = True
                return keep
            wanted = np.zeros(len(self.report_ids) + 1, dtype=bool)
            wanted[codes] = True
            keep = wanted[self.report_of]  # -1 (no passage) reads the last, False
        if kinds or section:
            keep &= self._passes(slice(None), kinds, section)
        return keep

    def reports_in(self, mask: np.ndarray) -> list[str]:
        """The report ids of the positions `mask` allows, in report-id order."""
        codes = self.report_of[mask]
        # A count per report, not a sort of every allowed position (1M at most).
        held = np.bincount(codes[codes >= 0], minlength=len(self.report_ids))
        return [self.report_ids[c] for c in np.flatnonzero(held)]

    def _passes(self, at, kinds: tuple[str, ...], section: str | None) -> np.ndarray:
        """Whether the positions `at` pass the kind and section tests."""
        ok = np.ones(len(self.kind_of[at]), dtype=bool)
        if kinds:
            ok &= np.isin(self.kind_of[at], [i for i, k in enumerate(self.kinds)
                                             if k in kinds])
        if section:
            # The distinct section paths are tested, not the passages: far fewer. The
            # filter is lower-cased as the paths were (section_text).
            want = section_text(section)
            ok &= np.isin(self.section_of[at], [i for i, s in enumerate(self.sections)
                                                if want in s])
        return ok
