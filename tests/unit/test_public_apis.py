"""The project uses the public face of its frameworks only (SQLAlchemy, python-telegram-bot, aiosqlite, aiohttp).

Walks the syntax tree of every Python file of the project (the packages, the benchmarks, the scripts, the tests)
and fails on:

* an import of a private module or name: a dotted part or an imported name with a leading underscore
  (``telegram._utils.types``, ``from sqlalchemy.orm import _x``), and the modules those projects keep for
  themselves although their names do not say so: ``sqlalchemy.util`` and ``sqlalchemy.connectors`` (internals),
  the DB-API adapters ``sqlalchemy.dialects.<database>.<driver>`` (``...sqlite.aiosqlite``,
  ``...postgresql.asyncpg``), and anything of aiosqlite but its top-level package (``aiosqlite.core``);
* a private attribute reached through one of those frameworks (``telegram._bot``), or one the project itself
  never defines (``connection._conn``: a framework's or the standard library's private state), apart from the
  underscored public API of result rows and named tuples (``row._mapping``);
* a subclass of a framework class that is not a documented extension point (``DOCUMENTED_SEAMS``: each with
  the page that documents it), of a class marked ``@final``, or an override of a method marked ``@final``
  (``BaseRequest.post``, ``BaseUpdateProcessor.process_update``), also through the project's own base classes.

The checker itself is tested on small sources at the end, so that a rule that stopped matching fails here.
"""

from __future__ import annotations

import ast
import importlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PROJECT_DIRS = ("bot", "chat", "domain", "handlers", "sandbox", "storage", "benchmarks", "scripts", "tests")
FRAMEWORKS = ("sqlalchemy", "telegram", "aiosqlite", "aiohttp")

# Modules without an underscore in their names that are still internal (see the module notes).
PRIVATE_MODULES = ("sqlalchemy.util", "sqlalchemy.connectors")
SQLALCHEMY_DRIVERS = {
    "aiosqlite", "pysqlite", "pysqlcipher", "asyncpg", "psycopg", "psycopg2", "psycopg2cffi", "pg8000",
}  # fmt: skip

# Underscored names that are public API: SQLAlchemy's ``Row`` (and the standard library's named tuples) prefix
# their methods with an underscore so that they cannot clash with column names.
PUBLIC_UNDERSCORED = {"_mapping", "_asdict", "_fields", "_replace", "_make", "_tuple", "_t", "_field_defaults"}

# Framework classes the project may subclass, with where their documentation says so.
DOCUMENTED_SEAMS = {
    # https://docs.sqlalchemy.org/en/21/orm/declarative_styles.html
    "sqlalchemy.orm.DeclarativeBase": "declarative base class",
    # https://docs.sqlalchemy.org/en/21/core/custom_types.html#augmenting-existing-types
    "sqlalchemy.types.TypeDecorator": "custom types",
    "sqlalchemy.TypeDecorator": "custom types",
    # https://docs.python-telegram-bot.org/en/stable/telegram.request.baserequest.html
    "telegram.request.BaseRequest": "custom networking backend",
    # https://docs.python-telegram-bot.org/en/stable/telegram.ext.baseupdateprocessor.html
    "telegram.ext.BaseUpdateProcessor": "custom update processing",
    # https://docs.python-telegram-bot.org/en/stable/telegram.ext.callbackcontext.html (custom context types)
    "telegram.ext.CallbackContext": "custom context class for ContextTypes",
    # https://docs.aiohttp.org/en/stable/abc.html#abstract-resolver ("base for all resolver implementations")
    "aiohttp.abc.AbstractResolver": "custom resolver (bot.calendar_fetch checks the addresses it resolves)",
}


@dataclass
class ClassInfo:
    module: str
    name: str
    line: int
    bases: list[str]  # qualified names: "telegram.request.BaseRequest", "bot.http.AiohttpRequest"
    methods: set[str]


@dataclass
class FileReport:
    path: str
    violations: list[str] = field(default_factory=list)


