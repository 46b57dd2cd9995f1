"""Shared test data for the build and site tests: a hand-made working DB, its published file, Datasette.

Kept out of conftest.py (other stages own fixtures there); test files import from here.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import sys
from datetime import datetime, timezone
from pathlib import Path

import pytest
import yaml

from dprk_archive.models import Article, MediaItem

XSS_TITLE = "<script>alert(1)</script> Harvest report"
XSS_BODY = 'Farmers <img src=x onerror=alert(1)> gathered rice.\n\nSee <a href="javascript:alert(2)">this</a> harvest.'
XSS_URL = "javascript:alert(3)"

def region(name: str) -> str:
    """A canonical region name, checked against the loader's list so a typo fails loudly."""
    from dprk_archive.enrich import load_regions

    names = [r["name"] for r in load_regions()]
    if name not in names:
        raise LookupError(f"{name!r} is not one of the canonical regions {names}")
    return name


def _page(day: int, item_id: str, status: int = 200, body: bytes = b"<html>raw</html>"):
    from dprk_archive import load

    return load.PageRecord(
        url=f"http://vok.rep.kp/page/{item_id}",
        final_url=f"http://vok.rep.kp/page/{item_id}",
        status=status,
        fetched_at=f"2026-11-{day:02d}T06:00:00+00:00",
        body=body if status == 200 else None,
        item_id=item_id,
    )


def _article(item_id: str, title: str, body: str, published: str, regions: list[str], **fields) -> Article:
    defaults = dict(
        source="Voice of Korea",
        url=f"http://vok.rep.kp/index.php/detail_com/comde/{item_id}/18/en",
        subtitle=None,
        published_raw=published.replace("-0", ".").replace("-", "."),
        category="18",
        family="comde",
        places=[],
    )
    defaults.update(fields)
    return Article(id=item_id, title=title, body=body, published=published, regions=[region(r) for r in regions], **defaults)


EDITED = "ien261001001"
REMOVED = "ien261002002"
XSS = "ien261003003"
MULTI = "ien261004004"


def make_working_db(path: Path, extra: int = 0) -> Path:
    """A working DB with edits, a removal, multi-region articles, HTML in scraped text, media and a run."""
    from dprk_archive import load

    db = load.open_working_db(str(path))
    run = load.start_run(db, "http://vok.rep.kp")
    edited_v1 = "Workers of the Hwanghae Iron and Steel Complex overfulfilled the plan.\n\nThey met in Pyongyang."
    edited_v2 = "Workers of the Hwanghae Iron and Steel Complex greatly overfulfilled the yearly plan.\n\nThey met in Pyongyang."
    edited_v3 = "Workers of the Hwanghae Iron and Steel Complex greatly overfulfilled the yearly plan.\n\nThey met in Kangwon."
    load.save_article(db, _article(EDITED, "Steel plan overfulfilled", edited_v1, "2026-10-01", ["Pyongyang"]), _page(1, EDITED), run)
    load.save_article(db, _article(EDITED, "Steel plan overfulfilled", edited_v2, "2026-10-01", ["Pyongyang"]), _page(3, EDITED, body=b"v2"), run)
    load.save_article(db, _article(EDITED, "Steel plan greatly overfulfilled", edited_v3, "2026-10-01", ["Pyongyang", "Kangwon"]), _page(5, EDITED, body=b"v3"), run)

    load.save_article(db, _article(REMOVED, "Letter of thanks sent", "A letter of thanks was sent to Hamhung.", "2026-10-02",
                                   ["South Hamgyong"], subtitle="From the youth league"), _page(1, REMOVED), run)
    load.record_missing(db, REMOVED, _page(6, REMOVED, status=404), run)
    load.record_missing(db, REMOVED, _page(8, REMOVED, status=404), run)

    load.save_article(db, _article(XSS, XSS_TITLE, XSS_BODY, "2026-10-03", ["North Hwanghae"], url=XSS_URL,
                                   subtitle="<b>bold</b> subtitle"), _page(2, XSS), run)
    load.save_article(db, _article(MULTI, "Rice harvest in three provinces", "The rice harvest went well in Pyongyang, "
                                   "North Hwanghae and Kangwon.\n\nFarmers celebrated.", "2026-09-15",
                                   ["Pyongyang", "North Hwanghae", "Kangwon"], category="57"), _page(2, MULTI), run)
    load.save_article(db, _article("ien250512005", "Fishery station at Rason", "Fishermen of Rason caught much fish.",
                                   "2025-05-12", ["Rason"], source="KCNA", category="48",
                                   url="http://www.kcna.kp/en/article/q/abc.kcmsf"), _page(2, "ien250512005"), run)
    load.save_article(db, _article("ien240101006", "New Year address", "A speech about the new year.", "2024-01-01", []),
                      _page(2, "ien240101006"), run)
    for i in range(extra):
        item = f"iex2601{i % 28 + 1:02d}{i:03d}"
        load.save_article(db, _article(item, f"Filler article {i}", f"Filler text number {i} about rice.",
                                       f"2026-0{i % 9 + 1}-{i % 28 + 1:02d}", ["Kaesong"] if i % 2 else []),
                          _page(3, item), run)
    load.save_media(db, MediaItem(source="Voice of Korea", id="iev261001001", url="http://vok.rep.kp/index.php/detail_com/vi_video/iev261001001",
                                  kind="video", title="Song of the harvest", published="2026-10-01", published_raw="2026.10.1"),
                    _page(2, "iev261001001"), run)
    load.finish_run(db, run, {"requests": 12, "new": 7, "edited": 2, "removed": 1, "unchanged": 0, "errors": 0}, "ok")
    db.conn.close()
    return path


