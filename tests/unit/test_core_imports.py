"""The pure core talks to no host: no module of ``postgrest_stack`` (subpackages included)
imports ``tasks``, ``stackctl`` or pyinfra, nor the ``python -m postgrest_stack`` launcher
(``postgrest_stack/__main__.py``, the one file allowed to import ``stackctl``)."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

from tests.conftest import ROOT

CORE = ROOT / "postgrest_stack"
LAUNCHER = CORE / "__main__.py"
#: Top-level packages the core must not import.
FORBIDDEN = frozenset({"tasks", "stackctl", "pyinfra", "pyinfra_cli"})
def _module_name(path: Path, root: Path) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _absolute(module: str | None, level: int, importer: str, is_package: bool) -> str:
    """``from <level dots><module> import ...`` in ``importer``, as an absolute name."""
    if not level:
        return module or ""
    base = importer.split(".")
    base = base[: len(base) - level + (1 if is_package else 0)]
    return ".".join(base + ([module] if module else []))


def _function_nodes(tree: ast.AST) -> set[int]:
    """ids of the nodes inside a function body (lazy imports)."""
    inside = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
            inside.update(id(child) for child in ast.walk(node) if child is not node)
    return inside


def imports_of(source: str, importer: str, is_package: bool = False) -> list[tuple[str, bool, int]]:
    """Every module ``source`` imports, anywhere in it: (absolute name, lazily, line).
    ``from a import b`` counts as ``a`` and ``a.b`` (b may be a module); constant
    ``importlib.import_module(...)`` and ``__import__(...)`` calls count too."""
    tree = ast.parse(source)
    lazy = _function_nodes(tree)
    found = []
    for node in ast.walk(tree):
        names: list[str] = []
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = _absolute(node.module, node.level, importer, is_package)
            names = [base] + [f"{base}.{alias.name}" if base else alias.name for alias in node.names]
        elif isinstance(node, ast.Call) and node.args and isinstance(node.args[0], ast.Constant) \
                and isinstance(node.args[0].value, str):
            func = node.func
            called = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
            if called in ("import_module", "__import__"):
                names = [node.args[0].value]
        found.extend((name, id(node) in lazy, node.lineno) for name in names)
    return found


def _within(name: str, modules: frozenset[str]) -> bool:
    return any(name == module or name.startswith(f"{module}.") for module in modules)


def violations(path: Path, root: Path = ROOT) -> list[str]:
    """One line per forbidden import in ``path``, a module of ``root``/postgrest_stack."""
    importer = _module_name(path, root)
    shown = path.relative_to(root)
    bad = []
    for name, _lazily, line in imports_of(path.read_text(encoding="utf-8"), importer, path.name == "__init__.py"):
        top = name.split(".")[0]
        if name == "postgrest_stack.__main__":
            bad.append(f"{shown}:{line}: imports the launcher postgrest_stack/__main__.py")
        elif top in FORBIDDEN:
            bad.append(f"{shown}:{line}: imports {name}")
    return bad


def core_modules() -> list[Path]:
    return sorted(path for path in CORE.rglob("*.py") if path != LAUNCHER)


def test_no_core_module_imports_tasks_stackctl_or_pyinfra():
    modules = core_modules()
    # rglob reaches the subpackages (settings/ is one), so the walk is not vacuous
    assert {CORE / "__init__.py", CORE / "render.py", CORE / "jwks.py"} <= set(modules)
    assert any(path.parent != CORE for path in modules), modules
    assert [line for path in modules for line in violations(path)] == []


def test_the_launcher_is_the_entry_point_only():
    imported = {name for name, _lazily, _line in imports_of(LAUNCHER.read_text(encoding="utf-8"),
                                                              "postgrest_stack.__main__")}
    assert imported == {"stackctl.main", "stackctl.main.main"}


def test_the_walk_finds_each_kind_of_forbidden_import(tmp_path):
    # the checker itself: each of these lines alone is reported, in a module and in a subpackage
    sources = {
        "import pyinfra": "pyinfra",
        "from pyinfra.api import State": "pyinfra.api",
        "import tasks.fleet_status as fs": "tasks.fleet_status",
        "from tasks.host_data import load_hosts": "tasks.host_data",
        "from stackctl import main": "stackctl",
        "def later():\n    from tasks import fleet_status": "tasks",
        "def later():\n    from pyinfra.api import State": "pyinfra.api",
        "import importlib\nimportlib.import_module('pyinfra_cli.util')": "pyinfra_cli.util",
        "from . import __main__": "the launcher",
        "from postgrest_stack.__main__ import main": "the launcher",
    }
    for where in ("postgrest_stack/x.py", "postgrest_stack/settings/x.py"):
        for source, expected in sources.items():
            if where.startswith("postgrest_stack/settings/") and source.startswith("from . import"):
                continue  # there `.` is the settings package
            path = tmp_path / where
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(source + "\n")
            found = violations(path, tmp_path)
            assert found and expected in found[0], (where, source, found)
    # what is allowed: the core's own modules and relative ones (settings may not ask
    # pyinfra for its keys either: its callers pass them, tasks.host_data.pyinfra_keys)
    allowed = {
        "postgrest_stack/x.py": "from . import render\nfrom .settings import SettingsError\nimport json",
    }
    keys = tmp_path / "postgrest_stack/settings/resolution.py"
    keys.write_text("def keys():\n    from pyinfra.api.arguments import all_global_arguments\n")
    assert violations(keys, tmp_path)[0] == "postgrest_stack/settings/resolution.py:2: imports pyinfra.api.arguments"
    for where, source in allowed.items():
        path = tmp_path / where
        path.write_text(source + "\n")
        assert violations(path, tmp_path) == [], where


def test_importing_every_core_module_loads_none_of_them():
    # the same promise at run time, third-party imports included
    program = (
        "import importlib, pkgutil, sys, postgrest_stack\n"
        "for found in pkgutil.walk_packages(postgrest_stack.__path__, 'postgrest_stack.'):\n"
        "    if found.name != 'postgrest_stack.__main__':\n"
        "        importlib.import_module(found.name)\n"
        f"print(sorted(name for name in sys.modules if name.split('.')[0] in {sorted(FORBIDDEN)!r}))\n"
        "print(sum(name.startswith('postgrest_stack.') for name in sys.modules))\n"
    )
    done = subprocess.run([sys.executable, "-c", program], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    loaded, count = done.stdout.splitlines()
    assert loaded == "[]"
    assert int(count) >= 20  # every module was imported, not none