def project_files() -> list[Path]:
    files: list[Path] = []
    for directory in PROJECT_DIRS:
        files += sorted(p for p in (ROOT / directory).rglob("*.py") if ".venv" not in p.parts)
    return files


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def is_framework(module: str) -> bool:
    return module.split(".")[0] in FRAMEWORKS


def private_module(module: str) -> bool:
    """Whether importing ``module`` (a framework's) reaches into its internals."""
    parts = module.split(".")
    if any(part.startswith("_") for part in parts):
        return True
    if any(module == private or module.startswith(private + ".") for private in PRIVATE_MODULES):
        return True
    if parts[:2] == ["sqlalchemy", "dialects"] and len(parts) >= 4 and parts[3] in SQLALCHEMY_DRIVERS:
        return True
    return parts[0] == "aiosqlite" and len(parts) > 1


def is_private(name: str) -> bool:
    return name.startswith("_") and not (name.startswith("__") and name.endswith("__"))


def import_map(tree: ast.Module, this_module: str) -> dict[str, str]:
    """Local name -> qualified name, for every import in the file (any depth: imports inside functions count)."""
    names: dict[str, str] = {}
    package = this_module.rsplit(".", 1)[0] if "." in this_module else ""
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.asname:
                    names[alias.asname] = alias.name
                else:
                    names[alias.name.split(".")[0]] = alias.name.split(".")[0]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                base = ".".join([*anchor, base] if base else anchor)
            for alias in node.names:
                names[alias.asname or alias.name] = f"{base}.{alias.name}"
    return names


def qualified(node: ast.expr, imports: dict[str, str], this_module: str) -> str | None:
    """``a.b.C`` with ``a`` resolved through the imports; a bare local name is ``this_module.Name``."""
    if isinstance(node, ast.Subscript):  # Generic[...] bases: CallbackContext[ExtBot, dict, dict, dict]
        return qualified(node.value, imports, this_module)
    if isinstance(node, ast.Attribute):
        inner = qualified(node.value, imports, this_module)
        return f"{inner}.{node.attr}" if inner else None
    if isinstance(node, ast.Name):
        return imports.get(node.id, f"{this_module}.{node.id}")
    return None


def defined_private_names(trees: list[ast.Module]) -> set[str]:
    """Every underscored name the project defines anywhere: functions, classes, variables, attributes it assigns,
    ``__slots__`` entries, parameters. An underscored attribute outside this set belongs to someone else."""
    names: set[str] = set()
    for tree in trees:
        for node in ast.walk(tree):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                names.add(node.name)
            elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
                names.add(node.id)
            elif isinstance(node, ast.Attribute) and isinstance(node.ctx, ast.Store):
                names.add(node.attr)
            elif isinstance(node, ast.arg):
                names.add(node.arg)
            elif isinstance(node, ast.Assign) and any(
                isinstance(t, ast.Name) and t.id == "__slots__" for t in node.targets
            ):
                names.update(
                    elt.value
                    for elt in ast.walk(node.value)
                    if isinstance(elt, ast.Constant) and isinstance(elt.value, str)
                )
            elif (  # setattr(obj, "_name", ...)
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Name)
                and node.func.id == "setattr"
                and len(node.args) >= 2
                and isinstance(node.args[1], ast.Constant)
                and isinstance(node.args[1].value, str)
            ):
                names.add(node.args[1].value)
    return {name for name in names if is_private(name)}


def check_imports_and_attributes(
    tree: ast.Module, imports: dict[str, str], own_private: set[str], this_module: str
) -> Iterator[str]:
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if is_framework(alias.name) and private_module(alias.name):
                    yield f"line {node.lineno}: import {alias.name} (internal module)"
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module and is_framework(node.module):
            if private_module(node.module):
                yield f"line {node.lineno}: from {node.module} import ... (internal module)"
                continue
            for alias in node.names:
                if is_private(alias.name) or private_module(f"{node.module}.{alias.name}"):
                    yield f"line {node.lineno}: from {node.module} import {alias.name} (private name)"
        elif isinstance(node, ast.Attribute) and is_private(node.attr) and node.attr not in PUBLIC_UNDERSCORED:
            through = qualified(node.value, imports, this_module)
            if through is not None and is_framework(through):
                yield f"line {node.lineno}: {ast.unparse(node)} (private name of {through.split('.')[0]})"
            elif node.attr not in own_private:
                yield f"line {node.lineno}: {ast.unparse(node)} (private attribute the project does not define)"


