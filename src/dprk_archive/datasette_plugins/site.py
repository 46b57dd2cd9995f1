"""The researcher's pages: home (what is inside, charts, download), article (text, versions, diffs, citation).

Scraped text is data: every value from the database reaches HTML through markupsafe escaping (Jinja's
autoescape, or Markup.format here). Nothing in this module marks scraped text as safe.
"""

from __future__ import annotations

import calendar
import difflib
import json
import math
import re
import urllib.parse

from datasette import hookimpl
from datasette.utils import urlsafe_components
from markupsafe import Markup, escape

ARTICLES = "articles"
REGION_ARG = "_region"
# Private-use characters that the ranked-search canned query passes to snippet() as match markers:
# escaped text cannot contain markup, so the highlight is added after escaping, here.
MARK_START, MARK_END = "\ue000", "\ue001"
# A diff of two very long texts is quadratic; past this many words show the versions, not a diff.
MAX_DIFF_WORDS = 30_000

# Keyed by the file's sha256 as well as its name: two Datasette instances in one process (tests,
# or a file rebuilt under the same name) must never see each other's facts.
_cache: dict = {}


async def archive_database(datasette):
    """The published archive database: the first one with a builds table (None if there is none)."""
    for name, db in datasette.databases.items():
        if name.startswith("_"):
            continue
        if await db.table_exists("builds") and await db.table_exists(ARTICLES):
            return db
    return None


async def build_info(datasette) -> dict | None:
    """Facts about the latest build, read once: the file is immutable while served."""
    db = await archive_database(datasette)
    if db is None:
        return None
    key = ("build", db.name, db.hash)
    if key not in _cache:
        row = (await db.execute("select * from builds order by built_at desc, version desc limit 1")).first()
        if row is None:
            return None
        info = dict(row)
        info["coverage"] = json.loads(info["coverage"] or "[]")
        info["row_counts"] = json.loads(info["row_counts"] or "{}")
        info["database"] = db.name
        info["download_url"] = datasette.urls.database(db.name, format="db")
        info["size"] = db.size
        info["sha256"] = db.hash
        info["built_on"] = (info["built_at"] or "")[:10]
        _cache[key] = info
    return _cache[key]


async def home_data(datasette) -> dict | None:
    """Everything the home page shows, computed once per process."""
    info = await build_info(datasette)
    if info is None:
        return None
    key = ("home", info["database"], info["sha256"])
    if key not in _cache:
        db = datasette.get_database(info["database"])
        regions = [dict(r) for r in await db.execute("select name, article_count from regions order by article_count desc, name")]
        months = [
            (r["value"], r["count"])
            for r in await db.execute(
                "select value, count from facet_counts where filter = '' and facet = 'month' order by value"
            )
        ]
        removed = (await db.execute("select count(*) from articles where removed_at is not null")).first()[0]
        edited = (await db.execute("select count(*) from article_versions where version = 2")).first()[0]
        builds = [dict(r) for r in await db.execute("select version, built_at, data_to from builds order by built_at desc limit 5")]
        table = datasette.urls.table(info["database"], ARTICLES)
        _cache[key] = {
            "build": info,
            "articles": info["row_counts"].get(ARTICLES, 0),
            "versions": info["row_counts"].get("article_versions", 0),
            "media": info["row_counts"].get("media", 0),
            "removed": removed,
            "edited": edited,
            "regions": regions,
            "builds": builds,
            "month_chart": month_chart(months, table),
            "region_chart": region_chart(regions, table),
            "articles_url": table,
        }
    return _cache[key]


def _month_range(first: str, last: str) -> list[str]:
    year, month = int(first[:4]), int(first[5:7])
    months = []
    while f"{year:04d}-{month:02d}" <= last:
        months.append(f"{year:04d}-{month:02d}")
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return months


