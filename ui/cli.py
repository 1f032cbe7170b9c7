"""The `reportqa` command line: ingest, index build/status/passages, ask, export,
compare, serve (evaluation and fitting are `reportqa-fit`, fitting/cli.py). Thin: the
work is in ingest/ and retrieval/. A user mistake prints one clear line and exits
non-zero, never a traceback."""

from __future__ import annotations

import functools
import json
import logging
import sys
from pathlib import Path

import click

from core.errors import ReportQAError
from core.settings import load_settings
from retrieval.export import FORMATS


def _friendly(fn):
    """Turn domain errors into one line on stderr and exit status 2."""

    @functools.wraps(fn)
    def wrapper(*a, **kw):
        try:
            return fn(*a, **kw)
        except ReportQAError as e:
            click.echo(f"error: {e.line()}", err=True)
            sys.exit(getattr(e, "exit_status", 2))
        except KeyboardInterrupt:
            click.echo("interrupted — the previous index (if any) is still in place", err=True)
            sys.exit(130)

    return wrapper


def _say(line: str, err: bool = False) -> None:
    """Echo a line built from file names or report text: control characters and bidi
    overrides (a file name can hold a terminal escape) are shown escaped."""
    from ingest.pipeline import printable

    click.echo("\n".join(printable(part) for part in line.split("\n")), err=err)


def _logging(verbose: bool) -> None:
    logging.basicConfig(level=logging.INFO if verbose or not sys.stderr.isatty() else
                        logging.WARNING, format="%(asctime)s %(levelname)s %(message)s",
                        stream=sys.stderr)
    for noisy in ("sentence_transformers", "transformers", "httpx", "urllib3", "filelock",
                  "faiss", "faiss.loader"):
        logging.getLogger(noisy).setLevel(logging.WARNING)


@click.group()
@click.option("-v", "--verbose", is_flag=True, help="Log progress lines.")
def main(verbose: bool) -> None:
    """reportqa: ask questions of inspection reports, get cited passages."""
    _logging(verbose)


@main.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--jsonl", is_flag=True, help="One JSON passage a line.")
@_friendly
def ingest(paths: tuple[Path, ...], jsonl: bool) -> None:
    """Show the passages PATHS would give, without building an index."""
    from ingest.pipeline import corpus_files, ingest_file

    failed = 0
    for f in corpus_files(list(paths)):
        res = ingest_file(f)
        if res.error:
            click.echo(f"error: {res.error}", err=True)
            failed += 1
            continue
        if jsonl:
            for p in res.passages:
                click.echo(json.dumps({**p.to_dict(), "citation": p.citation},
                                      ensure_ascii=False))
            continue
        r = res.report
        click.echo(f"# {r.source_file}: {r.force} — {r.title} ({r.pages} pages, "
                   f"{len(res.passages)} passages)")
        if r.judgments:
            grades = "; ".join(f"{q} {g}" for q, g in r.judgments)
            click.echo(f"  judgments: {grades}; overall {r.overall_judgment} "
                       f"({r.overall_judgment_source})")
        for p in res.passages:
            click.echo(f"\n[{p.kind}, {len(p.text.split())} words] {p.citation}")
            click.echo(p.text)
    sys.exit(1 if failed else 0)


@main.group()
def index() -> None:
    """Build, rebuild and inspect the search index."""


@index.command("build")
@click.option("--corpus", type=click.Path(path_type=Path), help="Reports folder "
              "(default: ./corpus or REPORTQA_CORPUS).")
@click.option("--index", "index_dir", type=click.Path(path_type=Path),
              help="Index folder (default: ./index or REPORTQA_INDEX).")
@click.option("--full", is_flag=True, help="Rebuild everything from scratch.")
@click.option("--model", help="Embedding model name or local path.")
@click.option("--wait", type=float, default=0.0, show_default=True,
              help="Seconds to wait if another build is running.")
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON.")
@click.option("--ray", "ray_address", is_flag=False, flag_value="local", default=None,
              metavar="[ADDRESS]",
              help="Read and embed on a Ray cluster (pip install -e '.[cluster]'): a "
                   "running cluster's address, or none to start one on this machine.")
@click.option("--ray-gpus", type=float, default=0.0, show_default=True,
              help="GPUs per embedding actor on the Ray cluster (0: CPU actors).")
