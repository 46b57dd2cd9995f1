"""The README cannot drift: generated parts are checked, and its examples run as a new user would run them."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from dprk_archive.cli import cli
from dprk_archive.mirror.server import start_mirror

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
DOCS = ROOT / "scripts" / "docs"
# Servers that run until Ctrl-C: the test starts its own mirror, and `serve` is tested in test_site.py.
SERVERS = ("dprk-archive mirror", "dprk-archive serve")


def docs(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(DOCS), *args], capture_output=True, text=True, timeout=120)


def test_readme_starts_with_the_two_setup_commands():
    lines = README.read_text().splitlines()
    assert lines[0] == "# dprk-archive"
    block = lines[lines.index("```bash") + 1: lines.index("```")]
    assert [line.split("#")[0].strip() for line in block] == ["./scripts/demo", "./scripts/test"]
    assert all("#" in line for line in block)


def test_generated_parts_of_the_readme_are_current():
    result = docs("--check")
    assert result.returncode == 0, result.stdout + result.stderr + "\nRun ./scripts/docs to update README.md."


def test_the_check_fails_on_a_stale_readme(tmp_path):
    stale = tmp_path / "README.md"
    text = README.read_text()
    # An option whose help changed, and a column whose description changed, since the README was generated.
    text = text.replace("Print the command instead of running it.", "Print the command.", 1)
    text = text.replace("| Headline as published |", "| Headline |", 1)
    stale.write_text(text)
    result = docs("--check", "--readme", str(stale))
    assert result.returncode == 1
    assert "Print the command instead of running it." in result.stdout and "stale" in result.stderr
    assert stale.read_text() == text, "--check must not change the file"
    assert docs("--readme", str(stale)).returncode == 0
    assert docs("--check", "--readme", str(stale)).returncode == 0


def test_every_command_has_a_readme_section(tmp_path):
    text = README.read_text()
    for name in cli.commands:
        assert f"### {name}\n" in text and f"<!-- generated:help:{name} -->" in text, name
    missing = tmp_path / "README.md"
    missing.write_text(text.replace("<!-- generated:help:release -->", "").replace("<!-- /generated:help:release -->", ""))
    result = docs("--check", "--readme", str(missing))
    assert result.returncode != 0 and "release" in result.stderr


def readme_examples() -> list[str]:
    """The shell lines of the README's examples, in order, from the Commands section to the queries."""
    text = README.read_text()
    start, end = text.index("## Commands"), text.index("## What the data is")
    lines = []
    for block in re.findall(r"```bash\n(.*?)```", text[start:end], re.S):
        for line in block.splitlines():
            if line.strip() and not line.startswith(SERVERS) and line != "source .venv/bin/activate":
                lines.append(line)
    return lines


def test_the_readme_examples_run_as_written(tmp_path):
    examples = readme_examples()
    assert any(line.startswith("dprk-archive release") for line in examples)
    if shutil.which("sqlite3") is None:
        examples = [line for line in examples if not line.startswith("sqlite3 ")]
    with start_mirror(port=0, articles=300, seed=1) as mirror:
        script = "set -euo pipefail\n" + "\n".join(
            f"echo '+ {i}' >&2\n" + line.replace("http://127.0.0.1:8765", mirror.base_url)
            for i, line in enumerate(examples)
        )
        env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
        result = subprocess.run(["bash", "-c", script], cwd=tmp_path, env=env, capture_output=True, text=True,
                                timeout=600)
    assert result.returncode == 0, f"README example failed:\n{result.stderr[-3000:]}"
    out = result.stdout
    assert '"title"' in out and '"regions"' in out  # parse printed an article
    assert '["South Hwanghae", "Rason"]' in out  # regions
    assert "datasette publish cloudrun build/dprk-archive.db" in out
    assert "changed=true" in out and "articles added:" in out
    assert ": OK" in out  # sha256sum -c
    assert (tmp_path / "build" / "dprk-archive.db").exists()


RELIABILITY = ROOT / "docs" / "reliability.md"


def ledger_rows_in_reliability_doc() -> dict[str, tuple[str, str]]:
    """fault -> (injected, outcome) from the ledger table in docs/reliability.md."""
    text = RELIABILITY.read_text()
    table = text[text.index("<!-- ledger"):text.index("<!-- /ledger -->")]
    rows = {}
    for line in table.splitlines():
        cells = [c.strip() for c in re.split(r"(?<!\\)\|", line)[1:-1]]
        if len(cells) == 4 and cells[2] not in ("injected", "---:"):
            rows[cells[0].replace("\\|", "|").replace("&lt;", "<")] = (cells[2], cells[3])
    return rows


def test_reliability_doc_lists_every_fault_and_attack_the_suite_injects():
    from faultserver import DESCRIPTIONS, FAULTS

    rows = ledger_rows_in_reliability_doc()
    # Every fault the server can inject is described, and every described one has a row with a count:
    # a fault added to the server or the suite without its row in the document fails here.
    assert set(FAULTS) - set(DESCRIPTIONS) - {"ok", "flaky", "robots-missing"} == set()
    assert set(DESCRIPTIONS) - set(rows) == set()
    assert set(rows) - set(DESCRIPTIONS) == set()
    never = [fault for fault, (count, outcome) in rows.items() if count == "0" or "not injected" in outcome]
    assert never == []


def test_reliability_doc_names_test_files_that_exist():
    named = set(re.findall(r"`(tests/[\w/]+\.py)`", RELIABILITY.read_text()))
    assert len(named) >= 10
    assert [name for name in sorted(named) if not (ROOT / name).exists()] == []
