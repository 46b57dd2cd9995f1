"""`dprk-archive publish`: the `datasette publish` command derived from serve's settings, so they cannot drift."""

from __future__ import annotations

import os
import shlex
import stat
from pathlib import Path

import pytest
from click.testing import CliRunner

from dprk_archive import serve
from dprk_archive.cli import cli
from dprk_archive.publish import publish_args
from site_fixtures import build_site


@pytest.fixture(scope="module")
def published(tmp_path_factory) -> Path:
    return build_site(tmp_path_factory.mktemp("publish"))


def option_values(args: list[str], option: str) -> list[str]:
    return [args[i + 1] for i, a in enumerate(args) if a == option]


def dry_run(db: Path, target: str) -> list[str]:
    result = CliRunner().invoke(cli, ["publish", "--target", target, "--db", str(db), "--dry-run"])
    assert result.exit_code == 0, result.output
    return shlex.split(result.output)


@pytest.mark.parametrize("target", ["cloudrun", "fly"])
def test_dry_run_prints_the_complete_command_with_serves_settings(published, target):
    args = dry_run(published, target)
    assert args[:4] == ["datasette", "publish", target, str(published)]
    served = serve.datasette_args(published)
    for option in ("--metadata", "--template-dir", "--plugins-dir", "--static"):
        assert option_values(args, option) == option_values(served, option) != []
    assert option_values(args, "--metadata") == [str(serve.METADATA)]
    assert option_values(args, "--template-dir") == [str(serve.TEMPLATES)]
    assert option_values(args, "--plugins-dir") == [str(serve.PLUGINS)]
    (extra,) = option_values(args, "--extra-options")
    served_settings = [served[i:i + 3] for i, a in enumerate(served) if a == "--setting"]
    extra_words = extra.split()
    assert [extra_words[i:i + 3] for i in range(0, len(extra_words), 3)] == served_settings
    assert len(served_settings) == len(serve.SETTINGS)
    # The plugins the site needs, pinned to the versions the tests ran against.
    installs = option_values(args, "--install")
    assert any(p.startswith("datasette==0.65.") for p in installs)
    assert "datasette-search-all==1.1.4" in installs and "datasette-atom==0.9" in installs
    assert not any(c in " ".join(installs) for c in "<>")
    assert option_values(args, "--version-note") == ["dataset 2026.11.28"]
    assert "--inspect-file" not in args
    if target == "cloudrun":
        assert option_values(args, "--service") == ["dprk-archive"]
        assert int(option_values(args, "--max-instances")[0]) > 1
    else:
        assert option_values(args, "--app") == ["dprk-archive"]


def test_the_dry_run_is_what_publish_args_returns(published):
    assert dry_run(published, "cloudrun") == publish_args(published, "cloudrun", version_note="dataset 2026.11.28")


def test_publish_to_cloudrun_ships_serves_settings_in_the_image(published, tmp_path):
    """Run the real `datasette publish cloudrun` against a stand-in gcloud that keeps the build context."""
    bin_dir, context, calls = tmp_path / "bin", tmp_path / "context", tmp_path / "calls"
    bin_dir.mkdir()
    gcloud = bin_dir / "gcloud"
    gcloud.write_text(
        "#!/bin/sh\n"
        f'echo "$*" >> "{calls}"\n'
        'case "$*" in\n'
        '  "config get-value project") echo test-project ;;\n'
        f'  "builds submit"*) cp -r . "{context}" ;;\n'
        "esac\n"
    )
    gcloud.chmod(gcloud.stat().st_mode | stat.S_IEXEC)
    env = {**os.environ, "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}"}
    result = CliRunner().invoke(cli, ["publish", "--target", "cloudrun", "--db", str(published)], env=env)
    assert result.exit_code == 0, result.output
    dockerfile = (context / "Dockerfile").read_text()
    command = shlex.split(dockerfile.split("CMD ", 1)[1].replace("$PORT", "8080"))
    assert command[:2] == ["datasette", "serve"] and option_values(command, "-i") == ["dprk-archive.db"]
    assert option_values(command, "--metadata") == ["metadata.json"]
    assert option_values(command, "--template-dir") == ["templates/"]
    assert option_values(command, "--plugins-dir") == ["plugins/"]
    for name, value in serve.SETTINGS.items():
        assert ["--setting", name, str(value).lower() if isinstance(value, bool) else str(value)] in [
            command[i:i + 3] for i, a in enumerate(command) if a == "--setting"]
    assert "datasette-search-all==1.1.4" in dockerfile
    assert {p.name for p in (context / "templates").iterdir()} == {p.name for p in serve.TEMPLATES.iterdir()}
    assert {p.name for p in (context / "plugins").glob("*.py")} == {p.name for p in serve.PLUGINS.glob("*.py")}
    assert (context / "assets" / "site.css").exists()
    deploy = [line for line in calls.read_text().splitlines() if line.startswith("run deploy")]
    assert deploy and "dprk-archive" in deploy[0] and "--max-instances 10" in deploy[0]


def test_publish_without_a_built_file_says_what_to_do(tmp_path):
    result = CliRunner().invoke(cli, ["publish", "--target", "cloudrun", "--db", str(tmp_path / "none.db"), "--dry-run"])
    assert result.exit_code == 1 and "dprk-archive build" in result.output
