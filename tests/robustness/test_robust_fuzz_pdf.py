"""Fuzzing the PDF path: thousands of mutated PDFs (bit flips, overwritten bytes,
extreme numbers, PDF tokens inserted, chunks deleted or repeated, truncation, splices
of two files, nesting bombs, page-tree loops) through ``ingest_file`` in this process,
bounded by count and wall time. Each must give passages or one clear line — never an
exception, never a hang (a per-case alarm), and memory must not grow without bound.
A sample then goes through ``ingest_many`` — worker processes with the build's per-file
time limit — beside a PDF slow enough to hit that limit.

REPORTQA_FUZZ_CASES and REPORTQA_FUZZ_SECONDS change the bounds (defaults 3000 cases,
60 s); REPORTQA_FUZZ_SEED the mutation seed. A crashing input is saved under
tests/artifacts/fuzz-crashes/ for replay."""

from __future__ import annotations

import gc
import io
import logging
import os
import random
import re
import signal
import time
from collections import Counter
from pathlib import Path

import pdf_factory as pf
import pytest
from pypdf import PdfReader, PdfWriter
from reportlab.pdfgen.canvas import Canvas

from core.settings import load_settings
from ingest.pipeline import ingest_file, ingest_many

CASES = int(os.environ.get("REPORTQA_FUZZ_CASES", "3000"))
SECONDS = float(os.environ.get("REPORTQA_FUZZ_SECONDS", "60"))
SEED = int(os.environ.get("REPORTQA_FUZZ_SEED", "20261126"))
#: One case may take this long before it counts as a hang.
PER_CASE_S = 10.0
CRASHES = Path(__file__).resolve().parent.parent / "artifacts" / "fuzz-crashes"


class Hang(BaseException):
    """Raised by the per-case alarm; a BaseException so no `except Exception` eats it."""


