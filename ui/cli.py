"""The `reportqa` command line: ingest, index build/status/passages, ask, eval,
export, serve. Thin: the work is in ingest/ and retrieval/. A user mistake prints one
clear line and exits non-zero, never a traceback."""

from __future__ import annotations

import functools
import json
import logging
import sys
from pathlib import Path

import click

from ingest.errors import ReportQAError
from ingest.settings import load_settings


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
@_friendly
def index_build(corpus, index_dir, full, model, wait, as_json) -> None:
    """Build or update the index (incremental; atomic swap).

    Exit status: 0 all files indexed; 3 index built but some files failed;
    4 nothing usable was built; 5 another build holds the lock; 2 other errors."""
    from ingest.errors import BuildLocked
    from ingest.index import EXIT_LOCKED, build_index

    s = load_settings(corpus_dir=corpus, index_dir=index_dir, model=model)
    try:
        summary = build_index(s, full=full, wait_s=wait)
    except BuildLocked as e:
        click.echo(f"error: {e.line()}", err=True)
        sys.exit(EXIT_LOCKED)
    if as_json:
        click.echo(json.dumps(summary.to_dict(), indent=2))
    else:
        for f in summary.failed:
            click.echo(f"failed: {f['reason']}", err=True)
        for d in summary.duplicates:
            click.echo(f"duplicate: {d['file']} has the same content as {d['same_as']} "
                       "— indexed once; remove one copy", err=True)
        if summary.up_to_date:
            click.echo(f"index up to date ({len(summary.unchanged)} reports unchanged, "
                       f"build {summary.build_id}, {summary.seconds:.1f} s)")
        else:
            click.echo(
                f"built {summary.build_id or '(nothing)'} in {s.index_dir}: "
                f"{len(summary.added)} added, {len(summary.changed)} changed, "
                f"{len(summary.unchanged)} unchanged, {len(summary.removed)} removed, "
                f"{len(summary.failed)} failed; {summary.passages} passages "
                f"({summary.embedded} texts embedded, {summary.reused_vectors} reused) "
                f"in {summary.seconds:.1f} s")
        if summary.passages == 0:
            click.echo("error: nothing usable was indexed — add readable reports to "
                       f"{s.corpus_dir}", err=True)
    sys.exit(summary.exit_status)


def _open_store(index_dir: Path | None):
    from retrieval.store import Store

    return Store(load_settings(index_dir=index_dir).index_dir)


@index.command("status")
@click.option("--index", "index_dir", type=click.Path(path_type=Path))
@click.option("--json", "as_json", is_flag=True)
@_friendly
def index_status(index_dir, as_json) -> None:
    """Where the index is, what it holds, and the last build's failures."""
    st = _open_store(index_dir).status()
    if as_json:
        click.echo(json.dumps(st.__dict__, indent=2))
        return
    click.echo(f"index: {st.index_dir}\nbuild: {st.build_id} at {st.built_at} "
               f"({st.seconds:.1f} s)\nmodel: {st.model} ({st.dimension}-d), "
               f"FAISS {st.faiss.get('type')}\npassages: {st.passages} in "
               f"{len(st.reports)} reports")
    for r in st.reports:
        click.echo(f"  {r['report_id']}: {r['force']} — {r['title']} ({r['year']}), "
                   f"{r['pages']} pages, {r['passages']} passages [{r['source_file']}]")
    for f in st.failures:
        click.echo(f"  last build failed: {f['reason']}")
    for d in st.duplicates:
        click.echo(f"  duplicate skipped: {d['file']} (same as {d['same_as']})")


@index.command("passages")
@click.option("--index", "index_dir", type=click.Path(path_type=Path))
@click.option("--report", "report_id", help="Only this report id.")
@click.option("--jsonl", is_flag=True)
@_friendly
def index_passages(index_dir, report_id, jsonl) -> None:
    """Dump the indexed passages, for audit."""
    store = _open_store(index_dir)
    for p in store.iter_passages(report_id):
        if jsonl:
            click.echo(json.dumps({**p.to_dict(), "citation": p.citation}, ensure_ascii=False))
        else:
            click.echo(f"{p.passage_id} [{p.kind}] {p.citation}\n  {p.text[:200]}")


if __name__ == "__main__":  # pragma: no cover
    main()
