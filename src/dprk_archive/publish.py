"""The `datasette publish` command for the published file, derived from the settings `serve` uses.

Everything `serve` passes to Datasette (metadata, templates, plugins, static files, settings) comes from
`serve.datasette_options`, so a deployed site and a local one cannot drift apart. Only the inspect file
is left out: `datasette publish` computes its own inside the image.
"""

from __future__ import annotations

import re
import sys
from importlib.metadata import PackageNotFoundError, requires, version
from pathlib import Path

from .serve import datasette_options

TARGETS = ("cloudrun", "fly")
DEFAULT_NAME = "dprk-archive"

# Every replica serves the same immutable file, so the platform may run as many as traffic needs.
DEFAULT_MAX_INSTANCES = 10


class PublishError(Exception):
    """The publish command cannot be made; the message says what to do."""


def deployed_packages() -> list[str]:
    """Datasette and its plugins pinned to the versions installed here, the ones the tests ran against."""
    names = ["datasette"]
    for requirement in requires("dprk-archive") or []:
        if "extra ==" in requirement:
            continue
        name = re.split(r"[<>=!~;\[ ]", requirement, maxsplit=1)[0]
        if name.startswith("datasette-"):
            names.append(name)
    pinned = []
    for name in names:
        try:
            # Exact pins: the Dockerfile line is shell, where ">" and "<" would be redirections.
            pinned.append(f"{name}=={version(name)}")
        except PackageNotFoundError as error:
            raise PublishError(f"{name} is not installed: run ./scripts/test or pip install -e . first") from error
    return pinned


def publish_args(
    db: str | Path,
    target: str,
    *,
    name: str = DEFAULT_NAME,
    version_note: str | None = None,
    max_instances: int = DEFAULT_MAX_INSTANCES,
) -> list[str]:
    """The exact `datasette publish TARGET ...` argv that deploys `db` with serve's settings."""
    if target not in TARGETS:
        raise PublishError(f"unknown target {target!r}: use one of {', '.join(TARGETS)}")
    options = datasette_options(db)
    common: list[str] = []
    settings: list[str] = []
    index = 0
    while index < len(options):
        option, value = options[index], options[index + 1]
        if option == "--setting":
            # `datasette publish` has no --setting: settings go to the server through --extra-options.
            settings += [option, value, options[index + 2]]
            index += 3
            continue
        if option != "--inspect-file":
            common += [option, value]
        index += 2
    args = ["datasette", "publish", target, str(db), *common]
    for package in deployed_packages():
        args += ["--install", package]
    if settings:
        args += ["--extra-options", " ".join(settings)]
    if version_note:
        args += ["--version-note", version_note]
    if target == "cloudrun":
        args += ["--service", name, "--max-instances", str(max_instances)]
    else:
        args += ["--app", name]
    return args


def run_publish(args: list[str]) -> int:
    """Run the publish command with this interpreter's Datasette; returns its exit status."""
    import subprocess

    return subprocess.run([sys.executable, "-m", *args]).returncode