def _uncompressed_pdf() -> bytes:
    """One page, streams not compressed (so mutations hit the text operators), with a
    header, a number, prose, a table and /PageLabels."""
    buf = io.BytesIO()
    c = Canvas(buf, pagesize=pf.A4, invariant=1, pageCompression=0)
    w = pf._Writer(c)
    w.page_furniture(pf.HEADER, "4")
    w.heading(pf.Q_REDUCING, size=16)
    w.para(pf.P_VICTIM)
    w.table(pf.TABLE_HEADER, pf.TABLE_ROWS[:2])
    w.para(pf.P_INVESTIGATING)
    c.save()
    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(buf.getvalue())))
    writer.set_page_label(0, 0, style="/D", start=4)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def _slow_pdf(path: Path, ops: int = 600_000) -> None:
    """A valid one-page PDF drawn as ``ops`` tiny text runs: slow to extract (about 6 s
    through pdfium's character boxes here; 120,000 took seconds through pypdf but only
    one through pdfium), like an engineering drawing or a badly made export."""
    c = Canvas(str(path), invariant=1)
    c.setFont("Helvetica", 10)
    t = c.beginText(72, 700)
    for i in range(ops):
        t.setTextOrigin(72 + (i % 50) * 9, 700 - (i // 50) % 60 * 11)
        t.textOut("ab ")
    c.drawText(t)
    c.showPage()
    c.save()


@pytest.fixture(scope="module")
def seeds(tmp_path_factory) -> dict[str, bytes]:
    d = tmp_path_factory.mktemp("fuzz-seeds")
    out = {"uncompressed": _uncompressed_pdf()}
    pf.make_two_column_pdf(d / "two.pdf")
    pf.make_encrypted_pdf(d / "enc.pdf", user_password="")
    pf.make_report_pdf(d / "report.pdf", pages=3)
    for name in ("two", "enc", "report"):
        out[name] = (d / f"{name}.pdf").read_bytes()
    return out


# -- mutations ------------------------------------------------------------------------------

TOKENS = [
    b"<<", b">>", b"[", b"]", b"(", b")", b"<", b">", b"/", b"obj", b"endobj", b"stream\n",
    b"\nendstream", b" 0 R", b"xref", b"trailer", b"startxref", b"%%EOF", b"%PDF-1.7",
    b"/Length 2147483647", b"/Length -1", b"/Count 1000000000", b"/Kids [2 0 R 2 0 R]",
    b"/Parent 3 0 R", b"/Filter /FlateDecode", b"/Filter /LZWDecode",
    b"/Filter [/ASCIIHexDecode /ASCII85Decode /RunLengthDecode]", b"/Encrypt 1 0 R",
    b"/PageLabels << /Nums [0 << /S /Q /St -3 >>] >>", b"BT", b"ET", b"Tj", b"TJ", b"Tf",
    b"Tm", b"cm", b"Td", b"TD", b"T*", b"'", b'"', b"q", b"Q", b"Do", b"/F1 0 Tf",
    b"1e308", b"-0", b"99999999999999999999", b"0.000000001", b"NaN", b"\x00", b"\xff\xfe",
    b"\\", b"\\000", b"[" * 300, b"(" * 300, b"<<" * 300, b"q" * 500,
    b"1 0 0 1 1e30 1e30 Tm", b"0 0 0 0 0 0 cm", b"/Type /Pages", b"/Type /Page",
]
NUMBERS = [b"0", b"-1", b"1", b"4294967296", b"99999999999", b"-99999", b"0.0001",
           b"340282366920938463463374607431768211456", b"3.5", b"-0.0", b"65535"]
NUM_RE = re.compile(rb"-?\d+(?:\.\d+)?")


def mutate(data: bytes, rng: random.Random, others: list[bytes]) -> tuple[bytes, str]:
    """One to four random mutations of ``data``; returns the bytes and what was done."""
    b = bytearray(data)
    done = []
    for _ in range(rng.choice((1, 1, 1, 2, 3, 4))):
        op = rng.choice(("flip", "overwrite", "number", "token", "delete", "repeat",
                         "truncate", "splice"))
        n = len(b)
        if n < 16:
            break
        i = rng.randrange(n)
        if op == "flip":
            for _ in range(rng.randint(1, 8)):
                j = rng.randrange(n)
                b[j] ^= 1 << rng.randrange(8)
        elif op == "overwrite":
            k = rng.randint(1, 64)
            b[i:i + k] = bytes(rng.randrange(256) for _ in range(min(k, n - i)))
        elif op == "number":
            nums = list(NUM_RE.finditer(b))
            if nums:
                m = rng.choice(nums)
                b[m.start():m.end()] = rng.choice(NUMBERS)
        elif op == "token":
            b[i:i] = b" " + rng.choice(TOKENS) + b" "
        elif op == "delete":
            del b[i:i + rng.randint(1, max(1, n // 8))]
        elif op == "repeat":
            k = rng.randint(1, 512)
            b[i:i] = bytes(b[i:i + k]) * rng.randint(1, 8)
        elif op == "truncate":
            del b[rng.randrange(n // 4, n):]
        elif op == "splice":
            other = rng.choice(others)
            b = b[:i] + other[rng.randrange(len(other)):]
        done.append(op)
    return bytes(b), "+".join(done)


def _rss_kb(field: str = "VmRSS") -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    return 0


def _reset_peak() -> bool:
    try:
        Path("/proc/self/clear_refs").write_text("5")  # resets VmHWM (Linux)
        return True
    except OSError:
        return False


class _Crashes(logging.Handler):
    """Collects the tracebacks ingest_file logs when something unexpected is raised."""

    def __init__(self):
        super().__init__(logging.ERROR)
        self.records: list[logging.LogRecord] = []

    def emit(self, record):
        self.records.append(record)


def _outcome(error: str | None) -> str:
    if error is None:
        return "read"
    reason = error.split(": ", 1)[-1].split(" — ")[0]
    return re.sub(r"\s*\(.*", "", reason)[:60]


@pytest.mark.skipif(not hasattr(signal, "setitimer"), reason="needs POSIX timers")
def test_fuzz_pdf_reader(seeds, tmp_path, figures):
    rng = random.Random(SEED)
    names = sorted(seeds)
    pool = [seeds[k] for k in names]
    path = tmp_path / "fuzzed-report.pdf"
    outcomes: Counter[str] = Counter()
    crashes: list[str] = []
    hangs: list[str] = []
    unclear: list[str] = []
    slowest = (0.0, "")
    handler = _Crashes()
    logging.getLogger("ingest").addHandler(handler)

    def alarm(*_):
        raise Hang

    old = signal.signal(signal.SIGALRM, alarm)
    logging.disable(logging.WARNING)  # pypdf and the reader warn on every broken file
    gc.collect()
    rss0 = _rss_kb()
    peak_ok = _reset_peak()
    t0 = time.monotonic()
    cases = 0
    try:
        while cases < CASES and time.monotonic() - t0 < SECONDS:
            seed_name = names[cases % len(names)]
            data, how = mutate(seeds[seed_name], rng, pool)
            path.write_bytes(data)
            before = len(handler.records)
            start = time.monotonic()
            signal.setitimer(signal.ITIMER_REAL, PER_CASE_S)
            try:
                res = ingest_file(path)
            except Hang:
                hangs.append(f"case {cases} ({seed_name}: {how})")
                _save(data, f"hang-{cases}")
                continue
            except Exception as e:  # noqa: BLE001 - ingest_file must never raise
                crashes.append(f"case {cases} ({seed_name}: {how}): {e!r}")
                _save(data, f"crash-{cases}")
                continue
            finally:
                signal.setitimer(signal.ITIMER_REAL, 0)
                cases += 1
            took = time.monotonic() - start
            slowest = max(slowest, (took, f"{seed_name}: {how}"))
            if len(handler.records) > before or "could not be processed" in (res.error or ""):
                crashes.append(f"case {cases - 1} ({seed_name}: {how}): {res.error}")
                _save(data, f"crash-{cases - 1}")
            elif res.error and not (res.error.startswith(f"{path.name}: ")
                                    and " — " in res.error and "\n" not in res.error):
                unclear.append(res.error)
            outcomes[_outcome(res.error)] += 1
    finally:
        signal.signal(signal.SIGALRM, old)
        logging.disable(logging.NOTSET)
        logging.getLogger("ingest").removeHandler(handler)
    seconds = time.monotonic() - t0
    peak_growth_mb = (_rss_kb("VmHWM") - rss0) / 1024 if peak_ok else None
    gc.collect()
    growth_mb = (_rss_kb() - rss0) / 1024
    figures("fuzz", cases=cases, seconds=round(seconds, 1), seed=SEED,
            crashes=len(crashes), hangs=len(hangs), unclear_messages=len(unclear),
            errors=len(crashes) + len(hangs), read_ok=outcomes["read"],
            refused=cases - outcomes["read"],
            slowest_case_s=round(slowest[0], 2),
            rss_growth_mb=round(growth_mb, 1),
            peak_rss_growth_mb=None if peak_growth_mb is None else round(peak_growth_mb, 1),
            top_outcomes=dict(outcomes.most_common(8)))
    assert not crashes, crashes[:5]
    assert not hangs, hangs[:5]
    assert not unclear, unclear[:5]
    assert cases >= min(CASES, 500), f"only {cases} cases in {seconds:.0f} s"
    # Some mutants must still read, or the fuzzing only exercised the first checks.
    assert outcomes["read"] >= cases // 20, outcomes
    # Memory: bounded while running, and given back after.
    if peak_growth_mb is not None:
        assert peak_growth_mb < 600, peak_growth_mb
    assert growth_mb < 150, growth_mb


def _save(data: bytes, name: str) -> None:
    CRASHES.mkdir(parents=True, exist_ok=True)
    (CRASHES / f"{name}.pdf").write_bytes(data)


def test_sample_through_workers_with_time_limit(seeds, tmp_path, figures):
    """Mutants, good seeds and one PDF slow enough to pass the time limit, through the
    build's worker pool: every file gets a result, the slow one "took longer than", the
    rest are unaffected, and the whole batch finishes in bounded time."""
    rng = random.Random(SEED + 1)
    names = sorted(seeds)
    files = []
    slow = tmp_path / "slow-drawing.pdf"
    _slow_pdf(slow)
    files.append(slow)
    for k in names:
        (tmp_path / f"seed-{k}.pdf").write_bytes(seeds[k])
        files.append(tmp_path / f"seed-{k}.pdf")
    for i in range(40):
        p = tmp_path / f"mutant-{i:02d}.pdf"
        p.write_bytes(mutate(seeds[names[i % len(names)]], rng, list(seeds.values()))[0])
        files.append(p)
    timeout = 2.0
    settings = load_settings(file_timeout_s=timeout, file_timeout_per_page_s=0)
    t0 = time.monotonic()
    results = {Path(r.path).name: r for r in ingest_many(files, {}, settings)}
    took = time.monotonic() - t0
    assert set(results) == {f.name for f in files}
    assert "took longer than 2 s" in (results[slow.name].error or ""), results[slow.name]
    for k in names:
        r = results[f"seed-{k}.pdf"]
        assert r.error is None and r.passages, r.error
    bad = [r.error for r in results.values()
           if r.error and ("could not be processed" in r.error or "reading failed" in r.error)]
    assert not bad, bad
    # 2 s for the slow file, the rest in parallel: far below one timeout per file.
    assert took < 10 * timeout + 20, took
    figures("fuzz_workers", files_tried=len(files), timed_out=sum(
        "took longer" in (r.error or "") for r in results.values()), seconds=round(took, 1),
        errors=len(bad))


def test_layout_line_padded_with_spaces_reads_fast(tmp_path):
    """Found by the fuzzer: a number changed to a huge x position makes pypdf's layout
    mode pad a line with thousands of spaces, on which the table-row pattern backtracked
    for seconds per line (4.6 s for this page). Now linear."""
    buf = io.BytesIO()
    c = Canvas(buf, pagesize=pf.A4, invariant=1)
    w = pf._Writer(c)
    w.para(pf.P_VICTIM)
    w.table(pf.TABLE_HEADER, pf.TABLE_ROWS)
    # A column header whose cells sit tens of thousands of points apart.
    c.setFont(pf.BODY_FONT, 9)
    c.drawString(72, 300, "12 months to June 2015")
    c.drawString(30_000, 300, "Northshire rate (per")
    c.drawString(60_000, 300, "England and Wales rate")
    c.save()
    path = tmp_path / "padded.pdf"
    path.write_bytes(buf.getvalue())
    t0 = time.monotonic()
    res = ingest_file(path)
    assert res.error is None, res.error
    assert time.monotonic() - t0 < 2.0
