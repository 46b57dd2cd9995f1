"""A release of the published file: its dated copy, SHA256SUMS, and what changed since the previous release.

A release compares article and media states (ids, text hashes, version counts, removal marks), not file
bytes: every build writes a new builds row and crawl summary, so two builds of the same data never have
the same sha256. `changed` is what the scheduled workflow uses to decide whether to publish and deploy.
"""

from __future__ import annotations

import hashlib
import re
import sqlite3
from dataclasses import dataclass
from pathlib import Path

from .build import copy_synced, fsync_dir, replace, sha256_file, write_synced

DEFAULT_RELEASES = "build/releases"
SUMS = "SHA256SUMS"


class ReleaseError(Exception):
    """The release was refused; the message says what to do."""


@dataclass
class Changes:
    """What differs between two published files."""

    added: list[str]
    edited: list[str]
    removed: list[str]
    media_added: list[str]
    media_removed: list[str]

    @property
    def any(self) -> bool:
        return bool(self.added or self.edited or self.removed or self.media_added or self.media_removed)


@dataclass
class Release:
    """One release written to the releases folder."""

    version: str
    path: Path
    sha256: str
    size: int
    sums: Path
    changes_file: Path
    previous: Path | None
    changes: Changes
    data_hash: str

    def lines(self) -> list[str]:
        """key=value lines, the form GitHub Actions reads from $GITHUB_OUTPUT."""
        return [
            f"version={self.version}",
            f"file={self.path}",
            f"sha256={self.sha256}",
            f"sums={self.sums}",
            f"changes={self.changes_file}",
            f"previous={self.previous or ''}",
            f"data_hash={self.data_hash}",
            f"changed={'true' if self.changes.any else 'false'}",
        ]


def _connect(path: Path) -> sqlite3.Connection:
    return sqlite3.connect(f"file:{Path(path).resolve()}?mode=ro&immutable=1", uri=True)


def dataset_version(path: Path) -> str:
    """The version of a published file: the newest row of its builds table."""
    try:
        conn = _connect(path)
        try:
            row = conn.execute("SELECT version FROM builds ORDER BY built_at DESC, version DESC LIMIT 1").fetchone()
        finally:
            conn.close()
    except sqlite3.Error as error:
        raise ReleaseError(f"{path} is not a published dprk-archive file ({error}): run `dprk-archive build` first") from error
    if row is None:
        raise ReleaseError(f"{path} has no builds row: run `dprk-archive build` first")
    return row[0]


def _states(path: Path) -> tuple[dict[str, tuple], dict[str, tuple]]:
    conn = _connect(path)
    try:
        articles = {r[0]: r[1:] for r in conn.execute("SELECT id, text_hash, version_count, removed_at FROM articles")}
        media = {r[0]: r[1:] for r in conn.execute("SELECT id, title, published, removed_at FROM media")}
    finally:
        conn.close()
    return articles, media


def data_hash(path: Path) -> str:
    """sha256 of the archive's content state (articles and media), independent of build metadata."""
    articles, media = _states(path)
    digest = hashlib.sha256()
    for table, rows in (("articles", articles), ("media", media)):
        for key in sorted(rows):
            digest.update(repr((table, key, rows[key])).encode())
    return digest.hexdigest()


def compare(previous: Path | None, new: Path) -> Changes:
    """Articles added, edited (a new version) and removed, and media added and removed, since `previous`."""
    new_articles, new_media = _states(new)
    old_articles, old_media = _states(previous) if previous else ({}, {})
    added = sorted(i for i in new_articles if i not in old_articles)
    edited = sorted(
        i for i, (text_hash, versions, _) in new_articles.items()
        if i in old_articles and (versions > old_articles[i][1] or text_hash != old_articles[i][0])
    )
    removed = sorted(i for i, state in new_articles.items() if state[2] and (i not in old_articles or not old_articles[i][2]))
    media_added = sorted(i for i in new_media if i not in old_media)
    media_removed = sorted(i for i, state in new_media.items() if state[2] and (i not in old_media or not old_media[i][2]))
    return Changes(added, edited, removed, media_added, media_removed)


