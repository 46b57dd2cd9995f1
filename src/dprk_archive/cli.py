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
