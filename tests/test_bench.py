"""Smoke test of the scale benchmark at a tiny size: it runs, and reports every figure with its baseline.

Timings are not asserted (CI machines are noisy); docs/benchmarks.md has the figures at 300,000 items.
"""

import json
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PAGES = ("list_with_facets", "region_list_with_facets", "search_with_facets", "ranked_search", "search_all",
         "article_page", "download_first_byte")


def positive(figure):
    assert figure["n"] >= 1
    assert figure["median"] > 0 and figure["p95"] > 0


def test_bench_reports_every_figure(tmp_path):
    result = subprocess.run(
        [str(ROOT / "scripts" / "bench"), "--articles", "300", "--json", "--runs", "3", "--build-runs", "2",
         "--folder", str(tmp_path)],
        capture_output=True, text=True, timeout=240,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    figures = json.loads(result.stdout)  # the JSON alone on stdout; the table went to stderr
    assert "rebuild (reparse" in result.stderr

    assert figures["articles"] == 300 and figures["text_articles"] > 200
    assert figures["generate"]["articles_per_s"] > 0  # generated fresh in tmp_path
    rebuild = figures["rebuild"]
    for name in ("articles_per_s", "parse_only_per_s", "lxml_only_per_s", "executemany_per_s"):
        positive(rebuild[name])
    assert rebuild["changed_versions"] == 0  # reparse of a generated DB changes nothing
    assert rebuild["ratio_to_parse_only"] > 0

    positive(figures["build"]["seconds"])
    positive(figures["build"]["peak_rss_mb"])
    assert figures["build"]["seconds"]["n"] == 2

    serving = figures["serving"]
    assert set(serving["pages"]) == set(PAGES)
    for name, page in serving["pages"].items():
        assert page["ours"]["status"] == 200, name
        assert page["stock"]["status"] == 200, name  # the baseline was measured, and answered
        positive(page["ours"])
        positive(page["stock"])
        assert page["ratio"] > 0
    assert serving["server_peak_rss_mb"] > 0 and serving["stock_server_peak_rss_mb"] > 0

    (crawl,) = figures["crawl"]
    assert crawl["articles"] == 300
    assert crawl["new_articles"] > 0 and crawl["article_requests"] >= crawl["new_articles"]
    assert crawl["listing_requests"] > 0
