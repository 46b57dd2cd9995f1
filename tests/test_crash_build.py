"""9. Publishing: `dprk-archive build` killed with SIGKILL at 20 seeded points, or handed a damaged temporary
file, leaves the previous published file byte-identical, with no -wal or -journal beside it; a kill that
lands after the atomic rename leaves a whole new build, never half of one. The next build removes what the
killed ones left behind and publishes.

Kills are drawn per stage of the build, not uniformly over its length: the release copy and the renames take
about 3% of a build, so 20 kills spread uniformly in time miss them about half the time. Each kill waits for
the progress line that opens its stage (or for the start), then a seeded share of that stage's length in an
uninterrupted build. The stage a kill really landed in is read back from the lines the build printed before
it died.
"""

from __future__ import annotations

import hashlib
import json
import os
import random
import re
import shutil
import signal
import sqlite3
import subprocess
import sys
import threading
import time
import uuid
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import pytest

from dprk_archive import build
from dprk_archive.build import BuildError, build_database
from dprk_archive.generate import generate_database
from faultserver import record

ITEMS = 6000  # mirror items (about 5,100 articles, 45 MB published): one build takes ~1.2 s on 2 cores
KILLS = 20
SEED = 9
BUILD = str(Path(sys.executable).with_name("dprk-archive"))
OUT = "published.db"

# The progress line on stderr that opens each stage of a build, in order.
STAGES = {
    "start-up": None,
    "copying tables": "building ",
    "full-text index": "full-text index",
    "compacting": "compacting",
    "checking": "checking",  # integrity and FTS checks, sha256, `datasette inspect`
    "publishing": "copying the release",  # release copy, SHA256SUMS, then the renames
    "published": "published ",
}
# Where kills are aimed, in turn: each from its stage's line until the next one's in a build (start-up
# runs on through copying tables), so that every stage is hit whatever this machine's speed. Checking
# comes last, so the last kill leaves its temporary file for the final build to clean up.
TARGETS = ["start-up", "full-text index", "publishing", "compacting", "checking"]
ORDER = ["start-up", "full-text index", "compacting", "checking", "publishing", "exit"]

# The names of a build's temporary files (build_database), matched independently of build.py.
TEMPORARY = re.compile(r"\.(?:published\.db|published-[0-9.]+\.db|SHA256SUMS)\.[0-9a-f]{12}\..+")


class RunningBuild:
    """One `dprk-archive build` in its own process group, with the time each progress line reached us."""

    def __init__(self, work: Path, out: Path):
        self.started = time.monotonic()
        self.process = subprocess.Popen(
            [BUILD, "build", "--db", str(work), "--out", str(out)],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, start_new_session=True,
        )
        self.lines: list[tuple[float, str]] = []
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        for line in self.process.stderr:
            self.lines.append((time.monotonic() - self.started, line.rstrip("\n")))

    def seconds_to(self, stage: str) -> float | None:
        """When the line opening `stage` reached us (seconds from the start), or None if it has not."""
        if STAGES[stage] is None:
            return 0.0
        return next((t for t, line in list(self.lines) if line.startswith(STAGES[stage])), None)

    def wait_for(self, stage: str) -> float | None:
        """Wait for the line opening `stage`; None if the build exited without printing it."""
        while (seen := self.seconds_to(stage)) is None and self.process.poll() is None:
            assert time.monotonic() - self.started < 60, f"no {stage!r} line after 60 s: {self.lines}"
            time.sleep(0.001)
        return seen if seen is not None else self.seconds_to(stage)

    def finish(self) -> int:
        """Wait for the build's exit (and the end of its output); its return code."""
        code = self.process.wait(timeout=120)
        self._reader.join(timeout=10)
        self.process.stderr.close()
        return code

    def stage(self) -> str:
        """The stage the build had reached when it exited or died: the last one whose line it printed."""
        reached = "start-up"
        for name, prefix in STAGES.items():
            if prefix is not None and any(line.startswith(prefix) for _, line in self.lines):
                reached = name
        return reached