def month_chart(months: list[tuple[str, int]], table_url: str) -> Markup:
    """An inline SVG bar chart of articles per month; each bar links to that month's articles."""
    counts = {m: n for m, n in months if m and re.fullmatch(r"\d{4}-\d{2}", str(m))}
    if not counts:
        return Markup('<p class="chart-empty">No dated articles yet.</p>')
    axis = _month_range(min(counts), max(counts))
    width, height, left, bottom, top = 900, 200, 44, 24, 10
    step = (width - left - 4) / len(axis)
    peak = max(counts.values())
    parts = [
        Markup(
            '<svg class="chart chart-months" viewBox="0 0 {w} {h}" role="img" aria-labelledby="chart-months-title" '
            'xmlns="http://www.w3.org/2000/svg"><title id="chart-months-title">Articles per month, {a} to {b}</title>'
        ).format(w=width, h=height, a=axis[0], b=axis[-1])
    ]
    plot = height - bottom - top
    for tick in sorted({0, peak // 2, peak}):
        y = top + plot - plot * tick / peak
        parts.append(
            Markup('<line class="grid" x1="{x1}" x2="{x2}" y1="{y:.1f}" y2="{y:.1f}"/>'
                   '<text class="tick" x="{tx}" y="{ty:.1f}" text-anchor="end">{n}</text>').format(
                x1=left, x2=width, y=y, tx=left - 4, ty=y + 4, n=f"{tick:,}")
        )
    years_every = max(1, math.ceil(len(axis) / 144))
    for i, month in enumerate(axis):
        n = counts.get(month, 0)
        x = left + i * step
        h = plot * n / peak
        href = f"{table_url}?{urllib.parse.urlencode({'month': month})}"
        parts.append(
            Markup('<a href="{href}"><rect class="bar" x="{x:.1f}" y="{y:.1f}" width="{w:.1f}" height="{h:.1f}">'
                   '<title>{m}: {n} articles</title></rect></a>').format(
                href=href, x=x + step * 0.1, y=top + plot - h, w=max(step * 0.8, 0.5), h=h, m=month, n=f"{n:,}")
        )
        # At most about a dozen labels: years on long ranges, months on short ones.
        if len(axis) > 24:
            show, label = month.endswith("-01") and int(month[:4]) % years_every == 0, month[:4]
        else:
            show, label = i % (1 if len(axis) <= 12 else 3) == 0, f"{calendar.month_abbr[int(month[5:])]} {month[:4]}"
        if show:
            parts.append(
                Markup('<text class="tick" x="{x:.1f}" y="{y}" text-anchor="middle">{t}</text>').format(
                    x=x + step / 2, y=height - 6, t=label)
            )
    parts.append(Markup("</svg>"))
    return Markup("").join(parts)


def region_chart(regions: list[dict], table_url: str) -> Markup:
    """An inline SVG horizontal bar chart of articles per region; each label links to the filtered list."""
    if not regions:
        return Markup('<p class="chart-empty">No regions yet.</p>')
    row, left, width = 24, 150, 900
    height = row * len(regions) + 8
    peak = max(r["article_count"] for r in regions) or 1
    parts = [
        Markup(
            '<svg class="chart chart-regions" viewBox="0 0 {w} {h}" role="img" aria-labelledby="chart-regions-title" '
            'xmlns="http://www.w3.org/2000/svg"><title id="chart-regions-title">Articles per region</title>'
        ).format(w=width, h=height)
    ]
    for i, region in enumerate(regions):
        y = 4 + i * row
        bar = (width - left - 90) * region["article_count"] / peak
        href = f"{table_url}?{urllib.parse.urlencode({REGION_ARG: region['name']})}"
        parts.append(
            Markup('<a href="{href}"><text class="label" x="{lx}" y="{ty}" text-anchor="end">{name}</text>'
                   '<rect class="bar" x="{x}" y="{y}" width="{w:.1f}" height="{h}"><title>{name}: {n} articles</title></rect>'
                   '<text class="count" x="{cx:.1f}" y="{ty}">{n}</text></a>').format(
                href=href, lx=left - 8, ty=y + row * 0.65, name=region["name"], x=left, y=y + 3, w=max(bar, 1),
                h=row - 6, n=f"{region['article_count']:,}", cx=left + max(bar, 1) + 6)
        )
    parts.append(Markup("</svg>"))
    return Markup("").join(parts)


_TOKENS = re.compile(r"\n\s*\n|\S+")


def _tokens(text: str | None) -> list[str]:
    return ["\n\n" if t.startswith("\n") else t for t in _TOKENS.findall(text or "")]


def _join(tokens: list[str]) -> str:
    out = ""
    for token in tokens:
        if token == "\n\n":
            out = out.rstrip(" ") + "\n\n"
        else:
            out += token + " "
    return out


def word_diff(old: str | None, new: str | None) -> Markup:
    """A word-level diff of two texts as escaped HTML with <del> and <ins>; paragraph breaks kept as newlines."""
    a, b = _tokens(old), _tokens(new)
    if len(a) + len(b) > MAX_DIFF_WORDS:
        return Markup("<del>{}</del><ins>{}</ins>").format(_join(a), _join(b))
    parts = []
    # autojunk off: in long texts it would treat common words ("the") as junk and misalign the diff.
    for op, i1, i2, j1, j2 in difflib.SequenceMatcher(None, a, b, autojunk=False).get_opcodes():
        if op == "equal":
            parts.append(escape(_join(a[i1:i2])))
            continue
        if i2 > i1:
            parts.append(Markup("<del>{}</del> ").format(_join(a[i1:i2]).rstrip(" ")))
        if j2 > j1:
            parts.append(Markup("<ins>{}</ins> ").format(_join(b[j1:j2]).rstrip(" ")))
    return Markup("").join(parts)


def diff_counts(old: str | None, new: str | None) -> tuple[int, int]:
    """Words removed and added between two texts."""
    a, b = _tokens(old), _tokens(new)
    removed = added = 0
    for op, i1, i2, j1, j2 in difflib.SequenceMatcher(None, a, b, autojunk=False).get_opcodes():
        if op != "equal":
            removed += i2 - i1
            added += j2 - j1
    return removed, added


def paragraphs(text: str | None) -> list[str]:
    """The body's paragraphs (separated by blank lines), stripped, empty ones dropped."""
    return [p.strip() for p in re.split(r"\n\s*\n", text or "") if p.strip()]


def safe_http_url(url: str | None) -> str | None:
    """The URL if it is plain http(s), else None: a scraped javascript: URL must never become a link."""
    if url and urllib.parse.urlsplit(url.strip()).scheme.lower() in ("http", "https"):
        return url.strip()
    return None


async def article_data(datasette, request, database: str) -> dict | None:
    """The article page's content: row, paragraphs, regions, versions with diffs, citation."""
    db = datasette.get_database(database)
    (article_id,) = urlsafe_components(request.url_vars["pks"])
    row = (await db.execute("select * from articles where id = ?", [article_id])).first()
    if row is None:
        return None
    article = dict(row)
    text = (await db.execute("select body from article_texts where article_id = ?", [article_id])).first()
    body = text["body"] if text else ""
    versions = [dict(v) for v in await db.execute(
        "select * from article_versions where article_id = ? order by version", [article_id])]
    for previous, version in zip([None] + versions, versions):
        version["full_text"] = "\n\n".join(p for p in (version["title"], version["subtitle"], version["body"]) if p)
        if previous is not None:
            version["diff"] = word_diff(previous["full_text"], version["full_text"])
            version["removed_words"], version["added_words"] = diff_counts(previous["full_text"], version["full_text"])
    regions = [r["region"] for r in await db.execute(
        "select region from article_regions where article_id = ? order by region", [article_id])]
    info = await build_info(datasette)
    archive_url = datasette.absolute_url(request, datasette.urls.row(database, ARTICLES, request.url_vars["pks"]))
    current = versions[-1] if versions else {}
    table_url = datasette.urls.table(database, ARTICLES)
    return {
        **article,
        "paragraphs": paragraphs(body),
        "source_url": safe_http_url(article["url"]),
        "regions_list": [
            {"name": r, "url": f"{table_url}?{urllib.parse.urlencode({REGION_ARG: r})}"} for r in regions
        ],
        "versions": versions,
        "history_url": datasette.urls.query(database, "article_history") + "?" + urllib.parse.urlencode({"id": article_id}),
        "cite": {
            "title": article["title"],
            "outlet": article["outlet"],
            "published": article["published"] or article["published_raw"] or "undated",
            "archive_url": archive_url,
            "original_url": article["url"],
            "retrieved": (current.get("seen_last") or article["last_seen"] or "")[:10],
            "text_hash": article["text_hash"],
            "version": info["version"] if info else None,
        },
    }


async def searchable_tables(datasette) -> list[dict]:
    """Tables with full-text search: found the way datasette-search-all does, or by a TABLE_fts beside them."""
    tables = []
    for name, db in datasette.databases.items():
        if name.startswith("_"):
            continue
        hidden = set(await db.hidden_table_names())
        for table in await db.table_names():
            if table in hidden or table.endswith("_fts"):
                continue
            if await db.table_exists(f"{table}_fts") or await db.fts_table(table):
                tables.append(
                    {
                        "database": name,
                        "table": table,
                        "url": datasette.urls.table(name, table),
                        "url_json": datasette.urls.table(name, table, format="json"),
                    }
                )
    return tables


@hookimpl
def extra_template_vars(template, database, table, view_name, request, datasette):
    """Build facts on every page; home, article and search-all data on their pages."""

    async def inner():
        context = {"archive_build": await build_info(datasette)}
        if template == "index.html":
            context["home"] = await home_data(datasette)
        elif view_name == "row" and table == ARTICLES and request is not None:
            archive = await archive_database(datasette)
            if archive is not None and archive.name == database:
                context["article"] = await article_data(datasette, request, database)
        elif template == "search_all.html":
            # datasette-search-all only finds FTS tables whose content= is the table itself; the
            # articles index reads its text through a view (articles_fts, searched by facets.py).
            tables = await searchable_tables(datasette)
            context["searchable_tables"] = tables
            context["searchable_tables_json"] = Markup(json.dumps(tables, indent=4).replace("<", "\\u003c"))
        return context

    return inner


@hookimpl
def render_cell(value, column, table, database, datasette):
    """Regions as links, search snippets with the match marked, article ids in queries as links."""
    if not isinstance(value, str):
        return None
    if column == "snippet" and table is None:
        return highlight(value)
    if column == "regions" and value.startswith("["):
        try:
            names = json.loads(value)
        except ValueError:
            return None
        if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
            return None
        if not names:
            return Markup('<span class="none">none</span>')
        table_url = datasette.urls.table(database, ARTICLES)
        return Markup(", ").join(
            Markup('<a href="{}">{}</a>').format(f"{table_url}?{urllib.parse.urlencode({REGION_ARG: n})}", n)
            for n in names
        )
    if column == "article_id" and table is None:
        return Markup('<a href="{}">{}</a>').format(datasette.urls.row(database, ARTICLES, _tilde(value)), value)
    return None


def _tilde(value: str) -> str:
    from datasette.utils import tilde_encode

    return tilde_encode(value)


def highlight(snippet: str) -> Markup:
    """Escape a snippet, then turn its match markers into <mark> elements."""
    out, open_mark = [], False
    for piece in re.split(f"([{MARK_START}{MARK_END}])", snippet):
        if piece == MARK_START and not open_mark:
            out.append(Markup("<mark>"))
            open_mark = True
        elif piece == MARK_END and open_mark:
            out.append(Markup("</mark>"))
            open_mark = False
        elif piece not in (MARK_START, MARK_END):
            out.append(escape(piece))
    if open_mark:
        out.append(Markup("</mark>"))
    return Markup("").join(out)


@hookimpl
def extra_css_urls(datasette):
    """The site's stylesheet, served from the local static mount (no CDN)."""
    return [datasette.urls.path("/assets/site.css")]