BUILD_TIME = datetime(2026, 11, 28, 9, 30, tzinfo=timezone.utc)


def build_site(folder: Path, extra: int = 0) -> Path:
    """Working DB plus published file in `folder`; returns the published file's path."""
    from dprk_archive.build import build_database

    work = make_working_db(folder / "work.db", extra=extra)
    out = folder / "dprk-archive.db"
    build_database(work, out, now=BUILD_TIME)
    return out


def plugin_module(name: str):
    """One of the site's plugin files (datasette_plugins/NAME.py) loaded as a module, to test its functions."""
    import importlib.util

    from dprk_archive import serve

    spec = importlib.util.spec_from_file_location(f"{name}_plugin_for_tests", serve.PLUGINS / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def make_datasette(db: Path):
    """An in-process Datasette configured exactly as `dprk-archive serve` runs it."""
    from datasette.app import Datasette

    from dprk_archive import serve

    inspect = serve.fresh_inspect_file(db)
    return Datasette(
        [],
        immutables=[str(db)],
        metadata=yaml.safe_load(serve.METADATA.read_text()),
        settings=serve.SETTINGS,
        plugins_dir=str(serve.PLUGINS),
        template_dir=str(serve.TEMPLATES),
        static_mounts=[(serve.STATIC_MOUNT, str(serve.STATIC))],
        inspect_data=json.loads(inspect.read_text()) if inspect else None,
    )


class Site:
    """Synchronous access to an in-process Datasette (pytest-asyncio is not a dependency)."""

    def __init__(self, ds, path: Path):
        self.ds = ds
        self.path = path
        asyncio.run(ds.invoke_startup())

    def get(self, url: str, **kwargs):
        """GET a path; returns the httpx response."""
        return asyncio.run(self.ds.client.get(url, **kwargs))

    def json(self, url: str):
        """GET a path and decode its JSON."""
        response = self.get(url)
        assert response.status_code == 200, (url, response.status_code, response.text[:500])
        return response.json()

    def sql(self, sql: str, **params):
        """Run SQL through the site's JSON API; returns the response."""
        import urllib.parse

        return self.get("/dprk-archive.json?" + urllib.parse.urlencode({"sql": sql, "_shape": "array", **params}))


@pytest.fixture(scope="session")
def site(tmp_path_factory) -> Site:
    """The published test archive behind an in-process Datasette, shared by the session (read-only)."""
    folder = tmp_path_factory.mktemp("site")
    db = build_site(folder)
    site = Site(make_datasette(db), db)
    # The attack suite checks at its end that nothing it did changed a byte of the file.
    site.sha256_at_start = hashlib.sha256(db.read_bytes()).hexdigest()
    return site


def make_synthetic_working_db(path: Path, articles: int, seed: int = 1) -> Path:
    """A large working DB written in bulk (load.py's schema, not its per-article path), for measurements."""
    import itertools
    import random
    import string
    from datetime import date, timedelta

    import sqlite_utils

    from dprk_archive.load import migrations
    from dprk_archive.text import text_hash

    rng = random.Random(seed)
    common = ("rice harvest farm county workers factory leader Kim Jong Un party plenary meeting province people "
              "socialist construction youth army city river coal steel school students delegation").split()
    # Zipf-like vocabulary: a few words in most articles, a long tail of rare ones, as in real text.
    vocab = common + ["".join(rng.choices(string.ascii_lowercase, k=rng.randint(4, 10))) for _ in range(20000)]
    cumulative = list(itertools.accumulate(1.0 / (i + 1) ** 1.05 for i in range(len(vocab))))
    names = [r[0] for r in _STUB_REGIONS]
    weights = [8, 3, 3, 1, 2, 2, 2, 3, 2, 2, 1, 1, 1]
    db = sqlite_utils.Database(str(path))
    migrations.apply(db)
    conn = db.conn
    conn.executemany("insert or ignore into regions values (?, ?, ?, ?)", _STUB_REGIONS)
    seen = "2026-11-01T00:00:00+00:00"
    rows, versions, regions = [], [], []
    for i in range(articles):
        day = date(2005, 1, 1) + timedelta(days=int(i * 7700 / articles))
        item = f"ien{day:%y%m%d}{i % 1000:03d}{i // 1000:03d}"
        title = " ".join(rng.choices(vocab, cum_weights=cumulative, k=8)).capitalize()
        body = "\n\n".join(" ".join(rng.choices(vocab, cum_weights=cumulative, k=40)) + "." for _ in range(rng.randint(3, 8)))
        named = sorted(set(rng.choices(names, weights=weights, k=rng.choice([0, 1, 1, 1, 2, 2, 3]))))
        digest = text_hash(title, None, body)
        outlet = rng.choice(["Voice of Korea"] * 3 + ["KCNA"])
        rows.append((item, outlet, f"http://vok.rep.kp/index.php/detail_com/comde/{item}/18/en", "comde",
                     rng.choice(["18", "48", "57", "69", "43", "87", "96"]), title, None, day.isoformat(),
                     f"{day.year}.{day.month}.{day.day}", body, digest, json.dumps(named), "[]", "selector", None,
                     seen, seen, seen, seen, 1, None, 0, None))
        versions.append((item, 1, digest, title, None, day.isoformat(), None, body, seen, seen, None))
        regions += [(item, name) for name in named]
    conn.executemany(
        """insert into articles (id, source, url, family, category, title, subtitle, published, published_raw, body,
               text_hash, regions, places, extraction, via, first_seen, last_seen, last_checked, last_changed,
               version_count, missing_since, missing_checks, removed_at)
           values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)""", rows)
    conn.executemany(
        """insert into article_versions (article_id, version, text_hash, title, subtitle, published, published_raw, body,
               seen_first, seen_last, page_sha256) values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)""", versions)
    conn.executemany("insert into article_regions (article_id, region) values (?, ?)", regions)
    conn.commit()
    conn.close()
    return path


BENCH_PATHS = [
    "/",
    "/dprk-archive/articles",
    "/dprk-archive/articles?_region=Pyongyang",
    "/dprk-archive/articles?_region=Kaesong",
    "/dprk-archive/articles?year=2020",
    "/dprk-archive/articles?month=2020-05",
    "/dprk-archive/articles?outlet=KCNA",
    "/dprk-archive/articles?_region=Kaesong&year=2020",
    "/dprk-archive/articles?_region=Pyongyang&outlet=KCNA",
    "/dprk-archive/articles?_search=qjowlupkyk",
    "/dprk-archive/articles?_search=kim",
    "/dprk-archive/search?q=qjowlupkyk",
    "/dprk-archive/articles/{article}",
    "/dprk-archive/recent_changes",
]


def bench(folder: Path, articles: int, runs: int = 20) -> None:
    """Build a synthetic archive of `articles` articles in `folder` and print page timings (median, p95)."""
    import statistics
    import time

    from dprk_archive.build import build_database

    folder.mkdir(parents=True, exist_ok=True)
    out = folder / "dprk-archive.db"
    if not out.exists():
        work = make_synthetic_working_db(folder / "work.db", articles)
        started = time.perf_counter()
        build_database(work, out)
        print(f"build: {time.perf_counter() - started:.0f} s, {out.stat().st_size / 1e6:.0f} MB")
    site = Site(make_datasette(out), out)
    import sqlite3

    conn = sqlite3.connect(f"file:{out}?mode=ro", uri=True)
    (article,) = conn.execute("select id from articles where published >= '2020-01-01' order by published limit 1").fetchone()
    conn.close()
    for path in (p.format(article=article) for p in BENCH_PATHS):
        site.get(path)
        times = []
        for _ in range(runs):
            started = time.perf_counter()
            response = site.get(path)
            times.append((time.perf_counter() - started) * 1000)
        timed_out = "These facets timed out" in response.text
        p95 = sorted(times)[int(len(times) * 0.95) - 1]
        print(f"{response.status_code} median {statistics.median(times):6.0f} ms  p95 {p95:6.0f} ms"
              f"{'  FACET TIMED OUT' if timed_out else ''}  {path}")


if __name__ == "__main__":
    # Measurement for docs/facets.md: python tests/site_fixtures.py FOLDER ARTICLES
    bench(Path(sys.argv[1]), int(sys.argv[2]))
