"""The command line: the only place that knows the order of the pipeline's stages."""

from __future__ import annotations

import json
import sys

import click

from . import __version__

DEFAULT_WORK_DB = "build/work.db"


@click.group()
@click.version_option(__version__, prog_name="dprk-archive")
def cli():
    """An open, versioned archive of North Korean state media in English.

    Crawl the outlets into a working database that keeps every version of every article,
    then build and serve a read-only Datasette site from it.
    """


@cli.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=8765, show_default=True, type=int, help="Port to listen on.")
@click.option("--day", default=0, show_default=True, type=click.IntRange(min=0), help="Day of the site's evolution to serve.")
@click.option("--articles", default=300, show_default=True, type=click.IntRange(min=1), help="Articles on day 0.")
@click.option("--seed", default=1, show_default=True, type=int, help="Seed for the synthetic content.")
def mirror(host, port, day, articles, seed):
    """Serve an offline mirror of the Voice of Korea English site (synthetic sample data).

    Ground truth for checking a crawl is at /_mirror/truth.json, request counts at /_mirror/stats.json.
    """
    from .mirror.server import serve_mirror

    serve_mirror(host=host, port=port, day=day, articles=articles, seed=seed)


@cli.command()
@click.argument("file", type=click.File("rb"))
@click.option("--url", required=True, help="The URL the page was fetched from (decides the parser).")
@click.option("--content-type", default=None, help="The Content-Type header the page came with, if known.")
def parse(file, url, content_type):
    """Parse one saved page and print the article as JSON."""
    from .enrich import enrich_article
    from .parse import ParseError, parse_page

    try:
        record = parse_page(file.read(), url, content_type)
    except ParseError as error:
        raise click.ClickException(str(error)) from error
    if hasattr(record, "body"):
        record = enrich_article(record)
    click.echo(json.dumps(_record_json(record), ensure_ascii=False, indent=2))


def _record_json(record) -> dict:
    from dataclasses import asdict

    return asdict(record)


@cli.command()
def regions():
    """Read text on stdin and print the regions (first-level divisions) it speaks of, as JSON."""
    from .enrich import find_regions

    click.echo(json.dumps(find_regions(sys.stdin.read()), ensure_ascii=False))


@cli.command()
@click.option("--db", "db_path", default=DEFAULT_WORK_DB, show_default=True, help="Working database to update.")
@click.option("--base-url", default="http://vok.rep.kp", show_default=True, help="Site to crawl (the real one, or a mirror).")
@click.option("--delay", default=1.0, show_default=True, type=click.FloatRange(min=0), help="Seconds between requests to one site.")
@click.option("--all", "walk_all", is_flag=True, help="Walk every listing page to the end instead of stopping at known articles.")
@click.option("--recheck", default=0, show_default=True, type=click.IntRange(min=0), help="Revisit the N least recently checked known items to catch edits and removals.")
@click.option("--max-requests", default=None, type=click.IntRange(min=1), help="Stop after this many HTTP requests.")
@click.option("--proxy", envvar="DPRK_ARCHIVE_PROXY", default=None, help="HTTP proxy for every request (env DPRK_ARCHIVE_PROXY).")
@click.option("--silent", is_flag=True, help="No progress on stderr (the summary is still printed).")
def crawl(db_path, base_url, delay, walk_all, recheck, max_requests, proxy, silent):
    """Crawl Voice of Korea into the working database, keeping every version of every article.

    Listings are walked newest first and each walk stops after a few articles already in the
    archive (unless --all). Exits non-zero only when nothing could be fetched or most fetches failed.
    """
    from pathlib import Path

    from .crawl import Crawler
    from .fetch import PoliteClient
    from .load import open_working_db

    Path(db_path).parent.mkdir(parents=True, exist_ok=True)
    db = open_working_db(db_path)
    progress = None if silent else (lambda message: click.echo(message, err=True))
    with PoliteClient(delay=delay, proxy=proxy) as client:
        summary = Crawler(db, client, base_url, walk_all=walk_all, recheck=recheck, max_requests=max_requests,
                          progress=progress).run()
    click.echo(summary.line(), err=True)
    if summary.failed:
        raise click.ClickException(f"crawl of {base_url} failed: nothing could be fetched or most fetches failed")


@cli.command()
@click.option("--db", "db_path", default=DEFAULT_WORK_DB, show_default=True, help="Working database to re-derive.")
@click.option("--silent", is_flag=True, help="No progress on stderr (the summary is still printed).")
def reparse(db_path, silent):
    """Re-derive every article from the stored raw pages, without the network, and report what changed."""
    from pathlib import Path

    from .load import open_working_db
    from .reparse import reparse_database

    if not Path(db_path).exists():
        raise click.ClickException(f"no working database at {db_path}: run `dprk-archive crawl` first")
    db = open_working_db(db_path)
    progress = None if silent else (lambda message: click.echo(message, err=True))
    report = reparse_database(db, progress)
    click.echo(report.line())
    for error in report.errors[:20]:
        click.echo(f"  {error}", err=True)


DEFAULT_PUBLISHED_DB = "build/dprk-archive.db"