@dataclass(frozen=True)
class Published:
    """What a visitor or the next build sees of the published folder (temporary files left out)."""

    sha256: str
    versions: tuple[str, ...]
    names: frozenset[str]
    inspect: str
    sums: str


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def listing(folder: Path) -> set[str]:
    return {str(p.relative_to(folder)) for p in folder.rglob("*")}


def temporaries(folder: Path) -> list[str]:
    return sorted(name for name in listing(folder) if TEMPORARY.fullmatch(Path(name).name))


def connect_ro(path: Path) -> sqlite3.Connection:
    return sqlite3.connect(f"file:{path}?mode=ro", uri=True)


def integrity(path: Path) -> list[str]:
    conn = connect_ro(path)
    try:
        return [row[0] for row in conn.execute("PRAGMA integrity_check")]
    finally:
        conn.close()


def snapshot(folder: Path) -> Published:
    out = folder / OUT
    conn = connect_ro(out)
    try:
        versions = tuple(v for (v,) in conn.execute("SELECT version FROM builds ORDER BY built_at, version"))
    finally:
        conn.close()
    names = frozenset(set(listing(folder)) - set(temporaries(folder)))
    sums = folder / "releases" / "SHA256SUMS"
    return Published(sha256(out), versions, names, sha256(build.inspect_path(out)), sums.read_text() if sums.exists() else "")


def restored_release(before: Published, now: Published) -> bool:
    """True when the one change is the published version's release copy and SHA256SUMS line, restored."""
    current = f"published-{now.versions[-1]}.db"
    old_lines, new_lines = before.sums.splitlines(), now.sums.splitlines()
    added_lines = new_lines[len(old_lines):] if new_lines[:len(old_lines)] == old_lines else None
    added_names = now.names - before.names
    return (
        (now.sha256, now.versions, now.inspect) == (before.sha256, before.versions, before.inspect)
        and before.names <= now.names and added_names <= {f"releases/{current}"}
        and added_lines in ([], [f"{now.sha256}  {current}"])
        and bool(added_names or added_lines)
    )


def journals(folder: Path) -> list[str]:
    return sorted(name for name in listing(folder) if name.endswith(("-wal", "-journal", "-shm")) and
                  not TEMPORARY.fullmatch(Path(name).name))


def whole_build_problems(out: Path) -> list[str]:
    """A published file that is a complete build: sound, and holding the rows its builds row counted."""
    problems = [p for p in integrity(out) if p != "ok"]
    conn = connect_ro(out)
    try:
        counted = json.loads(conn.execute("SELECT row_counts FROM builds ORDER BY built_at DESC, version DESC").fetchone()[0])
        for table, rows in counted.items():
            found = conn.execute(f"SELECT count(*) FROM [{table}]").fetchone()[0]
            if found != rows:
                problems.append(f"{table}: {found} rows, the builds row says {rows}")
        indexed = conn.execute("SELECT count(*) FROM articles_fts").fetchone()[0]
        if indexed != counted["articles"]:
            problems.append(f"articles_fts has {indexed} rows for {counted['articles']} articles")
    finally:
        conn.close()
    return problems


def live_members(group: int) -> list[int]:
    """Processes of a process group that are still running (zombies left out)."""
    members = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            state, _parent, pgrp = stat.read_text().rsplit(")", 1)[1].split()[:3]
        except (OSError, ValueError):
            continue
        if int(pgrp) == group and state != "Z":
            members.append(int(stat.parent.name))
    return members


