"""The scale benchmark (scripts/bench): rebuild rate, build time and memory, served latency, crawl requests.

Every timing is repeated and reported as median and p95, with its baseline measured in the same run
so that ratios hold on a noisy machine:

- rebuild (reparse) rate beside the parse-only rate (parse.parse_page, and bare lxml) and SQLite
  executemany on the same rows;
- `dprk-archive build` as a subprocess: wall time and peak RSS (os.wait4);
- served latency over loopback of `dprk-archive serve` beside plain `datasette` on a stock layout
  (one table, regions as a JSON array, `_facet_array` / `_facet_date`, default settings), and
  each server's peak RSS (VmHWM);
- requests spent by an incremental crawl day against the offline mirror.

A rate's p95 is the rate of the 95th-percentile (slow) chunk: 95% of chunks went at least this fast.
The data is generated once per size into build/bench/N/ (generate.py) and reused by later runs.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
import zlib
from contextlib import ExitStack, contextmanager
from datetime import datetime, timezone
from pathlib import Path
from urllib.parse import urlencode

import httpx

ROOT = Path(__file__).resolve().parents[2]
CHUNK = 1000  # articles per sample of a rate
SAMPLE = 20000  # articles the parse-only and executemany baselines read, spread over the archive


def say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def summarize(values: list[float]) -> dict:
    """Median, p95 and count of repeated measurements."""
    ordered = sorted(values)
    p95 = ordered[max(0, -(-len(ordered) * 95 // 100) - 1)]
    return {"median": statistics.median(ordered), "p95": p95, "n": len(ordered)}


def rate_summary(chunk_seconds: list[tuple[int, float]]) -> dict:
    """Articles/s from (articles, seconds) chunks: median, and p95 as the rate of the slow 95th-percentile chunk."""
    rates = sorted(count / seconds for count, seconds in chunk_seconds)
    slow = rates[max(0, len(rates) - -(-len(rates) * 95 // 100))]
    return {"median": statistics.median(rates), "p95": slow, "n": len(rates)}


def dprk_archive_command() -> list[str]:
    return [sys.executable, "-c", "import sys; from dprk_archive.cli import cli; sys.exit(cli())"]


# --- data -------------------------------------------------------------------------------------------


def prepare_work_db(folder: Path, articles: int, seed: int) -> dict | None:
    """The generated working DB of this size, generated now if missing; returns the generate figures if it ran."""
    from .generate import generate_database

    work = folder / "work.db"
    if work.exists():
        say(f"reusing {work}")
        return None
    partial = folder / "work.db.partial"
    for leftover in folder.glob("work.db.partial*"):
        leftover.unlink()
    say(f"generating {articles} mirror items into {work}")
    summary = generate_database(partial, articles, seed, progress=None)
    os.replace(partial, work)
    (folder / "stock.db").unlink(missing_ok=True)  # derived from the old data
    return {"articles": summary.articles, "seconds": summary.seconds,
            "articles_per_s": summary.articles / summary.seconds}


# --- rebuild --------------------------------------------------------------------------------------


def measure_rebuild(work: Path, runs: int) -> dict:
    """reparse's rate from its own progress ticks (every 1000 versions), or whole runs on small archives."""
    from . import load
    from .reparse import reparse_database

    chunks: list[tuple[int, float]] = []
    changed = 0
    for _ in range(runs):
        db = load.open_working_db(str(work))
        ticks = [time.perf_counter()]
        report = reparse_database(db, lambda message: ticks.append(time.perf_counter()))
        ticks.append(time.perf_counter())
        db.conn.close()
        changed += report.changed_versions + len(report.errors)
        if report.versions >= 5 * CHUNK:
            chunks += [(CHUNK, b - a) for a, b in zip(ticks, ticks[1:-1])]
        else:
            chunks.append((report.versions, ticks[-1] - ticks[0]))
    return {"articles_per_s": rate_summary(chunks), "changed_versions": changed}


