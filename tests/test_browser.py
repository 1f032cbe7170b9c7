"""End to end in a real browser: start the app server (`reportqa serve`, or streamlit
the same way while that command does not exist), ask in headless Chromium, wait for a
cited passage card, and save a screenshot in tests/artifacts/ (and, only with
REPORTQA_UPDATE_SCREENSHOT=1, as the README's docs/screenshot.png: a test run never
rewrites a tracked file by itself)."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
APP = ROOT / "ui" / "app.py"
ARTIFACTS = ROOT / "tests" / "artifacts"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
QUESTION = "How does the force tackle anti-social behaviour?"
HOSTILE_Q = ('<img src=x onerror=alert(1)> <script>alert(2)</script> [x](http://evil) '
             "![i](http://evil/i.png) and what about victims?")

pytestmark = [
    pytest.mark.browser,
    # CI sets REPORTQA_REQUIRE_BROWSER so a missing browser fails instead of skipping.
    pytest.mark.skipif(not Path(CHROMIUM).exists() and not os.environ.get(
        "REPORTQA_REQUIRE_BROWSER"),
                       reason=f"{CHROMIUM} is not installed (apt-get install -y chromium)"),
]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _serve_command(port: int) -> list[str]:
    """`reportqa serve` when the CLI has it; otherwise what it runs."""
    try:
        from ui.cli import main

        has_serve = "serve" in getattr(main, "commands", {})
    except Exception:  # noqa: BLE001 — a CLI mid-edit must not hide the app test
        has_serve = False
    if has_serve:
        return [sys.executable, "-m", "ui.cli", "serve", "--port", str(port),
                "--host", "127.0.0.1"]
    return [sys.executable, "-m", "streamlit", "run", str(APP), "--server.address",
            "127.0.0.1", "--server.port", str(port), "--server.headless", "true",
            "--browser.gatherUsageStats", "false"]


@contextlib.contextmanager
def _serving(index_dir: Path, tmp_path: Path):
    """The app server on a free localhost port, with the given index."""
    port = _free_port()
    env = {**os.environ, "REPORTQA_INDEX": str(index_dir),
           "STREAMLIT_SERVER_FILE_WATCHER_TYPE": "none"}
    log = (tmp_path / "server.log").open("w")
    started = time.monotonic()
    # Its own process group: `reportqa serve` runs streamlit as a child, and both
    # must go when the test ends.
    proc = subprocess.Popen(_serve_command(port), cwd=ROOT, env=env, stdout=log,
                            stderr=subprocess.STDOUT, start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            if proc.poll() is not None:
                pytest.fail(f"server exited ({proc.returncode}):\n"
                            f"{(tmp_path / 'server.log').read_text()[-3000:]}")
            try:
                with urllib.request.urlopen(url + "/_stcore/health", timeout=2) as r:
                    if r.status == 200:
                        break
            except OSError:
                pass
            if time.monotonic() > deadline:
                pytest.fail("server did not become healthy in 60 s")
            time.sleep(0.2)
        yield {"url": url, "started": started, "log": tmp_path / "server.log"}
    finally:
        _stop_group(proc)
        log.close()


@pytest.fixture
def server(ui_index, tmp_path):
    """The app server with the demo report's index."""
    with _serving(ui_index, tmp_path) as s:
        yield s


@pytest.fixture
def archive_server(archive, tmp_path):
    """The app server with the fictional archive's index."""
    with _serving(archive[2], tmp_path) as s:
        yield s


def _stop_group(proc: subprocess.Popen) -> None:
    """SIGTERM the server's process group, then SIGKILL whatever is left after 15 s."""
    pgid = proc.pid  # start_new_session: the group id is the leader's pid
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pgid, signal.SIGTERM)
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        proc.poll()
        try:
            os.killpg(pgid, 0)
        except ProcessLookupError:
            break
        time.sleep(0.2)
    else:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(pgid, signal.SIGKILL)
    proc.wait()