@cli.command()
@click.option("--db", "db_path", default=DEFAULT_WORK_DB, show_default=True, help="Working database to read.")
@click.option("--out", "out_path", default=DEFAULT_PUBLISHED_DB, show_default=True, help="Published file to write.")
@click.option("--allow-shrink", is_flag=True, help="Publish even if a table has fewer rows than in the last build.")
@click.option("--silent", is_flag=True, help="No progress on stderr (the result line is still printed).")
def build(db_path, out_path, allow_shrink, silent):
    """Build the published database from the working one: public tables, search, indexes, checks.

    The new file is built beside the old one, checked, and moved into place in one step; a dated
    copy and its SHA256SUMS line go to releases/ next to it.
    """
    from .build import BuildError, build_database

    progress = None if silent else (lambda message: click.echo(message, err=True))
    try:
        result = build_database(db_path, out_path, allow_shrink=allow_shrink, progress=progress)
    except BuildError as error:
        raise click.ClickException(str(error)) from error
    click.echo(f"{result.path} {result.version} {result.size} bytes sha256 {result.sha256}")


@cli.command()
@click.option("--db", "db_path", default=DEFAULT_PUBLISHED_DB, show_default=True, help="Published file to serve.")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=8001, show_default=True, type=int, help="Port to listen on.")
def serve(db_path, host, port):
    """Serve the published database with Datasette: read-only, immutable, with the site's pages."""
    from pathlib import Path

    from .serve import exec_datasette

    if not Path(db_path).is_file():
        raise click.ClickException(f"No published database at {db_path}: run `dprk-archive build` first, or pass --db.")
    exec_datasette(db_path, host, port)


@cli.command()
@click.option("--articles", required=True, type=click.IntRange(min=1), help="Items on the mirror's day 0 (about 85% are text articles, the rest video and audio).")
@click.option("--db", "db_path", default=DEFAULT_WORK_DB, show_default=True, help="Working database to create (must not exist).")
@click.option("--seed", default=1, show_default=True, type=int, help="Seed for the synthetic content (as for `mirror`).")
@click.option("--workers", default=None, type=click.IntRange(min=1), help="Processes rendering and parsing pages (default: CPUs, at most 4).")
@click.option("--silent", is_flag=True, help="No progress on stderr (the summary is still printed).")
def generate(articles, db_path, seed, workers, silent):
    """Write a working database of the offline mirror's day 0 without the network, raw pages included.

    The result is what `crawl --all` against `dprk-archive mirror --articles N` would store, so that
    `reparse`, `build` and `serve` can be tried and timed at any size.
    """
    from pathlib import Path

    from .generate import generate_database

    if Path(db_path).exists():
        raise click.ClickException(f"{db_path} already exists: remove it or pass another --db")
    progress = None if silent else (lambda message: click.echo(message, err=True))
    summary = generate_database(db_path, articles, seed, workers=workers, progress=progress)
    click.echo(summary.line())


@cli.command()
@click.option("--target", required=True, type=click.Choice(["cloudrun", "fly"]), help="Where to deploy (fly needs the datasette-publish-fly plugin).")
@click.option("--db", "db_path", default=DEFAULT_PUBLISHED_DB, show_default=True, help="Published file to deploy.")
@click.option("--name", default="dprk-archive", show_default=True, help="Cloud Run service or Fly app name.")
@click.option("--dry-run", is_flag=True, help="Print the command instead of running it.")
def publish(target, db_path, name, dry_run):
    """Deploy the published file with `datasette publish`, with exactly the settings `serve` uses.

    The scheduled workflow runs this same command; --dry-run prints it, ready to copy.
    """
    import importlib.util
    import shlex
    import shutil
    from pathlib import Path

    from .publish import PublishError, publish_args, run_publish
    from .release import ReleaseError, dataset_version

    if not Path(db_path).is_file():
        raise click.ClickException(f"No published database at {db_path}: run `dprk-archive build` first, or pass --db.")
    try:
        note = f"dataset {dataset_version(Path(db_path))}"
    except ReleaseError:
        note = None
    try:
        args = publish_args(db_path, target, name=name, version_note=note)
    except PublishError as error:
        raise click.ClickException(str(error)) from error
    if dry_run:
        click.echo(shlex.join(args))
        return
    if target == "fly" and importlib.util.find_spec("datasette_publish_fly") is None:
        raise click.ClickException("publishing to Fly needs the plugin: pip install datasette-publish-fly")
    tool = {"cloudrun": "gcloud", "fly": "flyctl"}[target]
    if shutil.which(tool) is None:
        raise click.ClickException(f"`{tool}` is not on PATH: install and log in to it first")
    status = run_publish(args)
    if status:
        raise click.ClickException(f"datasette publish {target} failed (exit status {status})")


@cli.command()
@click.option("--db", "db_path", default=DEFAULT_PUBLISHED_DB, show_default=True, help="Published file to release.")
@click.option("--out", "out_dir", default="build/releases", show_default=True, help="Folder for the dated file, SHA256SUMS and CHANGES.")
@click.option("--previous", "previous", default=None, type=click.Path(dir_okay=False), help="Previous release's .db (default: the newest older dated file in --out).")
def release(db_path, out_dir, previous):
    """Make a release: the dated file, SHA256SUMS, and a CHANGES summary since the previous release.

    Prints key=value lines (version, file, sha256, changes, changed=true|false) that a workflow can
    append to $GITHUB_OUTPUT.
    """
    from .release import ReleaseError, make_release

    try:
        result = make_release(db_path, out_dir, previous)
    except ReleaseError as error:
        raise click.ClickException(str(error)) from error
    for line in result.lines():
        click.echo(line)
