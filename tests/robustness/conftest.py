"""Shared by the robustness tests: the import path for tests/pdf_factory.py, and the
figures the suite reports (files tried, fuzz cases, concurrent queries, errors, data
lost), written to tests/artifacts/robustness.json as they come in and printed in the
terminal summary whether or not pytest captures output."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

TESTS = Path(__file__).resolve().parent.parent
if str(TESTS) not in sys.path:  # pdf_factory lives in tests/
    sys.path.insert(0, str(TESTS))
HERE = str(Path(__file__).resolve().parent)
if HERE not in sys.path:  # robust_factory lives here (spawned readers import it too)
    sys.path.insert(0, HERE)

ARTIFACT = TESTS / "artifacts" / "robustness.json"

#: Figures recorded in this run, by section; written to ARTIFACT after every update.
FIGURES: dict[str, dict] = {}


def record(section: str, **values) -> None:
    """Add figures under ``section`` and rewrite tests/artifacts/robustness.json."""
    FIGURES.setdefault(section, {}).update(values)
    ARTIFACT.parent.mkdir(parents=True, exist_ok=True)
    ARTIFACT.write_text(json.dumps({"sections": FIGURES, "totals": totals()}, indent=2,
                                   ensure_ascii=False) + "\n", encoding="utf-8")


def totals() -> dict:
    """The headline figures across sections."""
    f = FIGURES
    return {
        "files_tried": sum(s.get("files_tried", 0) for s in f.values()),
        "fuzz_cases": f.get("fuzz", {}).get("cases", 0),
        "concurrent_queries": f.get("concurrency", {}).get("queries", 0),
        "queries_during_swaps": f.get("concurrency", {}).get("queries_during_builds", 0),
        "errors": sum(s.get("errors", 0) for s in f.values()),
        "data_lost": sum(s.get("data_lost", 0) for s in f.values()),
    }


@pytest.fixture(scope="session")
def figures():
    """``figures(section, **values)`` records figures for the summary."""
    return record


def pytest_terminal_summary(terminalreporter):
    if not FIGURES:
        return
    tr = terminalreporter
    tr.section("robustness figures")
    t = totals()
    tr.write_line(
        f"files tried {t['files_tried']}, fuzz cases {t['fuzz_cases']}, concurrent queries "
        f"{t['concurrent_queries']} ({t['queries_during_swaps']} while a build ran), "
        f"errors {t['errors']}, data lost {t['data_lost']}")
    for name, values in FIGURES.items():
        tr.write_line(f"  {name}: " + ", ".join(f"{k} {v}" for k, v in values.items()))
    tr.write_line(f"  (written to {ARTIFACT.relative_to(TESTS.parent)})")