@_friendly
def index_build(corpus, index_dir, full, model, wait, as_json, ray_address, ray_gpus) -> None:
    """Build or update the index (incremental; atomic swap).

    Exit status: 0 all files indexed; 3 index built but some files failed;
    4 nothing usable was built; 5 another build holds the lock; 2 other errors."""
    import contextlib

    from core.errors import BuildLocked
    from ingest.index import EXIT_LOCKED, build_index

    s = load_settings(corpus_dir=corpus, index_dir=index_dir, model=model)
    try:
        with contextlib.ExitStack() as stack:
            cluster = None
            if ray_address:
                from ingest.ray_build import RayCluster

                cluster = stack.enter_context(RayCluster(ray_address, s.ingest_workers,
                                                         gpus_per_actor=ray_gpus))
            summary = build_index(s, full=full, wait_s=wait, cluster=cluster)
    except BuildLocked as e:
        click.echo(f"error: {e.line()}", err=True)
        sys.exit(EXIT_LOCKED)
    if as_json:
        click.echo(json.dumps(summary.to_dict(), indent=2))
    else:
        for f in summary.failed:
            _say(f"failed: {f['reason']}", err=True)
        for f in summary.stale:
            _say(f"kept the previous version: {f['reason']} (to drop it, remove the file "
                 "from the corpus, or rebuild with --full)", err=True)
        for d in summary.duplicates:
            _say(f"duplicate: {d['file']} has the same content as {d['same_as']} "
                       "— indexed once; remove one copy", err=True)
        if summary.up_to_date:
            click.echo(f"index up to date ({len(summary.unchanged)} reports unchanged, "
                       f"build {summary.build_id}, {summary.seconds:.1f} s)")
        else:
            click.echo(
                f"built {summary.build_id or '(nothing)'} in {s.index_dir}: "
                f"{len(summary.added)} added, {len(summary.changed)} changed, "
                f"{len(summary.unchanged)} unchanged, {len(summary.removed)} removed, "
                f"{len(summary.failed)} failed, {len(summary.stale)} kept from the previous "
                f"build; {summary.passages} passages "
                f"({summary.embedded} texts embedded, {summary.reused_vectors} reused) "
                f"in {summary.seconds:.1f} s")
        if summary.passages == 0:
            click.echo("error: nothing usable was indexed — add readable reports to "
                       f"{s.corpus_dir}", err=True)
    sys.exit(summary.exit_status)


@index.command("optimize")
@click.option("--index", "index_dir", type=click.Path(path_type=Path))
@click.option("--wait", type=float, default=0.0, show_default=True,
              help="Seconds to wait if another build is running.")
@click.option("--json", "as_json", is_flag=True)
@_friendly
def index_optimize(index_dir, wait, as_json) -> None:
    """Merge the index's segments into one and drop deleted passages (atomic swap;
    nothing is read or embedded again)."""
    from core.errors import BuildLocked
    from ingest.index import EXIT_LOCKED, optimize_index

    try:
        res = optimize_index(load_settings(index_dir=index_dir), wait_s=wait)
    except BuildLocked as e:
        click.echo(f"error: {e.line()}", err=True)
        sys.exit(EXIT_LOCKED)
    if as_json:
        click.echo(json.dumps(res, indent=2))
    elif res["merged"]:
        click.echo(f"optimized: {res['segments']} segments and {res['deleted_passages']} "
                   f"deleted passages → {res['segments_after']} segment, build "
                   f"{res['build_id']}, {res['seconds']:.1f} s")
    else:
        click.echo(f"already optimal: one segment, nothing deleted (build {res['build_id']})")


def _open_store(index_dir: Path | None):
    from retrieval.store import Store

    return Store(load_settings(index_dir=index_dir).index_dir)


