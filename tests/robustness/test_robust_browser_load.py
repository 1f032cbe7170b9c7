"""Ten people at once: ten browser sessions (Playwright contexts) ask different
questions while an index build swaps a new build in. Every answer comes from the old
build or the new one, no page shows an error, and the answer times are printed."""

from __future__ import annotations

import shutil
import threading
import time
from pathlib import Path

import pytest
from test_browser import CHROMIUM, CHROMIUM_ARGS, _serving

from core.settings import load_settings
from ingest.index import build_index
from retrieval.store import Store

ROOT = Path(__file__).resolve().parents[2]
REPORT = ROOT / "corpus" / "hmic-crime-inspection-2014-west-midlands.txt"
QUESTIONS = [
    "How satisfied are victims?", "how does the force tackle anti-social behaviour",
    "what did HMIC say about restorative justice", "crime rate per 1,000 population",
    "how are repeat offenders managed", "What should the force improve?",
    "how good is crime recording", "domestic abuse risk assessment",
    "investigation quality and supervision", "neighbourhood policing priorities",
]

# End to end: `reportqa serve` (its own process) answers with the packaged model, so
# the index it serves is built with it too.
pytestmark = [
    pytest.mark.browser,
    pytest.mark.real_model,
    pytest.mark.skipif(not Path(CHROMIUM).exists() and not __import__("os").environ.get(
        "REPORTQA_REQUIRE_BROWSER"), reason=f"{CHROMIUM} is not installed"),
]


def _ids(index: Path) -> set[str]:
    return {p.passage_id for p in Store(index).iter_passages()}


def _wait_all(pages, started, answered, before):
    """Poll every page until each has more cards than before; answer times in s."""
    deadline = time.monotonic() + 240
    while len(answered) < len(pages):
        for i, page in enumerate(pages):
            if i not in answered and page.locator(".rq-card").count() > before[i]:
                answered[i] = time.monotonic() - started[i]
        if time.monotonic() > deadline:
            pytest.fail(f"only {len(answered)} of {len(pages)} pages answered in 240 s")
        time.sleep(0.1)


def test_ten_sessions_while_a_build_swaps_in(tmp_path, figures):
    from playwright.sync_api import sync_playwright

    corpus = tmp_path / "corpus"
    corpus.mkdir()
    shutil.copy(REPORT, corpus / REPORT.name)
    settings = load_settings(corpus_dir=corpus, index_dir=tmp_path / "index")
    build_index(settings)
    old_ids = _ids(settings.index_dir)
    times: list[float] = []
    errors: list[str] = []
    with _serving(settings.index_dir, tmp_path) as server, sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            pages = []
            for _ in QUESTIONS:
                page = browser.new_context(viewport={"width": 1200, "height": 900}).new_page()
                page.goto(server["url"], wait_until="domcontentloaded")
                pages.append(page)
            for page in pages:
                page.locator('[data-testid="stChatInput"] textarea').wait_for(timeout=90_000)
            # A second report arrives and a build swaps in while the questions run.
            (corpus / "copy-edited.txt").write_text(
                REPORT.read_text(encoding="utf-8").replace("West Midlands", "Westmoor"),
                encoding="utf-8")
            builder = threading.Thread(target=lambda: build_index(settings))
            for rnd in range(2):
                before = [page.locator(".rq-card").count() for page in pages]
                started, answered = {}, {}
                for i, (page, q) in enumerate(zip(pages, QUESTIONS[rnd:] + QUESTIONS[:rnd])):
                    box = page.locator('[data-testid="stChatInput"] textarea')
                    box.fill(q)
                    box.press("Enter")
                    started[i] = time.monotonic()
                if rnd == 0:
                    builder.start()
                _wait_all(pages, started, answered, before)
                times += list(answered.values())
            builder.join(timeout=300)
            new_ids = _ids(settings.index_dir)
            assert new_ids != old_ids  # the new build is live
            for page in pages:
                page.wait_for_timeout(300)
                if page.locator('[data-testid="stException"]').count():
                    errors.append(page.locator('[data-testid="stException"]').first.inner_text())
                shown = page.locator(".rq-card").evaluate_all(
                    "els => els.map(e => e.dataset.passageId)")
                stray = set(shown) - old_ids - new_ids
                assert not stray, stray
        finally:
            browser.close()
    times.sort()
    p95 = times[max(0, int(round(0.95 * len(times))) - 1)]
    figures("browser_load", sessions=len(QUESTIONS), answers=len(times), errors=len(errors),
            p50_s=round(times[len(times) // 2], 2), p95_s=round(p95, 2))
    print(f"browser load: {len(times)} answers, p50 {times[len(times) // 2]:.2f} s, "
          f"p95 {p95:.2f} s")
    assert not errors, errors