def test_ask_in_a_real_browser(server):
    from playwright.sync_api import sync_playwright

    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    timings: dict[str, float] = {}
    dialogs: list[str] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1440, "height": 1100})
            page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
            page.goto(server["url"], wait_until="domcontentloaded")
            box = page.locator('[data-testid="stChatInput"] textarea')
            box.wait_for(timeout=60_000)
            timings["server_start_to_page_s"] = time.monotonic() - server["started"]

            # Asked the moment the page appears: includes loading the model.
            t0 = time.monotonic()
            box.fill(QUESTION)
            box.press("Enter")
            card = page.locator(".rq-card .rq-citation", has_text="›").first
            card.wait_for(timeout=90_000)
            timings["first_answer_s"] = time.monotonic() - t0
            timings["server_start_to_first_answer_s"] = time.monotonic() - server["started"]
            assert "West Midlands Police — Crime inspection 2014 ›" in card.inner_text()
            page.get_by_text("5 passages from 1 report").wait_for(timeout=10_000)
            page.locator(".rq-card").nth(4).wait_for(timeout=10_000)
            page.wait_for_timeout(300)
            assert page.locator(".rq-card").count() == 5
            assert page.locator(".rq-card mark").count() >= 1

            # Select a passage for export, then ask a follow-up (model warm by now).
            page.get_by_text("Add to export", exact=True).first.click()
            page.get_by_text("1 passage to export").wait_for(timeout=20_000)
            t0 = time.monotonic()
            box.fill("and what about victims?")
            box.press("Enter")
            page.get_by_text("Read as a follow-up to").wait_for(timeout=60_000)
            page.locator(".rq-card").nth(9).wait_for(timeout=60_000)
            timings["follow_up_answer_s"] = time.monotonic() - t0
            # The reading is visible and undoable: one click asks it on its own.
            page.get_by_role("button", name="Ask as a new question").wait_for(timeout=10_000)

            page.get_by_text("Ask the inspection reports").scroll_into_view_if_needed()
            page.wait_for_timeout(500)
            page.screenshot(path=str(ARTIFACTS / "browser-answer.png"))
            page.screenshot(path=str(ARTIFACTS / "browser-full.png"), full_page=True)

            # Hostile question: shown as text, nothing runs, no link or image appears.
            box.fill(HOSTILE_Q)
            box.press("Enter")
            page.wait_for_function("document.querySelectorAll('.rq-card').length > 10",
                                   timeout=60_000)
            page.wait_for_timeout(500)
            assert page.get_by_text(HOSTILE_Q).count() >= 1
            assert page.locator('img[src="x"], img[src*="evil"], a[href*="evil"]').count() == 0
            assert page.locator("script", has_text="alert(2)").count() == 0
            assert dialogs == []
        finally:
            browser.close()

    if os.environ.get("REPORTQA_UPDATE_SCREENSHOT") == "1":
        shutil.copy(ARTIFACTS / "browser-answer.png", ROOT / "docs" / "screenshot.png")
    (ARTIFACTS / "timings.json").write_text(json.dumps(timings, indent=2))
    print("browser timings:", json.dumps(timings))
    # The model and index load once per process; a warm answer is quick.
    assert timings["follow_up_answer_s"] < 10, timings


def test_compare_and_library_in_a_real_browser(archive_server):
    """A question across the archive's reports gets a table with one row per report
    (and the answering passages as cards); the library page lists the reports."""
    from playwright.sync_api import sync_playwright

    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1440, "height": 1100})
            page.goto(archive_server["url"], wait_until="domcontentloaded")
            box = page.locator('[data-testid="stChatInput"] textarea')
            box.wait_for(timeout=60_000)
            box.fill("Compare victim satisfaction across the forces")
            box.press("Enter")
            page.get_by_text("answer this (one row per report)").wait_for(timeout=120_000)
            page.locator('[data-testid="stDataFrame"]').first.wait_for(timeout=30_000)
            page.locator(".rq-card").nth(8).wait_for(timeout=30_000)
            assert page.get_by_role("button", name="Table as CSV (Excel)").count() == 1
            page.wait_for_timeout(500)
            page.screenshot(path=str(ARTIFACTS / "browser-compare.png"), full_page=True)

            page.get_by_role("link", name="Library").click()
            page.get_by_text("Report library").wait_for(timeout=60_000)
            page.locator('[data-testid="stDataFrame"]').first.wait_for(timeout=30_000)
            page.get_by_text("12 of 12 reports").wait_for(timeout=30_000)
            page.get_by_text("Grades across bodies").wait_for(timeout=30_000)
            page.wait_for_timeout(500)
            page.screenshot(path=str(ARTIFACTS / "browser-library.png"), full_page=True)
        finally:
            browser.close()