@index.command("status")
@click.option("--index", "index_dir", type=click.Path(path_type=Path))
@click.option("--json", "as_json", is_flag=True)
@_friendly
def index_status(index_dir, as_json) -> None:
    """Where the index is, what it holds, and the last build's failures."""
    from ingest.index import corpus_drift

    store = _open_store(index_dir)
    st = store.status()
    st.drift = corpus_drift(store.manifest, load_settings().corpus_dir)
    if as_json:
        click.echo(json.dumps(st.__dict__, indent=2))
        return
    click.echo(f"index: {st.index_dir}\nbuild: {st.build_id} at {st.built_at} "
               f"({st.seconds:.1f} s)\nmodel: {st.model} ({st.dimension}-d), "
               f"FAISS {st.faiss.get('type')}\npassages: {st.passages} in "
               f"{len(st.reports)} reports, {len(store.segments)} segment(s)"
               + (f", {st.deleted_passages} deleted passages awaiting `reportqa index "
                  "optimize`" if st.deleted_passages else ""))
    for r in st.reports:
        _say(f"  {r['report_id']}: {r['force']} — {r['title']} ({r['year']}), "
             f"{r['pages']} pages, {r['passages']} passages [{r['source_file']}]"
             + ("" if r.get("latest", True) else " (superseded by a later report)"))
        where = r.get("provenance") or {}
        fields = [f"{k} {r.get(k) or '—'} ({where.get(k, '?')})"
                  for k in ("force", "year", "programme", "published")]
        _say("      " + "; ".join(fields))
    for f in st.failures:
        _say(f"  last build failed: {f['reason']}")
    for f in st.stale:
        _say(f"  stale: {f['file']} serves its previous version — now {f['reason']} "
             "(remove the file from the corpus, or rebuild with --full, to drop it)")
    if st.drift and st.drift.get("differs"):
        d = st.drift
        _say(f"  the live index no longer matches the corpus at {d['corpus']}: "
             f"{d['added']} new, {d['changed']} changed, {d['removed']} removed file(s) "
             "— run `reportqa index build`")
    for d in st.duplicates:
        _say(f"  duplicate skipped: {d['file']} (same as {d['same_as']})")


@index.command("passages")
@click.option("--index", "index_dir", type=click.Path(path_type=Path))
@click.option("--report", "report_id", help="Only this report id.")
@click.option("--jsonl", "--json", "jsonl", is_flag=True,
              help="One JSON passage a line, with its report's metadata and provenance.")
@_friendly
def index_passages(index_dir, report_id, jsonl) -> None:
    """Dump the indexed passages, for audit."""
    store = _open_store(index_dir)
    # Each line names its report's metadata and where each field came from.
    meta = {r.report_id: {k: v for k, v in r.to_dict().items()
                          if k in ("force", "year", "programme", "inspection_type",
                                   "published", "scope", "provenance")}
            for r in store.reports}
    for p in store.iter_passages(report_id):
        if jsonl:
            click.echo(json.dumps({**p.to_dict(), "citation": p.citation,
                                   "report": meta.get(p.report_id)}, ensure_ascii=False))
        else:
            click.echo(f"{p.passage_id} [{p.kind}] {p.citation}\n  {p.text[:200]}")


_FILTER_ARGS = ("force", "section", "kind", "year", "report", "programme", "latest")


def _searcher(index_dir):
    from retrieval.search import get_searcher

    # The index's own model unless REPORTQA_MODEL names one (then a mismatch is an error).
    settings = load_settings(index_dir=index_dir)
    return get_searcher(settings.index_dir, settings.query_model)


def _check_filters(searcher, filters) -> None:
    """A filter value that matches nothing is a mistake to name, not "0 passages"."""
    from retrieval.facets import unmatched_filters

    problems = unmatched_filters(searcher.store, filters)
    if problems:
        raise ReportQAError("; ".join(problems), fix="check the spelling, or leave the "
                            "filter out")


def _print_answer(a) -> None:
    """The short answer first, then each cited passage with its citation, relevance
    in words, highlighted sentences and text."""
    click.echo(click.style(a.short_answer.text, bold=True))
    if a.abstained:
        click.echo("Nearest passages:" if a.hits else "")
    else:
        click.echo(a.summary_line)
    for h in a.hits:
        how = f"{h.match} match, " if h.match else ""
        click.echo(f"\n[{h.rank}] {h.passage.citation}  ({h.passage.kind}, {how}"
                   f"score {h.score:.2f})")
        if h.highlight:
            click.echo(click.style(f"  » {h.highlight}", fg="green"))
        for line in h.passage.text.splitlines():
            click.echo(f"  {line}")


def _print_comparison(c) -> None:
    """The comparison's summary line, then one entry per report: its body, title and
    graded judgment, and its answering passage's citation and highlight."""
    click.echo(click.style(c.summary_line, bold=True))
    for i, r in enumerate(c.rows, 1):
        head = f"\n[{i}] {r.force or r.title} — {r.title}"
        if r.judgment:
            head += f" — graded {r.judgment} ({r.judgment_of})"
        if not r.latest:
            head += " (superseded by a later report)"
        click.echo(click.style(head, bold=True))
        if not r.answers or r.hit is None:
            click.echo("  no passage of this report answers the question")
            continue
        click.echo(f"  {r.hit.passage.citation}")
        if r.hit.highlight:
            click.echo(click.style(f"  » {r.hit.highlight}", fg="green"))


