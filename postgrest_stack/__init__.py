"""Pure core of the PostgREST + Auth0 deployment: settings, rendering, the JWKS guard.

Nothing in this package talks to a host; the pyinfra tasks in ``tasks/`` only move
the bytes computed here. No module of it imports ``tasks``, the command line
(``stackctl/``, beside ``tasks/``; ``__main__.py`` only launches it) or pyinfra, but for
the settings asking pyinfra which data keys it reads itself, inside a function
(tests/unit/test_core_imports.py holds it).
"""

from pathlib import Path

#: The project root: where deploy.py, templates/ and group_data/ live.
PROJECT_ROOT = Path(__file__).resolve().parent.parent


def project_path(name: str | Path) -> Path:
    """A path setting as given, or relative to the project root."""
    path = Path(name)
    return path if path.is_absolute() else PROJECT_ROOT / path
