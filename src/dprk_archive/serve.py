"""Datasette settings for the published site, in one place so that `serve` and `publish` agree."""

from __future__ import annotations

import json
import os
import sqlite3
import sys
from pathlib import Path

from .build import inspect_path

PACKAGE = Path(__file__).parent
METADATA = PACKAGE / "metadata.yml"
TEMPLATES = PACKAGE / "templates"
PLUGINS = PACKAGE / "datasette_plugins"
STATIC = PACKAGE / "static"
STATIC_MOUNT = "assets"  # served at /assets/, which the site plugin links its stylesheet from

# Hardened for a public, read-only site. suggest_facets is off: at scale it ran a query per column
# on every table page and dominated page time. facet_time_limit_ms stays Datasette's 200 ms.
SETTINGS = {
    "sql_time_limit_ms": 2000,
    "facet_time_limit_ms": 200,
    "max_returned_rows": 1000,
    "max_csv_mb": 50,
    "allow_download": True,
    "allow_facet": True,
    "suggest_facets": False,
    "default_page_size": 50,
    "truncate_cells_html": 300,
    "default_cache_ttl": 300,
    "num_sql_threads": 3,
}


def datasette_options(db: str | Path) -> list[str]:
    """The Datasette options shared by serve and publish: metadata, templates, plugins, static, settings."""
    options = [
        "--metadata", str(METADATA),
        "--template-dir", str(TEMPLATES),
        "--plugins-dir", str(PLUGINS),
        "--static", f"{STATIC_MOUNT}:{STATIC}",
    ]
    inspect = fresh_inspect_file(db)
    if inspect:
        options += ["--inspect-file", str(inspect)]
    for name, value in SETTINGS.items():
        options += ["--setting", name, json.dumps(value) if isinstance(value, bool) else str(value)]
    return options


def datasette_args(db: str | Path, host: str = "127.0.0.1", port: int = 8001) -> list[str]:
    """The exact `datasette serve` argv for the published file, opened immutable (-i)."""
    return ["datasette", "serve", "-i", str(db), *datasette_options(db), "--host", host, "--port", str(port)]


def fresh_inspect_file(db: str | Path) -> Path | None:
    """The inspect file beside `db` if it describes this very build, else None (Datasette then computes it)."""
    path = inspect_path(Path(db))
    try:
        data = json.loads(path.read_text())
        entry = data[Path(db).stem]
        conn = sqlite3.connect(f"file:{Path(db).resolve()}?mode=ro&immutable=1", uri=True)
        try:
            (version,) = conn.execute("select version from builds order by built_at desc, version desc limit 1").fetchone()
        finally:
            conn.close()
    except (OSError, ValueError, KeyError, TypeError, sqlite3.Error):
        return None
    # An interrupted build can leave the inspect file one build behind: a stale hash would be served
    # as the download's sha256, so only a matching version and size are trusted.
    if entry.get("dataset_version") != version or entry.get("size") != Path(db).stat().st_size:
        return None
    return path


def exec_datasette(db: str | Path, host: str, port: int) -> None:
    """Replace this process with Datasette, so signals and memory readings reach the server itself."""
    args = datasette_args(db, host, port)
    # `python -m datasette` from this interpreter: the venv's Datasette, whatever PATH says.
    os.execvp(sys.executable, [sys.executable, "-m", *args])
