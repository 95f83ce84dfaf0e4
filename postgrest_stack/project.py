"""Which folder is the operator's project, for the command line (``-C PROJECT_DIR``).

The project holds deploy.py, inventories/, group_data/, migrations/ and the secrets
file; :data:`postgrest_stack.PROJECT_ROOT` names it for every module. Chosen, in order:

1. ``-C PROJECT_DIR``: that folder, and the command runs as if started there (relative
   paths on the command line are read from it), as ``git -C`` and ``make -C`` do;
2. in a checkout (not installed): the checkout, as it always was;
3. the current directory, when it holds deploy.py or group_data/;
4. the inventory file's folder or the nearest folder above it that holds deploy.py or
   group_data/ (``inventories/prod.py`` sits one below its project), else the inventory
   file's folder itself (pyinfra reads ``group_data/`` beside an inventory too);
5. the current directory.
"""

from __future__ import annotations

import os
from pathlib import Path

import postgrest_stack

from .settings import SettingsError


def is_project(folder: Path) -> bool:
    """``folder`` looks like an operator's project: it holds deploy.py or group_data/."""
    return (folder / "deploy.py").is_file() or (folder / "group_data").is_dir()


def find(cwd: Path, inventory: str | None) -> Path:
    """Rules 3 to 5 of the module's docstring: the project of a command started in
    ``cwd`` with ``inventory`` (a path as given, or None)."""
    if is_project(cwd):
        return cwd
    if inventory is not None:
        path = cwd / inventory
        if path.is_file():
            folder = path.resolve().parent
            for candidate in (folder, *folder.parents):
                if is_project(candidate):
                    return candidate
            return folder
    return cwd


def choose(project_dir: str | None, inventory: str | None) -> Path:
    """Set :data:`postgrest_stack.PROJECT_ROOT` for this command and return it; with
    ``project_dir`` (``-C``) also change into it. A ``-C`` folder that does not exist is
    one line, before anything is read."""
    if project_dir is not None:
        folder = Path(project_dir)
        if not folder.is_dir():
            raise SettingsError(f"-C {project_dir}: no such directory")
        os.chdir(folder)
        postgrest_stack.PROJECT_ROOT = Path.cwd()
    elif postgrest_stack.INSTALLED:
        postgrest_stack.PROJECT_ROOT = find(Path.cwd(), inventory)
    return postgrest_stack.PROJECT_ROOT
