"""The layers stay layered: read from the source (the AST), so a violation fails here before anyone imports it.

    sandbox/   the sandbox (``python -m bot --sandbox``) and its Bot API server: may import everything below
    bot/       entry point and wiring: may import everything below
    handlers/  one module per flow: imports domain/ and chat/, never bot/ or storage/
    storage/   repositories implementing domain's ports: imports domain/, never handlers/, bot/ or chat/
    chat/      the floor handlers/ and bot/ share (i18n, sending messages): imports none of the above
    domain/    rules (never ``await``) and use cases (``domain/usecases/``): no framework, no other layer

Also: no import cycle among the project's modules (module-level imports, ``TYPE_CHECKING`` ones included), and
no module imports another module's private (``_name``) helpers.
"""

from __future__ import annotations

import ast
from collections.abc import Iterable, Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("domain", "chat", "handlers", "storage", "bot", "sandbox")
FRAMEWORKS = {"telegram", "sqlalchemy", "aiosqlite", "asyncpg", "aiohttp", "httpx", "alembic", "babel"}

# What each layer must never import (top-level names).
FORBIDDEN: dict[str, set[str]] = {
    "domain": FRAMEWORKS | {"chat", "handlers", "storage", "bot", "sandbox"},
    "chat": {"handlers", "storage", "bot", "sandbox"},
    "handlers": {"bot", "storage", "sqlalchemy", "aiosqlite", "asyncpg", "sandbox"},
    "storage": {"chat", "handlers", "bot", "telegram", "sandbox"},
}


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def project_files() -> list[Path]:
    return sorted(path for package in PACKAGES for path in (ROOT / package).rglob("*.py"))


def rule_files() -> list[Path]:
    """The pure modules of ``domain/``: everything but the use cases and the ports."""
    domain = ROOT / "domain"
    return sorted(
        path for path in domain.rglob("*.py") if "usecases" not in path.parts and path.name != "ports.py"
    )


def module_level(tree: ast.Module) -> Iterator[ast.stmt]:
    """The statements that run on import: the module's body, and the bodies of its ``if``/``try`` blocks
    (``if TYPE_CHECKING:`` included), but not functions or classes."""
    pending: list[ast.stmt] = list(tree.body)
    while pending:
        node = pending.pop(0)
        yield node
        if isinstance(node, ast.If):
            pending += node.body + node.orelse
        elif isinstance(node, ast.Try):
            pending += node.body + node.orelse + node.finalbody
            for handler in node.handlers:
                pending += handler.body


def imported_names(tree: ast.Module, *, everywhere: bool = False) -> Iterator[tuple[int, str, str | None]]:
    """``(line, module, name)`` for each import: ``name`` is None for ``import module``. Module level only
    unless ``everywhere``."""
    nodes: Iterable[ast.AST] = ast.walk(tree) if everywhere else module_level(tree)
    for node in nodes:
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name, None
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            for alias in node.names:
                yield node.lineno, node.module, alias.name


def layer_violations(layer: str, source: str) -> list[str]:
    forbidden = FORBIDDEN[layer]
    found = {
        (line, module)
        for line, module, _name in imported_names(ast.parse(source), everywhere=True)
        if module.split(".")[0] in forbidden
    }
    return [f"line {line}: {module}" for line, module in sorted(found)]


def awaiting(source: str) -> list[str]:
    """Where a rule module defines a coroutine or waits for one."""
    kinds = (ast.AsyncFunctionDef, ast.Await, ast.AsyncFor, ast.AsyncWith)
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, kinds):
            found.append(f"line {node.lineno}: {type(node).__name__}")
        elif isinstance(node, ast.comprehension) and node.is_async:
            found.append(f"line {node.iter.lineno}: async comprehension")
    return found


def is_private(name: str) -> bool:
    """``_helper`` is private; ``__name__`` is not, and neither is ``_``, gettext's conventional name."""
    return name.startswith("_") and name != "_" and not name.startswith("__")


def private_imports(source: str, known: set[str]) -> list[str]:
    """``from project.module import _helper`` and ``module._helper`` through an imported project module."""
    tree = ast.parse(source)
    found = []
    aliases: set[str] = set()
    for line, module, name in imported_names(tree, everywhere=True):
        if module.split(".")[0] not in PACKAGES:
            continue
        if name is not None and is_private(name):
            found.append(f"line {line}: from {module} import {name}")
        if name is not None and f"{module}.{name}" in known:
            aliases.add(name)
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            aliases |= {a.asname for a in node.names if a.asname and f"{node.module}.{a.name}" in known}
        elif isinstance(node, ast.Import):
            aliases |= {a.asname or a.name for a in node.names if a.name in known}
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Attribute)
            and isinstance(node.value, ast.Name)
            and node.value.id in aliases
            and is_private(node.attr)
        ):
            found.append(f"line {node.lineno}: {node.value.id}.{node.attr}")
    return found