def wait_for_group(group: int, grace: float = 0.2, timeout: float = 30) -> bool:
    """Wait until a killed build's children (its `datasette inspect`) have gone; True if any outlived the
    grace period, which the kernel's parent-death signal should make impossible."""
    started = time.monotonic()
    orphaned = False
    while live_members(group):
        waited = time.monotonic() - started
        orphaned = orphaned or waited > grace
        if waited > timeout:
            os.killpg(group, signal.SIGKILL)
            pytest.fail(f"a killed build's children were still running {timeout} s later")
        time.sleep(0.01)
    return orphaned


@pytest.fixture(scope="module")
def work(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("work") / "work.db"
    generate_database(path, ITEMS, seed=1, workers=2)
    return path


@pytest.fixture(scope="module")
def first_build(work, tmp_path_factory) -> tuple[Path, dict[str, float]]:
    """An uninterrupted build through the command: the previous published folder, and when each stage began."""
    folder = tmp_path_factory.mktemp("first")
    running = RunningBuild(work, folder / OUT)
    assert running.finish() == 0, running.lines
    profile = {stage: running.seconds_to(stage) for stage in STAGES}
    assert None not in profile.values(), f"a stage's progress line is missing: {running.lines}"
    profile["exit"] = time.monotonic() - running.started
    assert 0.5 < profile["exit"] < 10, f"an uninterrupted build took {profile['exit']:.2f} s: adjust ITEMS"
    return folder, profile


@pytest.fixture
def site(first_build, tmp_path) -> Path:
    """A copy of the first build's folder: the previous published file, its inspect file and releases."""
    folder = tmp_path / "site"
    shutil.copytree(first_build[0], folder)
    return folder


def aim(target: str, profile: dict[str, float], rng: random.Random) -> float:
    """Seconds after the line that opens `target` (after the start, for start-up) at which to kill."""
    following = ORDER[ORDER.index(target) + 1]
    low = 0.02 * profile["exit"] if target == "start-up" else 0.0
    return rng.uniform(low, profile[following] - profile[target])


def test_killed_builds_leave_the_published_file_whole_and_the_next_build_cleans_up(work, first_build, site):
    _, profile = first_build
    out = site / OUT
    rng = random.Random(SEED)
    before = snapshot(site)
    assert integrity(out) == ["ok"]

    landed, finished, after_rename, orphans, strays, restored = 0, 0, 0, 0, 0, 0
    left: list[str] = []
    stages: Counter = Counter()
    shares: list[float] = []  # when each kill landed, as a share of an uninterrupted build
    group = None
    try:
        for _ in range(2 * KILLS):  # builds that finish before their kill point do not count
            if landed == KILLS:
                break
            target = TARGETS[landed % len(TARGETS)]
            delay = aim(target, profile, rng)
            running = RunningBuild(work, out)
            group = running.process.pid
            began = running.wait_for(target)
            if began is not None:
                time.sleep(max(0.0, began + delay - (time.monotonic() - running.started)))
                running.process.send_signal(signal.SIGKILL)  # does nothing if it has already exited
                killed_at = time.monotonic() - running.started
            code = running.finish()
            orphaned = wait_for_group(group)
            group = None
            if code == -signal.SIGKILL:
                landed += 1
                orphans += orphaned
                stages[running.stage()] += 1
                shares.append(killed_at / profile["exit"])
            else:
                assert code == 0, running.lines
                finished += 1

            assert journals(site) == [], "a -wal or -journal beside the published file"
            if running.stage() != "start-up":
                # Past start-up, a build has removed what the builds killed before it left.
                assert not set(left) & set(temporaries(site)), (left, temporaries(site))
            left = temporaries(site)
            strays += len(left)
            assert integrity(out) == ["ok"]
            now = snapshot(site)
            if now.sha256 == before.sha256:
                restored += restored_release(before, now)
                assert now == before or restored_release(before, now), "the file is unchanged, but its folder changed"
                before = now
            else:
                # Only a build that got as far as its rename may change the file, and then it is a whole one.
                assert code == 0 or running.stage() in ("publishing", "published"), running.stage()
                assert whole_build_problems(out) == []
                assert now.versions[:-1] == before.versions and len(now.versions) == len(before.versions) + 1
                after_rename += code == -signal.SIGKILL
                before = now
        assert landed == KILLS, f"only {landed} kills landed in {landed + finished} builds"
        assert orphans == 0, f"{orphans} killed builds left `datasette inspect` running"

        assert left, "the last kill left no temporary file: the clean-up below was not exercised"
        final = RunningBuild(work, out)
        assert final.finish() == 0, final.lines
    finally:
        if group is not None and live_members(group):
            os.killpg(group, signal.SIGKILL)

    assert any(line.startswith(f"removed {len(left)} temporary files") for _, line in final.lines), final.lines
    assert temporaries(site) == [] and [n for n in listing(site) if Path(n).name.startswith(".")] == []
    assert journals(site) == []
    now = snapshot(site)
    assert now.sha256 != before.sha256 and len(now.versions) == len(before.versions) + 1
    assert whole_build_problems(out) == []
    version = now.versions[-1]
    assert sha256(site / "releases" / f"published-{version}.db") == now.sha256
    assert now.sums.splitlines()[-1] == f"{now.sha256}  published-{version}.db"
    # Every version ever published has its dated copy, whose checksum is its SHA256SUMS line, even those
    # whose build was killed between the rename and the copy (the next build restores them).
    listed = {name: digest for digest, name in (line.split() for line in now.sums.splitlines())}
    for each in now.versions:
        name = f"published-{each}.db"
        assert name in listed and sha256(site / "releases" / name) == listed[name], (each, after_rename)
    inspect = json.loads(build.inspect_path(out).read_text())["published"]
    assert (inspect["hash"], inspect["dataset_version"]) == (now.sha256, version)

    # The kills fell all over the build: at its start, in the FTS and index building, in the checks and
    # near the rename, and from the first tenth of its length into its last fifth (the draws are seeded,
    # the stage times are not, so the latest kill's share varies from run to run).
    early = stages["start-up"] + stages["copying tables"]
    late = stages["publishing"] + stages["published"]
    assert early >= 2 and stages["full-text index"] >= 2 and stages["checking"] >= 2 and late >= 2, stages
    assert min(shares) < 0.1 and max(shares) > 0.8, shares
    print(f"\n{landed} kills landed ({finished} builds finished first, {after_rename} kills after the rename, "
          f"{orphans} left `datasette inspect` running, {strays} temporary files found after kills, {restored} release "
          f"copies restored): {dict(stages)}; "
          f"build {profile['exit']:.2f} s, kills from {min(shares):.0%} to {max(shares):.0%} of it; publishing begins at "
          f"{profile['publishing'] / profile['exit']:.0%}")
    record({"SIGKILL during build": landed})


def _page_size(path: Path) -> int:
    size = int.from_bytes(path.read_bytes()[16:18], "big")
    return 65536 if size == 1 else size


def garbage_pages(seed: int):
    def damage(path: Path) -> None:
        rng = random.Random(seed)
        page = _page_size(path)
        pages = path.stat().st_size // page
        with open(path, "r+b") as handle:
            for number in rng.sample(range(pages // 4, 3 * pages // 4), 3):
                handle.seek(number * page)
                handle.write(rng.randbytes(page))
    return damage


def truncated(keep):
    def damage(path: Path) -> None:
        os.truncate(path, keep(path.stat().st_size, _page_size(path)))
    return damage


DAMAGE = {
    "garbage pages, seed 1": ("garbage pages", garbage_pages(1), r"failed its checks.*malformed"),
    "garbage pages, seed 2": ("garbage pages", garbage_pages(2), r"failed its checks.*malformed"),
    "garbage pages, seed 3": ("garbage pages", garbage_pages(3), r"failed its checks.*malformed"),
    "cut in the middle": ("truncated", truncated(lambda size, page: random.Random(4).randrange(size // 4, 3 * size // 4)),
                          r"failed its checks: the file is truncated: [\d,]+ bytes, but its header says"),
    "one page short": ("truncated", truncated(lambda size, page: size - page), r"failed its checks: the file is truncated"),
    "one byte short": ("truncated", truncated(lambda size, page: size - 1), r"failed its checks: the file is truncated"),
    "empty": ("truncated", truncated(lambda size, page: 0), r"failed its checks: the file is empty"),
}


@pytest.mark.parametrize("case", DAMAGE)
def test_a_damaged_temporary_file_is_refused_and_removed(work, site, monkeypatch, case):
    kind, damage, error = DAMAGE[case]
    out = site / OUT
    before, names = sha256(out), listing(site)
    damaged = []
    real_verify = build.verify

    def damage_then_verify(path, previous_counts, allow_shrink):
        # Between VACUUM INTO writing the temporary file and the checks reading it.
        damage(path)
        damaged.append(Path(path).name)
        return real_verify(path, previous_counts, allow_shrink)

    monkeypatch.setattr(build, "verify", damage_then_verify)
    with pytest.raises(BuildError, match=error) as refused:
        build_database(work, out)
    assert "previous file is unchanged" in str(refused.value)
    assert len(damaged) == 1 and TEMPORARY.fullmatch(damaged[0]) and damaged[0].endswith(".tmp")
    assert sha256(out) == before
    # The damaged file is gone, no journal of it or of the published file is left, and no release was made.
    assert listing(site) == names and journals(site) == []
    record({f"corrupted temporary file ({kind})": 1})


def test_leftover_garbage_with_temporary_names_is_not_used_and_is_removed(work, site, monkeypatch):
    out = site / OUT
    token = "0123456789ab"
    # The build below is given the same token, so it would write to these very names if they stayed.
    monkeypatch.setattr(build.uuid, "uuid4", lambda: uuid.UUID(token + "0" * 20))
    ours = [f".published.db.{token}.{suffix}"
            for suffix in ("staging", "staging-journal", "tmp", "tmp-journal", "inspect.tmp", "inspect.raw")]
    ours += [f"releases/.published-2024.01.01.db.{token}.tmp", f"releases/.SHA256SUMS.{token}.tmp"]
    # Near misses: not names a build makes, so never the build's to remove.
    not_ours = [f"published.db.{token}.tmp", f".published.db.{token}.tmp.keep", f".other.db.{token}.tmp",
                ".published.db.backup", f".published.db.{token[:-1]}.tmp", "releases/notes.tmp"]
    rng = random.Random(SEED)
    for name in ours + not_ours:
        (site / name).write_bytes(b"SQLite format 3\0" + rng.randbytes(20_000))
    kept = {name: sha256(site / name) for name in not_ours}
    before = snapshot(site)

    result = build_database(work, out)

    assert [name for name in ours if (site / name).exists()] == []
    assert {name: sha256(site / name) for name in not_ours} == kept
    assert result.sha256 == sha256(out) != before.sha256
    assert whole_build_problems(out) == [] and journals(site) == []
    assert snapshot(site).versions == before.versions + (result.version,)
    record({"leftover temporary files (garbage)": len(ours)})


def test_a_second_build_is_refused_while_one_runs_and_leaves_its_files_alone(work, site):
    out = site / OUT
    before = snapshot(site)
    running = RunningBuild(work, out)
    try:
        assert running.wait_for("full-text index") is not None, running.lines
        staging = [name for name in temporaries(site) if name.endswith(".staging")]
        assert staging, "the running build's staging file is not there to be left alone"
        with pytest.raises(BuildError, match="Another build is writing in"):
            build_database(work, out)
        assert set(staging) <= set(temporaries(site))
    finally:
        code = running.finish()
    assert code == 0, running.lines
    assert temporaries(site) == [] and whole_build_problems(out) == []
    assert snapshot(site).versions[:-1] == before.versions
