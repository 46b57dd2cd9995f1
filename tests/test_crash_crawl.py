"""8. Crash safety: `dprk-archive crawl` killed with SIGKILL at 20 seeded points leaves a sound database,
and the next run finishes the work: the final database equals the mirror's truth.

Each run rechecks every known article, and the mirror moves on two days during the series, so kills
land in every kind of write: new articles, edits (new versions), removals, 304s, the retry queue.
A kill is triggered when the mirror has served a seeded number of requests to that run (plus a
random 0-3 ms), which spreads the kills over the whole run whatever the machine's speed; a few are
timed from the start instead, to land in start-up and schema creation.
"""

import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import sqlite_utils

from dprk_archive.mirror.server import start_mirror
from faultproxy import archive_problems, fetch_truth, integrity_problems, truth_problems, version_problems
from faultserver import record

KILLS = 20
SEED = 8
DAYS = [0] * 7 + [3] * 7 + [6] * 6  # the mirror's day for each kill
CRAWL = str(Path(sys.executable).with_name("dprk-archive"))


def test_killed_crawls_leave_a_sound_database_and_the_next_run_finishes(tmp_path):
    rng = random.Random(SEED)
    mirror = start_mirror(port=0, articles=150, seed=7)
    path = str(tmp_path / "work.db")
    command = [CRAWL, "crawl", "--db", path, "--base-url", mirror.base_url, "--delay", "0", "--silent",
               "--recheck", "1000"]

    def served() -> int:
        return sum(mirror.stats()["requests"].values())

    landed, exited, early, points = 0, 0, 0, []
    try:
        for _ in range(2 * KILLS):  # runs that finish before their kill point do not count as kills
            if landed == KILLS:
                break
            if mirror.day != DAYS[landed]:
                mirror.set_day(DAYS[landed])
            by_time = rng.random() < 0.15
            after_requests, after_seconds = rng.randint(1, 170), rng.uniform(0.05, 0.5)
            before = served()
            process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
            started = time.monotonic()
            if by_time:
                time.sleep(after_seconds)
            else:
                while process.poll() is None and served() - before < after_requests:
                    if time.monotonic() - started > 30:
                        break
                    time.sleep(0.001)
                time.sleep(rng.uniform(0, 0.003))
            if process.poll() is None:
                process.send_signal(signal.SIGKILL)
                process.wait()
                landed += 1
                points.append(served() - before)
                early += by_time
            else:
                exited += 1
                assert process.returncode == 0, process.stderr.read()
            process.stderr.close()

            assert integrity_problems(path) == []
            db = sqlite_utils.Database(path)
            try:
                assert archive_problems(db) == []
            finally:
                db.close()

        assert landed == KILLS, f"only {landed} kills landed in {landed + exited} runs"
        final = subprocess.run(command, capture_output=True, text=True, timeout=120)
        assert final.returncode == 0, final.stderr
        truth = fetch_truth(mirror.base_url)
        db = sqlite_utils.Database(path)
        assert truth_problems(db, truth) == []
        assert archive_problems(db) == [] and version_problems(db, mirror.site) == []
        assert db.execute("SELECT count(*) FROM retry_queue").fetchone()[0] == 0
        runs = db.execute("SELECT status FROM crawl_runs ORDER BY id").fetchall()
        # a killed run stays "running"; one killed in start-up may not have written its row yet
        assert runs[-1] == ("ok",) and KILLS - early <= runs.count(("running",)) <= KILLS
        assert truth["edited"] or truth["removed"]
    finally:
        mirror.stop()
    # the kills fell all over the runs (requests served before each kill), not only at their start
    assert min(points) < 20 and max(points) > 120, points
    record({"SIGKILL during a crawl": landed})
