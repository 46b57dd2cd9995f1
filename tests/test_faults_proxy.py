"""4. A crawl through the fault proxy, then one without faults, ends equal to the mirror's truth.

Nothing lost, no duplicate, no spurious version, no false removal; the second crawl is an ordinary one
(no --all): what the first could not finish comes back through retry_queue.
"""

import httpx
import pytest

from dprk_archive import load
from dprk_archive.mirror.server import start_mirror
from faultproxy import FaultProxy, archive_problems, crawl, fetch_truth, truth_problems, version_problems
from faultserver import DEFAULT_MIX, record

RATE = 0.25


def test_the_proxy_injects_a_seeded_mix_and_logs_it_per_url():
    mirror = start_mirror(port=0, articles=40, seed=2)
    paths = ["/index.php/home/main/en", "/index.php/Colist/newslist/18/en", "/robots.txt"] * 4
    runs = []
    try:
        for seed in (5, 5, 6):
            mix = ["status-503", "empty-body", "no-charset"]
            with FaultProxy(mirror.base_url, seed=seed, rate=0.5, mix=mix) as proxy:
                answers = [httpx.get(proxy.base_url + path).status_code for path in paths]
                truth = httpx.get(proxy.base_url + "/_mirror/truth.json").json()
                assert truth["articles"], "the truth passes through untouched"
                runs.append((proxy.injected_by_path(), answers, len(proxy.log)))
    finally:
        mirror.stop()
    (first, answers, logged), (again, answers_again, _), (other, _, _) = runs
    assert first == again and answers == answers_again, "the same seed must inject the same faults"
    assert first != other
    assert logged == len(paths) + 1
    assert "/robots.txt" not in first and "/_mirror/truth.json" not in first
    injected = [fault for faults in first.values() for fault in faults]
    assert 2 <= len(injected) <= 10 and set(injected) <= {"status-503", "empty-body", "no-charset"}
    assert answers.count(503) == first.get(paths[0], []).count("status-503") + first.get(paths[1], []).count(
        "status-503")


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_a_faulty_first_crawl_then_a_clean_one_equals_the_truth(seed, tmp_path):
    # A first crawl meets every fault, 404 and 410 included (nothing is known yet, so they cannot remove).
    mix = DEFAULT_MIX + ["status-404", "status-410"]
    mirror = start_mirror(port=0, articles=300, seed=11)
    try:
        with FaultProxy(mirror.base_url, seed=seed, rate=RATE, mix=mix) as proxy:
            db = load.open_working_db(str(tmp_path / "work.db"))
            faulty = crawl(db, proxy.base_url)
            injected = proxy.counts()
            assert archive_problems(db) == []
            assert faulty.counts["errors"] > 0

            proxy.set_faults(rate=0)
            clean = crawl(db, proxy.base_url)
            truth = fetch_truth(mirror.base_url)
            assert truth_problems(db, truth, single_version=True) == []
            assert archive_problems(db) == [] and version_problems(db, mirror.site) == []
            assert db.execute("SELECT count(*) FROM retry_queue").fetchone()[0] == 0
            assert clean.counts["errors"] == 0
    finally:
        mirror.stop()
    assert sum(injected.values()) >= 40 and len(injected) >= 15, injected
    record(injected)


def test_faults_during_a_recheck_of_a_known_archive_leave_it_right(tmp_path):
    # Days later, with edits and removals to find: every known article is rechecked through the faults.
    mirror = start_mirror(port=0, articles=300, seed=11)
    try:
        with FaultProxy(mirror.base_url, seed=9, rate=RATE) as proxy:
            db = load.open_working_db(str(tmp_path / "work.db"))
            crawl(db, proxy.base_url)
            mirror.set_day(4)
            proxy.set_faults(rate=RATE)
            crawl(db, proxy.base_url, recheck=10_000)
            injected = proxy.counts()
            assert archive_problems(db) == [] and version_problems(db, mirror.site) == []

            proxy.set_faults(rate=0)
            crawl(db, proxy.base_url, recheck=10_000)
            truth = fetch_truth(mirror.base_url)
            assert truth["edited"] and truth["removed"], "the mirror's day 4 has no edit or no removal"
            assert truth_problems(db, truth) == []
            assert archive_problems(db) == [] and version_problems(db, mirror.site) == []
            for article_id, distinct in truth["edited"].items():
                stored = db["articles"].get(article_id)["version_count"]
                assert stored <= distinct, f"{article_id}: {stored} versions of {distinct} texts"
    finally:
        mirror.stop()
    assert sum(injected.values()) >= 80 and len(injected) >= 20, injected
    record(injected)
