"""The domain stays pure: no framework, database or network imports, and no reading of the clock.

Time comes in through the ``Clock`` port, so ``domain/`` never calls ``datetime.now()`` and friends.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

DOMAIN = Path(__file__).resolve().parents[2] / "domain"
FORBIDDEN_MODULES = {"telegram", "sqlalchemy", "aiosqlite", "asyncpg", "httpx", "aiohttp"}
# (receiver, attribute): ``datetime.now()``, ``datetime.datetime.now()``, ``date.today()``, ``time.time()``, ...
FORBIDDEN_CALLS = {("datetime", "now"), ("datetime", "utcnow"), ("date", "today"), ("time", "time")}
# Names that would make those calls invisible: ``from time import time`` and the like.
FORBIDDEN_FROM_IMPORTS = {("time", "time")}


def domain_files() -> list[Path]:
    return sorted(DOMAIN.rglob("*.py"))


def receiver_name(node: ast.expr) -> str | None:
    """The last name of a call's receiver: ``datetime`` for both ``datetime.now`` and ``dt.datetime.now``."""
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return node.attr
    return None


def violations(source: str) -> list[str]:
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            modules = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            modules = [node.module]
            found += [
                f"line {node.lineno}: from {node.module} import {alias.name}"
                for alias in node.names
                if (node.module, alias.name) in FORBIDDEN_FROM_IMPORTS
            ]
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            if (receiver_name(node.func.value), node.func.attr) in FORBIDDEN_CALLS:
                found.append(f"line {node.lineno}: call {ast.unparse(node.func)}()")
            continue
        else:
            continue
        found += [f"line {node.lineno}: import {m}" for m in modules if m.split(".")[0] in FORBIDDEN_MODULES]
    return found


def test_the_domain_package_is_not_empty() -> None:
    names = {path.name for path in domain_files()}
    assert {"model.py", "availability.py", "slots.py"} <= names


@pytest.mark.parametrize("path", domain_files(), ids=lambda path: path.name)
def test_domain_module_is_pure(path: Path) -> None:
    assert violations(path.read_text(encoding="utf-8")) == []


@pytest.mark.parametrize(
    "source",
    [
        "import telegram",
        "import sqlalchemy.orm",
        "from sqlalchemy.ext.asyncio import AsyncSession",
        "import aiosqlite as db",
        "from asyncpg import connect",
        "import httpx, json",
        "from aiohttp import web",
        "from datetime import datetime\nx = datetime.now()",
        "import datetime\nx = datetime.datetime.now(datetime.timezone.utc)",
        "from datetime import datetime\nx = datetime.utcnow()",
        "from datetime import date\nx = date.today()",
        "import time\nx = time.time()",
        "from time import time",
    ],
)
def test_the_checker_catches(source: str) -> None:
    assert violations(source)


@pytest.mark.parametrize(
    "source",
    [
        "from datetime import datetime, timedelta\nx = datetime(2026, 1, 1) + timedelta(days=1)",
        "from zoneinfo import ZoneInfo\nx = ZoneInfo('UTC')",
        "def now(clock):\n    return clock.now()",
        "import telegramish",
        "from domain.model import Offering",
    ],
)
def test_the_checker_allows(source: str) -> None:
    assert violations(source) == []