def _print_reply(reply) -> None:
    """A reply (retrieval.respond.Response) as `compare` or as an answer prints it."""
    if reply.comparison is not None:
        _print_comparison(reply.comparison)
    else:
        _print_answer(reply.answer)


_filter_options = [
    click.option("--force", multiple=True, help="Only this force (repeatable)."),
    click.option("--section", help="Only sections whose heading contains this text."),
    click.option("--kind", multiple=True, help="Only this passage kind (repeatable): "
                 "paragraph, table, summary, recommendation, judgment, note."),
    click.option("--year", multiple=True, type=int, help="Only this report year (repeatable)."),
    click.option("--report", multiple=True, help="Only this report id (repeatable)."),
    click.option("--programme", multiple=True,
                 help='Only this programme (repeatable), e.g. "PEEL effectiveness".'),
    click.option("--latest", is_flag=True,
                 help="Only each body's latest report of each programme."),
]


def _with_filters(fn):
    """The filter options, handed to the command as one `filters` argument."""

    @functools.wraps(fn)
    def wrapper(*a, **kw):
        from retrieval.answer import Filters

        v = {k: kw.pop(k) for k in _FILTER_ARGS}
        kw["filters"] = Filters(
            report_ids=tuple(v["report"]), forces=tuple(v["force"]), years=tuple(v["year"]),
            section=v["section"] or None, kinds=tuple(v["kind"]),
            programmes=tuple(v["programme"]), latest_only=bool(v["latest"]))
        return fn(*a, **kw)

    for opt in reversed(_filter_options):
        wrapper = opt(wrapper)
    return wrapper


@main.command()
@click.argument("question", required=False)
@click.option("--top-k", default=5, show_default=True, type=click.IntRange(1, 100),
              help="Passages to return (1-100).")
@click.option("--json", "as_json", is_flag=True,
              help='Machine-readable reply, whose "kind" says whether it is an answer or '
                   'a comparison (docs/cli.md, "Machine-readable answers").')
@click.option("--batch", type=click.File("r", encoding="utf-8"),
              help='Questions, one a line (plain text or JSONL {"id", "question"}, with '
                   '"history": [earlier questions] for a turn of a conversation), from '
                   'a file or `-` for standard input: the model loads once, and each '
                   'answer is written (and flushed) as its question arrives.')
@click.option("--index", "index_dir", type=click.Path(path_type=Path))
@_with_filters
@_friendly
def ask(question, top_k, as_json, batch, index_dir, filters) -> None:
    """Answer QUESTION with cited passages (or say no passage answers it); a question
    asked across reports ("compare … across the forces") gets the comparison, as in
    the app and `reportqa compare`. With --json, "kind" says which it gave."""
    from retrieval.respond import respond

    if not question and not batch:
        raise click.UsageError("give a QUESTION or --batch FILE.jsonl")
    searcher = _searcher(index_dir)
    _check_filters(searcher, filters)
    if batch:
        settled = False
        for q in _batch_questions(batch):
            if "error" in q:
                _say(q["error"], err=True)
                continue
            # A line with "history" is a turn of a conversation: read the way the app
            # reads it (Searcher.ask, through respond, decides whether it leans on
            # the last turn).
            reply = respond(searcher, q["question"], top_k=top_k, filters=filters,
                            qid=q.get("id"), history=q.get("history"))
            if not settled:  # what the first answer loaded stays out of full GC passes
                searcher.settle()
                settled = True
            if as_json:
                click.echo(json.dumps(reply.to_dict(), ensure_ascii=False))
            else:
                click.echo(f"\n## {q.get('id')}: {q['question']}")
                _print_reply(reply)
            sys.stdout.flush()
        return
    from retrieval.query import MAX_QUESTION_CHARS, cut_question

    question, was_cut = cut_question(question)
    if was_cut:
        _say(f"note: the question was cut to its first {MAX_QUESTION_CHARS:,} characters",
             err=True)
    reply = respond(searcher, question, top_k=top_k, filters=filters)
    if as_json:
        click.echo(json.dumps(reply.to_dict(), ensure_ascii=False, indent=2))
    else:
        _print_reply(reply)