def changes_text(version: str, previous_version: str | None, changes: Changes, examples: int = 10) -> str:
    """The CHANGES summary, as Markdown (also the GitHub release notes)."""
    since = f"since {previous_version}" if previous_version else "(first release)"
    lines = [
        f"# dprk-archive {version}",
        "",
        f"Changes {since}:",
        "",
        f"- articles added: {len(changes.added)}",
        f"- articles edited: {len(changes.edited)}",
        f"- articles removed: {len(changes.removed)}",
        f"- media items added: {len(changes.media_added)}",
        f"- media items removed: {len(changes.media_removed)}",
        "",
        "Edited means the canonical text (title, subtitle, body) changed, so a new version was kept;",
        "removed means the outlet answered 404 or 410 on two checks (the article and its versions stay).",
    ]
    for label, ids in (("Edited", changes.edited), ("Removed", changes.removed)):
        if ids:
            shown = ", ".join(ids[:examples]) + (f" and {len(ids) - examples} more" if len(ids) > examples else "")
            lines += ["", f"{label}: {shown}"]
    return "\n".join(lines) + "\n"


def _version_key(version: str) -> tuple[int, ...]:
    return tuple(int(part) for part in version.split("."))


def dated_files(folder: Path, stem: str) -> dict[str, Path]:
    """The dated copies in a releases folder, by version."""
    pattern = re.compile(re.escape(stem) + r"-(\d{4}\.\d{2}\.\d{2}(?:\.\d+)?)\.db$")
    found = {}
    for path in folder.glob(f"{stem}-*.db"):
        match = pattern.match(path.name)
        if match:
            found[match.group(1)] = path
    return found


def make_release(db: str | Path, out: str | Path = DEFAULT_RELEASES, previous: str | Path | None = None) -> Release:
    """Copy the published file to OUT/<stem>-<version>.db, update SHA256SUMS, write CHANGES-<version>.md."""
    db, out = Path(db), Path(out)
    if not db.is_file():
        raise ReleaseError(f"No published database at {db}: run `dprk-archive build` first, or pass --db.")
    version = dataset_version(db)
    out.mkdir(parents=True, exist_ok=True)
    digest, size = sha256_file(db)
    target = out / f"{db.stem}-{version}.db"
    if target.exists():
        # `build` already keeps a dated copy beside the file it publishes; reuse it only if identical.
        if sha256_file(target)[0] != digest:
            raise ReleaseError(f"{target} exists with other contents: move it aside or rebuild")
    else:
        tmp = target.with_name(f".{target.name}.tmp")
        copy_synced(db, tmp)
        replace(tmp, target)

    if previous is None:
        older = {v: p for v, p in dated_files(out, db.stem).items() if _version_key(v) < _version_key(version)}
        previous_path = older[max(older, key=_version_key)] if older else None
    else:
        previous_path = Path(previous)
        if not previous_path.is_file():
            raise ReleaseError(f"No previous release at {previous_path}: pass the previous release's .db file")
    previous_version = dataset_version(previous_path) if previous_path else None
    changes = compare(previous_path, target)
    changes_file = out / f"CHANGES-{version}.md"
    write_synced(changes_file, changes_text(version, previous_version, changes))

    sums = out / SUMS
    write_synced(sums.with_name(f".{SUMS}.tmp"), _sums_text(out, db.stem, sums, target.name, digest))
    replace(sums.with_name(f".{SUMS}.tmp"), sums)
    fsync_dir(out)
    return Release(version, target, digest, size, sums, changes_file, previous_path, changes, data_hash(target))


def _sums_text(out: Path, stem: str, sums: Path, name: str, digest: str) -> str:
    """One line per dated copy present in the folder, in `sha256sum -c` form; known lines are kept, not rehashed."""
    known = {}
    if sums.exists():
        for line in sums.read_text().splitlines():
            parts = line.split()
            if len(parts) == 2:
                known[parts[1].lstrip("*")] = parts[0]
    known[name] = digest
    lines = []
    for version, path in sorted(dated_files(out, stem).items(), key=lambda item: _version_key(item[0])):
        lines.append(f"{known.get(path.name) or sha256_file(path)[0]}  {path.name}\n")
    return "".join(lines)