def class_infos(tree: ast.Module, imports: dict[str, str], this_module: str) -> list[ClassInfo]:
    infos = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ClassDef):
            bases = [q for q in (qualified(b, imports, this_module) for b in node.bases) if q is not None]
            methods = {
                item.name for item in node.body if isinstance(item, (ast.FunctionDef, ast.AsyncFunctionDef))
            }
            methods |= {
                target.id
                for item in node.body
                if isinstance(item, ast.Assign)
                for target in item.targets
                if isinstance(target, ast.Name)
            }
            infos.append(ClassInfo(this_module, node.name, node.lineno, bases, methods))
    return infos


def resolve_framework(qualname: str) -> object | None:
    """The framework object a qualified name refers to (importing the framework, never the project)."""
    parts = qualname.split(".")
    for cut in range(len(parts), 0, -1):
        try:
            obj: object = importlib.import_module(".".join(parts[:cut]))
        except ImportError:
            continue
        for attribute in parts[cut:]:
            obj = getattr(obj, attribute, None)
            if obj is None:
                return None
        return obj
    return None


def documented_seams() -> list[object]:
    return [resolve_framework(name) for name in DOCUMENTED_SEAMS]


def check_subclasses(info: ClassInfo, classes: dict[str, ClassInfo]) -> Iterator[str]:
    """The class's framework ancestors, reached through project classes too: documented seams only, and no
    override of what they mark final (by the class or any project class between them)."""
    where = f"line {info.line}: class {info.name}"
    pending = [(base, info.methods) for base in info.bases]
    seen: set[str] = set()
    while pending:
        base, overrides = pending.pop()
        if base in seen:
            continue
        seen.add(base)
        if base in classes:  # a project class: carry its own methods along towards the framework
            parent = classes[base]
            pending += [(grand, overrides | parent.methods) for grand in parent.bases]
            continue
        if not is_framework(base):
            continue
        framework_class = resolve_framework(base)
        if not isinstance(framework_class, type):
            yield f"{where}: base {base} not found"
            continue
        if issubclass(framework_class, BaseException):
            continue  # raising a framework's error type of one's own is fine
        if base in info.bases and framework_class not in documented_seams():
            yield f"{where}: subclasses {base}, which is not a documented extension point"
        if getattr(framework_class, "__final__", False):
            yield f"{where}: subclasses {base}, which is marked final"
        for name in sorted(overrides):
            for ancestor in framework_class.__mro__:
                if getattr(ancestor.__dict__.get(name), "__final__", False):
                    yield f"{where}: overrides {ancestor.__qualname__}.{name}, which is marked final"
                    break


def check_files(sources: dict[str, str]) -> dict[str, list[str]]:
    """Violations per module for ``{module name: source}``."""
    trees = {module: ast.parse(source) for module, source in sources.items()}
    own_private = defined_private_names(list(trees.values()))
    imports = {module: import_map(tree, module) for module, tree in trees.items()}
    classes = {
        f"{info.module}.{info.name}": info
        for module, tree in trees.items()
        for info in class_infos(tree, imports[module], module)
    }
    report: dict[str, list[str]] = {}
    for module, tree in trees.items():
        found = list(check_imports_and_attributes(tree, imports[module], own_private, module))
        for info in classes.values():
            if info.module == module:
                found += check_subclasses(info, classes)
        report[module] = found
    return report


@pytest.fixture(scope="module")
def project_report() -> dict[str, list[str]]:
    sources = {module_name(path): path.read_text(encoding="utf-8") for path in project_files()}
    return check_files(sources)


