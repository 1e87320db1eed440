"""The ``mentor-desk`` command (``[project.scripts]`` in pyproject.toml) is ``python -m bot`` under another name.

The installed script is run as a user runs it. An environment installed before the script was declared has none:
the test then fails on CI (``CI`` set, where ``.ci/run`` installs the project afresh) and is skipped locally with
what to run (``pip install -e '.[test]'``).
"""

from __future__ import annotations

import importlib.metadata
import os
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from tests.dbutil import on_ci

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = "mentor-desk"


def declared_target() -> str:
    with (ROOT / "pyproject.toml").open("rb") as file:
        return tomllib.load(file)["project"]["scripts"][SCRIPT]


def installed_script() -> Path:
    """The script pip made in this environment's scripts directory, for the entry point pyproject declares."""
    script = Path(sys.executable).parent / SCRIPT
    points = importlib.metadata.entry_points(group="console_scripts", name=SCRIPT)
    installed = [point.value for point in points]
    if script.exists() and installed == [declared_target()]:
        return script
    reason = (
        f"{script} is missing or installed for {installed} instead of {declared_target()!r}: "
        f"run .venv/bin/pip install -e '.[test]'"
    )
    if on_ci():
        pytest.fail(f"{reason} (required on CI)", pytrace=False)
    pytest.skip(f"{reason} - skipped locally; on CI (CI=true) this fails")


def run(*command: str | Path, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    """``command``'s output, without the settings of this environment (``BOT_TOKEN``, ...) and at a fixed width."""
    env = {name: value for name, value in os.environ.items() if name in ("PATH", "HOME", "LANG", "SYSTEMROOT")}
    env["COLUMNS"] = "200"  # argparse wraps its help to the terminal's width
    return subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, timeout=60, check=False)


def test_the_installed_script_shows_the_same_help_as_python_m_bot_under_its_own_name() -> None:
    script = run(installed_script(), "--help")
    module = run(sys.executable, "-m", "bot", "--help")

    assert script.returncode == 0, script.stderr
    assert module.returncode == 0, module.stderr
    assert script.stdout.startswith("usage: mentor-desk [-h] [--sandbox]")
    assert module.stdout.startswith("usage: python -m bot [-h] [--sandbox]")
    assert script.stdout.replace("mentor-desk", "python -m bot") == module.stdout


def test_the_installed_script_refuses_sandbox_options_without_sandbox_like_python_m_bot() -> None:
    result = run(installed_script(), "--port", "9000")

    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr.splitlines()[-1] == "mentor-desk: error: --port, --host and --reset go with --sandbox"


def test_the_installed_script_without_options_runs_the_bot_which_checks_its_settings_first(tmp_path: Path) -> None:
    result = run(installed_script(), cwd=tmp_path)  # no BOT_TOKEN, and no .env in tmp_path

    assert result.returncode == 2
    assert result.stderr.startswith("mentor-desk: BOT_TOKEN is not set")