def import_graph(sources: dict[str, str]) -> dict[str, set[str]]:
    """Module -> the project modules it imports at module level (``from a import b`` is ``a.b`` when that is a
    module, else ``a``)."""
    graph: dict[str, set[str]] = {name: set() for name in sources}
    for name, source in sources.items():
        for _line, module, imported in imported_names(ast.parse(source)):
            target = f"{module}.{imported}" if imported and f"{module}.{imported}" in sources else module
            if target in sources and target != name:
                graph[name].add(target)
            elif target == name:
                graph[name].add(name)
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components with more than one module (or a module importing itself)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:  # Tarjan; the graph is small, recursion is fine
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in sorted(graph[node]):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1 or node in graph[node]:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def sources_of(paths: Iterable[Path]) -> dict[str, str]:
    return {module_name(path): path.read_text(encoding="utf-8") for path in paths}


# --- the project ------------------------------------------------------------------------------------------------


def test_the_layers_are_where_the_tests_look() -> None:
    names = {module_name(path) for path in project_files()}
    assert {"domain.model", "domain.ports", "domain.usecases.booking", "chat.i18n", "handlers.common"} <= names
    assert {"domain.booking", "domain.slots", "domain.availability"} <= {module_name(p) for p in rule_files()}


@pytest.mark.parametrize("path", rule_files(), ids=module_name)
def test_rule_modules_never_await(path: Path) -> None:
    assert awaiting(path.read_text(encoding="utf-8")) == []


@pytest.mark.parametrize("path", rule_files(), ids=module_name)
def test_rule_modules_import_neither_ports_nor_use_cases(path: Path) -> None:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    upward = [
        f"line {line}: {target}"
        for line, module, name in imported_names(tree, everywhere=True)
        for target in (module, f"{module}.{name}")
        if target.startswith(("domain.usecases", "domain.ports"))
    ]
    assert upward == []


def test_ports_declare_and_never_use_the_use_cases() -> None:
    source = (ROOT / "domain" / "ports.py").read_text(encoding="utf-8")
    tree = ast.parse(source)
    assert [n.lineno for n in ast.walk(tree) if isinstance(n, (ast.Await, ast.AsyncFor, ast.AsyncWith))] == []
    assert [m for _l, m, n in imported_names(tree, everywhere=True) if m.startswith("domain.usecases")] == []


@pytest.mark.parametrize(
    "path", [p for p in project_files() if p.relative_to(ROOT).parts[0] in FORBIDDEN], ids=module_name
)
def test_each_layer_imports_only_what_is_below_it(path: Path) -> None:
    layer = path.relative_to(ROOT).parts[0]
    assert layer_violations(layer, path.read_text(encoding="utf-8")) == []


def test_there_is_no_import_cycle() -> None:
    assert cycles(import_graph(sources_of(project_files()))) == []


@pytest.mark.parametrize("path", project_files(), ids=module_name)
def test_no_module_imports_another_modules_private_names(path: Path) -> None:
    known = set(sources_of(project_files()))
    assert private_imports(path.read_text(encoding="utf-8"), known) == []


# --- the checkers themselves --------------------------------------------------------------------------------


def test_the_cycle_finder_finds_a_cycle_through_a_type_checking_import() -> None:
    sources = {
        "domain.ports": "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from domain.inbox import Tab\n",
        "domain.inbox": "from domain.usecases import booking\n",
        "domain.usecases": "",
        "domain.usecases.booking": "from domain.ports import UnitOfWork\n",
        "domain.model": "",
    }
    assert cycles(import_graph(sources)) == [["domain.inbox", "domain.ports", "domain.usecases.booking"]]


def test_the_cycle_finder_ignores_imports_inside_functions() -> None:
    sources = {"a": "import b\n", "b": "def f():\n    import a\n"}
    assert cycles(import_graph(sources)) == []


@pytest.mark.parametrize(
    ("layer", "source"),
    [
        ("domain", "from sqlalchemy import select"),
        ("domain", "import telegram.ext"),
        ("domain", "from storage.uow import SqlUnitOfWork"),
        ("domain", "def f():\n    from handlers import menu"),
        ("handlers", "from bot.dispatcher import Dispatcher"),
        ("handlers", "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from bot.app import x"),
        ("storage", "from handlers.common import Services"),
        ("chat", "from bot.config import Settings"),
    ],
)
def test_the_layer_checker_catches(layer: str, source: str) -> None:
    assert layer_violations(layer, source)


@pytest.mark.parametrize(
    "source",
    ["async def f():\n    pass", "def f(x):\n    return [y async for y in x]", "async def f(x):\n    await x"],
)
def test_the_await_checker_catches(source: str) -> None:
    assert awaiting(source)


@pytest.mark.parametrize(
    "source",
    [
        "from domain.usecases.people import _mentor",
        "from domain.usecases import people\npeople._mentor(1)",
        "from domain.usecases import people as p\np._mentor(1)",
        "import domain.usecases.people as p\np._mentor(1)",
    ],
)
def test_the_private_import_checker_catches(source: str) -> None:
    assert private_imports(source, {"domain.usecases", "domain.usecases.people"})


def test_the_private_import_checker_allows_public_and_dunder_names() -> None:
    source = "from domain.usecases import people\npeople.load_mentor(1)\nx = people.__name__\n"
    source += "from chat.i18n import _"
    assert private_imports(source, {"domain.usecases", "domain.usecases.people"}) == []
