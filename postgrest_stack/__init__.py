"""Pure core of the PostgREST + Auth0 deployment: settings, rendering, the JWKS guard.

Nothing in this package talks to a host; the pyinfra tasks in ``tasks/`` only move
the bytes computed here. No module of it imports ``tasks``, the command line
(``stackctl/``, beside ``tasks/``; ``__main__.py`` only launches it) or pyinfra, but for
the settings asking pyinfra which data keys it reads itself, inside a function
(tests/unit/test_core_imports.py holds it).

Two folders matter, and they differ once the package is installed (``pip install .``,
the ``postgrest-stack`` command; pyproject.toml):

- :data:`TEMPLATES` come with the code: ``templates/`` of the checkout, or the copy the
  wheel carries inside this package (``postgrest_stack/templates``);
- :data:`PROJECT_ROOT` is the operator's project, where inventories, ``group_data/``,
  ``migrations/``, the secrets file and the development key are looked up. In a checkout
  it is the checkout, as always; installed, the current directory until the command line
  chooses one (:mod:`postgrest_stack.project`: ``-C PROJECT_DIR``, the current directory,
  or the inventory file's). Read it at call time (:func:`project_root`,
  :func:`project_path`), never bound at import, so that choice reaches every module.
"""

from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent

#: True when this package was installed from a wheel (it carries its templates); False
#: when it is imported from a checkout, whose ``templates/`` sits beside it.
INSTALLED = (_PACKAGE / "templates").is_dir()

#: The jinja2 templates the files of a host are rendered from.
TEMPLATES = _PACKAGE / "templates" if INSTALLED else _PACKAGE.parent / "templates"

#: The operator's project: where deploy.py, inventories/, group_data/ and migrations/ live.
PROJECT_ROOT = Path(".").absolute() if INSTALLED else _PACKAGE.parent


def project_root() -> Path:
    """The operator's project, as chosen now (see the module's docstring)."""
    return PROJECT_ROOT


def project_path(name: str | Path) -> Path:
    """A path setting as given, or relative to the project root."""
    path = Path(name)
    return path if path.is_absolute() else PROJECT_ROOT / path