def test_every_project_directory_is_walked() -> None:
    modules = {module_name(path) for path in project_files()}
    for expected in ("bot.app", "domain.model", "handlers.booking", "storage.repositories",
                     "benchmarks.bench_flow", "tests.unit.test_public_apis"):  # fmt: skip
        assert expected in modules


@pytest.mark.parametrize("directory", PROJECT_DIRS)
def test_public_apis_only(directory: str, project_report: dict[str, list[str]]) -> None:
    bad = [
        f"{module}: {violation}"
        for module, found in sorted(project_report.items())
        if module == directory or module.startswith(directory + ".")
        for violation in found
    ]
    assert not bad, "\n".join(["private framework APIs in use:", *bad])


# --- the checker, on small sources ------------------------------------------------------------------------------


def violations(source: str, **more: str) -> list[str]:
    return check_files({"pkg.mod": source, **more})["pkg.mod"]


@pytest.mark.parametrize(
    "source",
    [
        "from telegram._utils.types import ODVInput",
        "import telegram._bot",
        "from telegram.request._requestparameter import RequestParameter",
        "from sqlalchemy.orm import _private",
        "from sqlalchemy.util.concurrency import greenlet_spawn",
        "from sqlalchemy.util import immutabledict",
        "import sqlalchemy.util",
        "from sqlalchemy.connectors.asyncio import AsyncAdapt_dbapi_cursor",
        "from sqlalchemy.dialects.sqlite.aiosqlite import AsyncAdapt_aiosqlite_cursor",
        "from sqlalchemy.dialects.postgresql.asyncpg import AsyncAdapt_asyncpg_dbapi",
        "from sqlalchemy.dialects.sqlite import aiosqlite",
        "from aiosqlite.core import Connection",
        "import aiosqlite.cursor",
        "import telegram\nx = telegram._utils",
        "import aiosqlite\ndef f(c: aiosqlite.Connection):\n    return c._conn",
        "from sqlalchemy.dialects.postgresql.base import PGDialect\nclass D(PGDialect):\n    pass",
        "from sqlalchemy.ext.asyncio import AsyncSession\nclass S(AsyncSession):\n    pass",
        "from telegram.request import BaseRequest\nclass R(BaseRequest):\n    async def post(self):\n        pass",
        "from telegram.ext import BaseUpdateProcessor\n"
        "class P(BaseUpdateProcessor):\n    async def process_update(self, u, c):\n        pass",
        "from telegram.ext import Defaults\nclass D(Defaults):\n    pass",
    ],
)
def test_the_checker_finds(source: str) -> None:
    assert violations(source) != []


def test_the_checker_follows_project_base_classes() -> None:
    base = "from telegram.request import BaseRequest\nclass Mine(BaseRequest):\n    pass\n"
    child = "from pkg.base import Mine\nclass Child(Mine):\n    async def retrieve(self, url):\n        pass\n"
    assert check_files({"pkg.base": base, "pkg.mod": child})["pkg.mod"] != []
    fine = "from pkg.base import Mine\nclass Child(Mine):\n    async def do_request(self):\n        pass\n"
    assert check_files({"pkg.base": base, "pkg.mod": fine})["pkg.mod"] == []


@pytest.mark.parametrize(
    "source",
    [
        "from sqlalchemy import select, text\nfrom sqlalchemy.ext.asyncio import AsyncConnection",
        "from sqlalchemy.dialects import postgresql, sqlite",
        "from sqlalchemy.dialects.postgresql import insert",
        "import aiosqlite\nfrom telegram.ext import Application",
        "from sqlalchemy.orm import DeclarativeBase\nclass Base(DeclarativeBase):\n    pass",
        "from telegram.request import BaseRequest\n"
        "class R(BaseRequest):\n    async def do_request(self):\n        pass",
        "from telegram.error import TelegramError\nclass Mine(TelegramError):\n    pass",
        "def f(row):\n    return row._mapping",
        "class A:\n    def __init__(self):\n        self._x = 1\n    def y(self, other):\n        return other._x",
    ],
)
def test_the_checker_lets_public_use_pass(source: str) -> None:
    assert violations(source) == []
