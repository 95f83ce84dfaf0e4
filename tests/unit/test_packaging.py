"""The installable package's declarations agree with the rest of the project.

- pyproject.toml's dependencies are requirements.txt's runtime pins, line for line;
- requirements-dev.txt adds the tests' and lint's pins on top of them, and every pin of
  both is the version requirements.lock resolves;
- the runtime code (the core, the tasks, the command line, deploy.py, rotate_keys.py,
  config.py, ops/) imports only what the runtime pins install: no test-only package;
- the Makefile's virtualenv installs both files and is remade when either changes;
- the wheel's package list names every package of the tree, and the command's entry
  point is stackctl.main:main.
"""

from __future__ import annotations

import ast
import re
import sys
import tomllib
from importlib import metadata

from packaging.markers import default_environment
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from tests.conftest import ROOT

PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
#: Code a controller runs: what deploy.py, rotate_keys.py and the command line import.
RUNTIME_CODE = ["postgrest_stack", "stackctl", "tasks", "deploy.py", "rotate_keys.py", "config.py", "ops"]
#: Used only by the tests and lint.
DEV_ONLY = {"pytest", "psycopg", "pyyaml", "ruff", "mypy"}


def pins(name: str) -> dict[str, str]:
    """``{canonical name: version}`` of a requirements file's ``name==version`` lines."""
    found = {}
    for line in (ROOT / name).read_text(encoding="utf-8").splitlines():
        line = line.split("#", 1)[0].strip()
        if line and not line.startswith("-"):
            requirement = Requirement(line)
            (specifier,) = requirement.specifier
            assert specifier.operator == "==", (name, line)
            found[canonicalize_name(requirement.name)] = specifier.version
    return found


def test_pyproject_dependencies_are_the_runtime_pins_of_requirements_txt():
    declared = {}
    for line in PYPROJECT["project"]["dependencies"]:
        requirement = Requirement(line)
        (specifier,) = requirement.specifier
        declared[canonicalize_name(requirement.name)] = specifier.version
    assert declared == pins("requirements.txt")
    assert not DEV_ONLY & set(declared)


def test_requirements_dev_is_the_runtime_pins_plus_the_tests_and_lint():
    lines = [line for line in (ROOT / "requirements-dev.txt").read_text().splitlines()
             if line.strip() and not line.startswith("#")]
    assert lines[0] == "-r requirements.txt"
    dev = pins("requirements-dev.txt")
    assert set(dev) == DEV_ONLY
    assert not set(dev) & set(pins("requirements.txt"))


def test_every_pin_is_the_locked_version():
    locked = pins("requirements.lock")
    for name in ("requirements.txt", "requirements-dev.txt"):
        for package, version in pins(name).items():
            assert locked.get(package) == version, (name, package)


def _installed_closure(roots: set[str]) -> set[str]:
    """The distributions ``roots`` pull in, as the installed metadata declares them."""
    environment = {**default_environment(), "extra": ""}
    seen: set[str] = set()
    todo = list(roots)
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        for line in metadata.requires(name) or []:
            requirement = Requirement(line)
            if requirement.marker is None or requirement.marker.evaluate(environment):
                todo.append(canonicalize_name(requirement.name))
    return seen


def _third_party_imports() -> dict[str, str]:
    """``{top-level module: first file importing it}`` for the runtime code's imports."""
    own = {"postgrest_stack", "stackctl", "tasks"}
    found: dict[str, str] = {}
    files = []
    for entry in RUNTIME_CODE:
        path = ROOT / entry
        files.extend(sorted(path.rglob("*.py")) if path.is_dir() else [path])
    for path in files:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and not node.level and node.module:
                names = [node.module]
            else:
                continue
            for name in names:
                top = name.split(".")[0]
                if top not in own and top not in sys.stdlib_module_names and top != "__future__":
                    found.setdefault(top, str(path.relative_to(ROOT)))
    return found


def test_the_runtime_code_imports_only_what_the_runtime_pins_install():
    providers = metadata.packages_distributions()
    allowed = _installed_closure(set(pins("requirements.txt")))
    imports = _third_party_imports()
    assert {"pyinfra", "jinja2", "jwt", "docker", "dotenv"} <= set(imports)  # the scan sees them
    for module, where in imports.items():
        distributions = {canonicalize_name(d) for d in providers.get(module, [])}
        assert distributions, f"{where} imports {module}, which no installed distribution provides"
        assert distributions & allowed, f"{where} imports {module} ({', '.join(sorted(distributions))}): " \
                                        "not installed by requirements.txt"


def test_a_dev_only_import_in_runtime_code_would_be_caught():
    """The check above is not vacuous: pyyaml and psycopg are outside the runtime closure."""
    allowed = _installed_closure(set(pins("requirements.txt")))
    assert not DEV_ONLY & allowed
    providers = metadata.packages_distributions()
    assert canonicalize_name(providers["yaml"][0]) == "pyyaml"


def test_the_virtualenv_installs_both_files_and_is_remade_when_either_changes():
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    rule = re.search(r"^\$\(VENV\)/\.installed: (.*)\n((?:\t.*\n)+)", makefile, flags=re.M)
    assert rule is not None
    assert set(rule.group(1).split()) == {"requirements.txt", "requirements-dev.txt", "requirements.lock"}
    assert "pip install --quiet -r requirements-dev.txt -c requirements.lock" in rule.group(2)


def test_the_wheel_lists_every_package_and_the_command_runs_stackctl_main():
    packages = {str(init.parent.relative_to(ROOT)).replace("/", ".")
                for top in ("postgrest_stack", "stackctl", "tasks") for init in (ROOT / top).rglob("__init__.py")}
    declared = set(PYPROJECT["tool"]["setuptools"]["packages"])
    assert declared == packages | {"postgrest_stack.templates"}
    assert PYPROJECT["tool"]["setuptools"]["package-dir"] == {"postgrest_stack.templates": "templates"}
    assert PYPROJECT["project"]["scripts"] == {"postgrest-stack": "stackctl.main:main"}