def _batch_questions(stream):
    """Questions from a --batch stream as they arrive: a JSON object with "question"
    (and "id", and "history": the conversation's earlier questions, oldest first), or a
    line of plain text (its id is its line number). A bad line gives an error entry and
    the rest go on."""
    from retrieval.query import cut_question

    for n, line in enumerate(stream, 1):
        line = line.strip()
        if not line:
            continue
        if line.startswith("{"):
            try:
                q = json.loads(line)
                text = q["question"]
                if not isinstance(text, str):
                    raise TypeError
            except (ValueError, KeyError, TypeError):
                yield {"error": f"{stream.name}:{n}: not a JSON object with a \"question\" "
                                "— write one question a line, as text or JSONL"}
                continue
            history = q.get("history")
            if history is not None and (not isinstance(history, list) or not all(
                    isinstance(h, str) for h in history)):
                yield {"error": f"{stream.name}:{n}: \"history\" is not a list of questions "
                                "— write the conversation's earlier questions as a JSON "
                                "list of strings, oldest first"}
                continue
            yield {**q, "question": cut_question(text)[0], "id": q.get("id", str(n)),
                   "history": [cut_question(h)[0] for h in history or ()]}
        else:
            yield {"id": str(n), "question": cut_question(line)[0]}


@main.command()
@click.argument("question")
@click.option("--format", "fmt", type=click.Choice(list(FORMATS)), default="csv",
              show_default=True)
@click.option("-o", "--output", type=click.Path(path_type=Path),
              help="File or folder to write (default: a name with the date, the question "
                   "and the passage count).")
@click.option("--top-k", default=5, show_default=True, type=click.IntRange(1, 100))
@click.option("--index", "index_dir", type=click.Path(path_type=Path))
@_with_filters
@_friendly
def export(question, fmt, output, top_k, index_dir, filters) -> None:
    """Answer QUESTION and write its cited passages as an export file (--format); a
    question asked across reports writes the comparison's rows, as `ask` answers it."""
    from retrieval.export import comparison_rows, export_filename, export_rows, render
    from retrieval.respond import respond

    searcher = _searcher(index_dir)
    _check_filters(searcher, filters)
    reply = respond(searcher, question, top_k=top_k, filters=filters)
    build_id = searcher.store.build_id
    rows = (comparison_rows(reply.comparison, build_id=build_id) if reply.comparison
            else export_rows([reply.answer], build_id=build_id))
    data = render(rows, fmt)
    if output is None or output.is_dir():
        output = (output or Path(".")) / export_filename(rows, fmt, topic=question)
    output.write_bytes(data)
    click.echo(f"wrote {len(reply.answer.hits)} passages to {output}")


@main.command()
@click.argument("question")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable comparison (docs/cli.md).")
@click.option("--format", "fmt", type=click.Choice(list(FORMATS)),
              help="Also write the rows as an export file.")
@click.option("-o", "--output", type=click.Path(path_type=Path),
              help="Export file or folder (with --format).")
@click.option("--index", "index_dir", type=click.Path(path_type=Path))
@_with_filters
@_friendly
def compare(question, as_json, fmt, output, index_dir, filters) -> None:
    """Answer QUESTION across reports: one row per report (in the filters, and the
    bodies, years and programme the question names), with that report's answering
    passage, its figure and, for questions about grades, its graded judgment."""
    searcher = _searcher(index_dir)
    _check_filters(searcher, filters)
    c = searcher.compare(question, filters=filters)
    if as_json:
        click.echo(json.dumps(c.to_dict(), ensure_ascii=False, indent=2))
    else:
        _print_comparison(c)
    if fmt:
        from retrieval.export import comparison_rows, render, safe_filename

        data = render(comparison_rows(c), fmt)
        if output is None or output.is_dir():
            output = (output or Path(".")) / safe_filename("compare " + question, fmt)
        output.write_bytes(data)
        _say(f"wrote {len(c.answering)} rows to {output}", err=as_json)


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Address to bind. Keep localhost unless behind an authenticating proxy.")
@click.option("--port", default=8501, show_default=True, type=int)
def serve(host: str, port: int) -> None:
    """Start the web app (Streamlit) on http://HOST:PORT."""
    import os

    app = Path(__file__).resolve().parent / "app.py"
    cmd = [sys.executable, "-m", "streamlit", "run", str(app), "--server.address", host,
           "--server.port", str(port), "--server.headless", "true",
           "--browser.gatherUsageStats", "false", "--server.fileWatcherType", "none",
           "--client.toolbarMode", "minimal"]
    click.echo(f"reportqa: serving on http://{host}:{port} (Ctrl-C to stop)")
    sys.stdout.flush()
    # Become the server process, so signals (Ctrl-C, SIGTERM) reach Streamlit itself.
    os.execv(sys.executable, cmd)


if __name__ == "__main__":  # pragma: no cover
    main()