def sample_pages(work: Path, limit: int) -> list[tuple]:
    """Up to `limit` stored article pages spread over the archive: (url, content_type, compressed body)."""
    conn = sqlite3.connect(f"file:{work}?mode=ro", uri=True)
    try:
        (total,) = conn.execute("select count(*) from article_versions").fetchone()
        step = max(1, total // limit)
        return conn.execute(
            """select p.url, p.content_type, b.body from article_versions v
               join page_bodies b on b.sha256 = v.page_sha256
               join pages p on p.id = (select min(id) from pages where item_id = v.article_id)
               where v.id % ? = 0 limit ?""",
            [step, limit],
        ).fetchall()
    finally:
        conn.close()


def measure_parse_only(pages: list[tuple], rounds: int) -> dict:
    """parse.parse_page alone (decompress + parse), and lxml's HTML parse alone, on the same stored pages."""
    import lxml.html

    from .parse import parse_page

    parse_chunks, lxml_chunks = [], []
    for _ in range(rounds):
        for start in range(0, len(pages), CHUNK):
            chunk = pages[start : start + CHUNK]
            began = time.perf_counter()
            for url, content_type, body in chunk:
                parse_page(zlib.decompress(body), url, content_type)
            parse_chunks.append((len(chunk), time.perf_counter() - began))
            began = time.perf_counter()
            for url, content_type, body in chunk:
                lxml.html.document_fromstring(zlib.decompress(body))
            lxml_chunks.append((len(chunk), time.perf_counter() - began))
    return {"parse_only_per_s": rate_summary(parse_chunks), "lxml_only_per_s": rate_summary(lxml_chunks)}


def measure_executemany(work: Path, folder: Path, limit: int, rounds: int) -> dict:
    """SQLite executemany of the same article rows (articles, versions, regions) into an empty copy of the schema."""
    from . import load

    src = sqlite3.connect(f"file:{work}?mode=ro", uri=True)
    try:
        (total,) = src.execute("select count(*) from articles").fetchone()
        step = max(1, total // limit)
        articles = src.execute("select * from articles where rowid % ? = 0 limit ?", [step, limit]).fetchall()
        ids = [row[0] for row in articles]
        versions, regions = [], []
        for start in range(0, len(ids), 500):
            marks = ",".join("?" * len(ids[start : start + 500]))
            versions += src.execute(f"select * from article_versions where article_id in ({marks})", ids[start : start + 500]).fetchall()
            regions += src.execute(f"select * from article_regions where article_id in ({marks})", ids[start : start + 500]).fetchall()
    finally:
        src.close()
    by_article_v = {}
    for row in versions:
        by_article_v.setdefault(row[1], []).append(row[:11] + (None,))  # the page row is not copied
    by_article_r = {}
    for row in regions:
        by_article_r.setdefault(row[0], []).append(row)
    chunks = []
    for _ in range(rounds):
        target = folder / "executemany.db"
        for leftover in folder.glob("executemany.db*"):
            leftover.unlink()
        db = load.open_working_db(str(target))
        conn = db.conn
        conn.execute("PRAGMA foreign_keys=OFF")
        for start in range(0, len(articles), CHUNK):
            chunk = articles[start : start + CHUNK]
            began = time.perf_counter()
            with conn:
                conn.executemany(f"insert into articles values ({','.join('?' * len(chunk[0]))})", chunk)
                conn.executemany("insert into article_versions values (?,?,?,?,?,?,?,?,?,?,?,?)",
                                 [v for row in chunk for v in by_article_v.get(row[0], [])])
                conn.executemany("insert into article_regions values (?,?)",
                                 [r for row in chunk for r in by_article_r.get(row[0], [])])
            chunks.append((len(chunk), time.perf_counter() - began))
        conn.close()
        for leftover in folder.glob("executemany.db*"):
            leftover.unlink()
    return {"executemany_per_s": rate_summary(chunks)}


# --- build ----------------------------------------------------------------------------------------


# A child forked from this process starts with this process's pages counted in its high-water mark,
# which Linux keeps across exec: after generate and reparse, wait4 on a build started from here reported
# this process's size (630 MB) instead of the build's (55 MB). A small launcher starts the build instead;
# wait4's usage covers the build and the children it waited for (datasette inspect).
PEAK_LAUNCHER = """
import os, subprocess, sys
process = subprocess.Popen(sys.argv[1:], stdout=subprocess.DEVNULL)
_, status, usage = os.wait4(process.pid, 0)
print(usage.ru_maxrss, os.waitstatus_to_exitcode(status))
"""


def measure_build(work: Path, folder: Path, runs: int) -> tuple[dict, Path]:
    """`dprk-archive build` from scratch as a subprocess, `runs` times: wall seconds and peak RSS (MB)."""
    seconds, peaks = [], []
    site = folder / "site"
    for number in range(runs):
        shutil.rmtree(site, ignore_errors=True)
        site.mkdir(parents=True)
        out = site / "dprk-archive.db"
        began = time.perf_counter()
        launched = subprocess.run(
            [sys.executable, "-c", PEAK_LAUNCHER, *dprk_archive_command(), "build", "--db", str(work),
             "--out", str(out), "--silent"],
            capture_output=True, text=True, check=True)
        seconds.append(time.perf_counter() - began)
        peak_kb, returncode = map(int, launched.stdout.split())
        if returncode != 0:
            raise SystemExit(f"dprk-archive build failed with exit code {returncode}")
        peaks.append(peak_kb / 1024)
        say(f"build {number + 1}/{runs}: {seconds[-1]:.1f} s, peak {peaks[-1]:.0f} MB")
    return {"seconds": summarize(seconds), "peak_rss_mb": summarize(peaks)}, out


def make_stock_db(published: Path, stock: Path) -> None:
    """The same articles as one table with a JSON `regions` array and a plain FTS index: Datasette's stock shape."""
    import sqlite_utils

    if stock.exists():
        return
    partial = stock.with_name(stock.name + ".partial")
    if partial.exists():
        partial.unlink()
    conn = sqlite3.connect(partial)
    conn.execute(f"attach database 'file:{published}?mode=ro&immutable=1' as pub")
    conn.execute(
        """create table articles as
           select a.id, a.title, a.subtitle, a.published, a.outlet, a.category, a.regions, a.url, t.body
           from pub.articles a join pub.article_texts t on t.article_id = a.id order by a.published, a.id"""
    )
    conn.commit()
    conn.execute("detach database pub")
    conn.close()
    db = sqlite_utils.Database(partial)
    db["articles"].transform(pk="id")
    db["articles"].enable_fts(["title", "subtitle", "body"], fts_version="FTS5")
    db["articles"].create_index(["published"])
    db.conn.close()
    os.replace(partial, stock)


# --- serving --------------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def vm_hwm_mb(pid: int) -> float:
    """Peak resident memory of a live process (VmHWM), in MB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no VmHWM for {pid}")


@contextmanager
def server(argv: list[str], port: int, log: Path | None = None):
    """Run a server subprocess until it answers on 127.0.0.1:port; yields (process, base URL).

    Its output goes to `log` (a temporary file if None), never to a pipe: one nobody reads fills up
    and stalls a server that logs every request.
    """
    with ExitStack() as stack:
        if log is None:
            log = Path(stack.enter_context(tempfile.TemporaryDirectory())) / "server.log"
        output = stack.enter_context(open(log, "w"))
        process = subprocess.Popen(argv, stdout=output, stderr=subprocess.STDOUT)
        base = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + 300
            while True:
                if process.poll() is not None:
                    raise SystemExit(f"server exited: {log.read_text()[-2000:]}")
                try:
                    # trust_env=False: no proxy from the environment stands between us and 127.0.0.1.
                    httpx.get(base + "/-/versions.json", timeout=5, trust_env=False)
                    break
                except httpx.HTTPError:
                    if time.monotonic() > deadline:
                        raise SystemExit(f"server on {base} did not start: {log.read_text()[-2000:]}")
                    time.sleep(0.2)
            yield process, base
        finally:
            process.terminate()
            try:
                process.wait(10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def pick_search_word(published: Path) -> str:
    """A word in roughly a tenth of the articles: a realistic search, neither rare nor in every text."""
    conn = sqlite3.connect(f"file:{published}?mode=ro&immutable=1", uri=True)
    try:
        (total,) = conn.execute("select count(*) from articles").fetchone()
        step = max(1, total // 400)
        texts = [row[0] for row in conn.execute("select body from article_texts where rowid % ? = 0 limit 400", [step])]
    finally:
        conn.close()
    frequency: dict[str, int] = {}
    for text in texts:
        for word in {w.strip(".,;:!?\"'()").lower() for w in text.split()}:
            if word.isalpha() and len(word) >= 5:
                frequency[word] = frequency.get(word, 0) + 1
    return min(frequency, key=lambda w: (abs(frequency[w] / len(texts) - 0.1), w))


def page_pairs(article: str, word: str) -> list[tuple[str, str, str | None]]:
    """(figure, our path, the stock layout's path) for every page timed."""
    stock_facets = "_facet_array=regions&_facet_date=published&_facet=outlet&_facet=category&_sort_desc=published"
    ranked_sql = (
        "select a.id, a.published, a.title, a.outlet, a.regions, snippet(articles_fts, -1, '[', ']', ' … ', 32) "
        "as snippet from articles_fts join articles a on a.rowid = articles_fts.rowid "
        "where articles_fts match :q order by rank limit 100"
    )
    search_all_json = f"_shape=objects&_labels=on&_extra=count&_extra=database&_extra=table&_size=5&_search={word}"
    return [
        ("list_with_facets", "/dprk-archive/articles", f"/stock/articles?{stock_facets}"),
        ("region_list_with_facets", "/dprk-archive/articles?_region=Pyongyang",
         f"/stock/articles?regions__arraycontains=Pyongyang&{stock_facets}"),
        ("search_with_facets", f"/dprk-archive/articles?_search={word}", f"/stock/articles?_search={word}&{stock_facets}"),
        ("ranked_search", f"/dprk-archive/search?q={word}&region=&date_from=&date_to=",
         "/stock?" + urlencode({"sql": ranked_sql, "q": word})),
        # /-/search (datasette-search-all) is a page whose script then fetches each table's results:
        # timed as the page plus that fetch, on both servers.
        ("search_all", (f"/-/search?q={word}", f"/dprk-archive/articles.json?{search_all_json}"),
         (f"/-/search?q={word}", f"/stock/articles.json?{search_all_json}")),
        ("article_page", f"/dprk-archive/articles/{article}", f"/stock/articles/{article}"),
        ("download_first_byte", "/dprk-archive.db", "/stock.db"),
    ]


def time_page(client: httpx.Client, url: str | tuple[str, ...], runs: int) -> dict:
    """Median and p95 ms of `runs` GETs after one warm-up; a download is timed to its first body byte,
    a tuple of URLs as one page that fetches the rest after the first."""
    urls = url if isinstance(url, tuple) else (url,)
    samples, status, timed_out = [], None, False
    for attempt in range(runs + 1):
        began = time.perf_counter()
        statuses = []
        for one in urls:
            if one.endswith(".db"):
                with client.stream("GET", one) as response:
                    next(response.iter_raw(1024))
            else:
                response = client.get(one)
                timed_out = timed_out or "These facets timed out" in response.text
            statuses.append(response.status_code)
        elapsed = time.perf_counter() - began
        status = max(statuses)
        if attempt:
            samples.append(elapsed * 1000)
    return {**summarize(samples), "status": status, "facets_timed_out": timed_out}


def measure_serving(published: Path, stock: Path, runs: int) -> dict:
    """Latency of each page on our site and on the stock layout, and each server's peak memory."""
    conn = sqlite3.connect(f"file:{published}?mode=ro&immutable=1", uri=True)
    (article,) = conn.execute("select id from articles order by published desc limit 1 offset 1000").fetchone() or \
        conn.execute("select id from articles limit 1").fetchone()
    conn.close()
    word = pick_search_word(published)
    pairs = page_pairs(article, word)
    results: dict = {"search_word": word, "pages": {}}
    port = free_port()
    with server([*dprk_archive_command(), "serve", "--db", str(published), "--port", str(port)], port) as (process, base):
        with httpx.Client(base_url=base, timeout=60) as client:
            for name, ours, _ in pairs:
                results["pages"][name] = {"path": ours, "ours": time_page(client, ours, runs)}
                say(f"ours  {name}: {results['pages'][name]['ours']['median']:.0f} ms median")
        results["server_peak_rss_mb"] = vm_hwm_mb(process.pid)
    port = free_port()
    stock_argv = [sys.executable, "-m", "datasette", "serve", "-i", str(stock), "--port", str(port)]
    with server(stock_argv, port) as (process, base):
        with httpx.Client(base_url=base, timeout=60) as client:
            for name, _, theirs in pairs:
                figure = results["pages"][name]
                figure["stock_path"] = theirs
                figure["stock"] = time_page(client, theirs, runs)
                figure["ratio"] = figure["stock"]["median"] / figure["ours"]["median"]
                say(f"stock {name}: {figure['stock']['median']:.0f} ms median")
        results["stock_server_peak_rss_mb"] = vm_hwm_mb(process.pid)
    return results


# --- crawling -------------------------------------------------------------------------------------


def measure_crawl_day(folder: Path, articles: int, seed: int, work: Path | None = None) -> dict:
    """Requests a crawl spends on day 1 of a mirror whose day 0 is already archived (generated, or copied)."""
    from . import load
    from .crawl import Crawler
    from .fetch import PoliteClient
    from .generate import generate_database
    from .mirror.server import start_mirror

    target = folder / f"crawl-{articles}.db"
    for leftover in folder.glob(f"crawl-{articles}.db*"):
        leftover.unlink()
    if work is not None:
        source = sqlite3.connect(f"file:{work}?mode=ro", uri=True)
        copy = sqlite3.connect(target)
        source.backup(copy)
        source.close()
        copy.close()
    else:
        generate_database(target, articles, seed)
    try:
        with start_mirror(articles=articles, seed=seed, day=1) as mirror:
            before = mirror.stats()["requests"]
            db = load.open_working_db(str(target))
            with PoliteClient(delay=0, backoff=0.01) as client:
                summary = Crawler(db, client, mirror.base_url).run()
            db.conn.close()
            after = mirror.stats()["requests"]
    finally:
        for leftover in folder.glob(f"crawl-{articles}.db*"):
            leftover.unlink()
    spent = {kind: after.get(kind, 0) - before.get(kind, 0) for kind in after}
    return {
        "articles": articles,
        "new_articles": summary.counts["new"],
        "article_requests": spent.get("article", 0),
        "listing_requests": spent.get("listing", 0),
        "media_requests": spent.get("media", 0),
        "requests": summary.requests,
    }


# --- report ---------------------------------------------------------------------------------------


def git_commit() -> str | None:
    try:
        return subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True,
                              check=True).stdout.strip() + (" (dirty)" if subprocess.run(
                                  ["git", "status", "--porcelain", "--untracked-files=no"], cwd=ROOT,
                                  capture_output=True, text=True).stdout.strip() else "")
    except (OSError, subprocess.SubprocessError):
        return None


def table(figures: dict) -> str:
    """The figures as one plain-text table."""
    rows = [("figure", "median", "p95", "baseline median", "baseline p95", "ratio")]

    def rate(name, figure, base=None, base_name=""):
        rows.append((name, f"{figure['median']:,.0f}/s", f"{figure['p95']:,.0f}/s",
                     f"{base['median']:,.0f}/s" if base else "", f"{base['p95']:,.0f}/s" if base else "",
                     f"{figure['median'] / base['median']:.0%} of {base_name}" if base else ""))

    if figures["generate"]:
        generate = figures["generate"]
        rows.append(("generate (once)", f"{generate['articles_per_s']:,.0f}/s", "", "", "",
                     f"{generate['articles']:,} articles in {generate['seconds']:.0f} s"))
    rebuild = figures["rebuild"]
    rate("rebuild (reparse: parse+enrich+load)", rebuild["articles_per_s"], rebuild["parse_only_per_s"], "parse-only")
    rate("  parse-only (parse_page)", rebuild["parse_only_per_s"])
    rate("  lxml parse only", rebuild["lxml_only_per_s"])
    rate("  SQLite executemany (same rows)", rebuild["executemany_per_s"])
    build = figures["build"]
    rows.append(("build wall time", f"{build['seconds']['median']:.1f} s", f"{build['seconds']['p95']:.1f} s", "", "",
                 f"n={build['seconds']['n']}"))
    rows.append(("build peak memory", f"{build['peak_rss_mb']['median']:.0f} MB", f"{build['peak_rss_mb']['p95']:.0f} MB",
                 "", "", ""))
    serving = figures["serving"]
    for name, page in serving["pages"].items():
        ours, stock = page["ours"], page["stock"]
        flag = " (facets timed out)" if ours["facets_timed_out"] else ""
        stock_flag = " (t/o)" if stock["facets_timed_out"] else ""
        status = "" if ours["status"] == 200 else f" HTTP {ours['status']}"
        rows.append((f"{name}{status}{flag}", f"{ours['median']:.1f} ms", f"{ours['p95']:.1f} ms",
                     f"{stock['median']:.1f} ms{stock_flag}", f"{stock['p95']:.1f} ms", f"stock/ours {page['ratio']:.1f}x"))
    rows.append(("server peak memory", f"{serving['server_peak_rss_mb']:.0f} MB", "", f"{serving['stock_server_peak_rss_mb']:.0f} MB",
                 "", ""))
    for crawl in figures["crawl"]:
        rows.append((f"crawl day 1 on {crawl['articles']:,} items", f"{crawl['article_requests']} article req", "",
                     f"{crawl['new_articles']} new", f"{crawl['listing_requests']} listing pages",
                     f"{crawl['requests']} requests in all"))
    widths = [max(len(str(row[i])) for row in rows) for i in range(len(rows[0]))]
    lines = ["  ".join(str(cell).ljust(width) for cell, width in zip(row, widths)).rstrip() for row in rows]
    lines.insert(1, "  ".join("-" * width for width in widths))
    lines.append("baseline: rates beside parse-only; pages beside plain datasette on the stock layout (one table, "
                 "JSON regions, _facet_array/_facet_date); p95 of a rate = the slow 95th-percentile chunk")
    head = (f"{figures['articles']:,} mirror items ({figures['text_articles']:,} text articles), "
            f"{figures['date']}, commit {figures['commit']}, {figures['machine']['cpus']} CPUs; "
            f"latency n={figures['latency_runs']} per page after a warm-up; search word {serving['search_word']!r}")
    return head + "\n" + "\n".join(lines)


def run(args) -> dict:
    folder = Path(args.folder or ROOT / "build" / "bench" / str(args.articles)).resolve()
    folder.mkdir(parents=True, exist_ok=True)
    figures: dict = {
        "articles": args.articles,
        "date": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "commit": git_commit(),
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(), "sqlite": sqlite3.sqlite_version},
        "latency_runs": args.runs,
    }
    figures["generate"] = prepare_work_db(folder, args.articles, args.seed)
    work = folder / "work.db"
    conn = sqlite3.connect(f"file:{work}?mode=ro", uri=True)
    (figures["text_articles"],) = conn.execute("select count(*) from articles").fetchone()
    conn.close()
    small = figures["text_articles"] < 5 * CHUNK
    say("rebuild: reparse, parse-only, executemany")
    figures["rebuild"] = measure_rebuild(work, runs=5 if small else 1)
    pages = sample_pages(work, SAMPLE)
    figures["rebuild"].update(measure_parse_only(pages, rounds=5 if small else 1))
    figures["rebuild"].update(measure_executemany(work, folder, SAMPLE, rounds=5 if small else 1))
    figures["rebuild"]["ratio_to_parse_only"] = (
        figures["rebuild"]["articles_per_s"]["median"] / figures["rebuild"]["parse_only_per_s"]["median"])
    say("build")
    figures["build"], published = measure_build(work, folder, args.build_runs)
    say("stock layout")
    stock = folder / "stock.db"
    make_stock_db(published, stock)
    say("serving")
    figures["serving"] = measure_serving(published, stock, args.runs)
    say("incremental crawl")
    crawl_size = min(args.articles, args.crawl_articles)
    figures["crawl"] = [measure_crawl_day(folder, crawl_size, args.seed)]
    if args.articles > crawl_size and not args.no_crawl_at_size:
        figures["crawl"].append(measure_crawl_day(folder, args.articles, args.seed, work=work))
    return figures


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="scripts/bench", description=__doc__.split("\n\n")[0])
    parser.add_argument("--articles", type=int, default=2000, help="mirror items on day 0 (default 2000)")
    parser.add_argument("--json", nargs="?", const="-", metavar="FILE",
                        help="write the figures as JSON to FILE, or to stdout (then the table goes to stderr)")
    parser.add_argument("--runs", type=int, default=20, help="requests per page after a warm-up (default 20)")
    parser.add_argument("--build-runs", type=int, default=3, help="builds from scratch (default 3)")
    parser.add_argument("--crawl-articles", type=int, default=2000, help="size of the small crawl mirror (default 2000)")
    parser.add_argument("--no-crawl-at-size", action="store_true", help="skip the crawl day at the full size")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--folder", help="where the data is generated and kept (default build/bench/N)")
    args = parser.parse_args(argv)
    if args.articles < 20:
        parser.error("--articles must be at least 20")
    figures = run(args)
    text = table(figures)
    if args.json == "-":
        print(text, file=sys.stderr)
        print(json.dumps(figures, indent=2))
    else:
        print(text)
        if args.json:
            Path(args.json).write_text(json.dumps(figures, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
