"""Whether the probed ``app_dir`` may become the stack's: pure, from what the probe found.

The deploy makes ``app_dir`` root's (``chown 0:0``, ``chmod 700``) and writes its files
there. That is right for a directory that does not exist yet, an empty one, or one that
already holds a stack of ours (a rerun, or a first deploy that stopped part-way); it is
wrong for a directory that holds someone else's files (a user's project, a mount, another
service's data): :func:`refusal` gives the one line that stops the host first.

Input: the probe's ``HostState.paths`` (probe.py): every path under ``app_dir``,
relative to it, with its kind and mode; ``"."`` is ``app_dir`` itself; empty when
``app_dir`` does not exist (the probe's ``cd`` fails).
"""

from __future__ import annotations

import posixpath
from typing import Mapping

from . import layout
from .layout import DIRECTORIES, JWKS_FILE
from .probe import PathState
from .render import TEMPLATES

#: Files only this stack writes: one of them marks a stack of ours (compose.yaml and .env
#: do not: any compose project has them).
MARKERS = (layout.DIGEST_KEY, "bin/compose", "bin/health-gate", layout.POSTGREST_CONF, JWKS_FILE,
           layout.SUPERUSER_PASSWORD, layout.CADDYFILE)

#: How many of the foreign entries the refusal names.
SHOWN = 5


def managed_files() -> frozenset[str]:
    """Every file a deploy may write under app_dir (any role, any tls_mode)."""
    scripts = {f"bin/{path.name.removesuffix('.j2')}" for path in (TEMPLATES / "bin").glob("*.j2")}
    sql = {f"sql/{path.name.removesuffix('.j2')}" for path in (TEMPLATES / "sql").glob("*.sql.j2")}
    named = {managed.path for managed in layout.ROWS if "*" not in managed.path}
    return frozenset({*named, f"{JWKS_FILE}.prev", *scripts, *sql})


def _staging(relative: str) -> str:
    """The staging name tasks/files.py writes ``relative`` through (``.NAME.new`` beside it)."""
    head, name = posixpath.split(relative)
    return posixpath.join(head, f".{name}.new")


def _ours(relative: str, state: PathState, files: frozenset[str]) -> bool:
    """``relative`` is something a (possibly unfinished) deploy of ours leaves."""
    if relative in DIRECTORIES:
        return state.kind == "d" and state.mode & 0o777 == DIRECTORIES[relative][0]
    return state.kind == "f" and (relative in files or relative in {_staging(name) for name in files})


def refusal(app_dir: str, paths: Mapping[str, PathState]) -> str | None:
    """One line when ``app_dir`` is a non-empty directory holding no stack of ours, else None.

    Ours: a directory with any of :data:`MARKERS`, or one whose every entry is a
    directory or file the deploy makes (directories first, so a first deploy that
    stopped part-way left only those, and at least one of its subdirectories).
    """
    entries = {relative: state for relative, state in paths.items() if relative != "."}
    if not entries:
        return None  # missing or empty
    if any(entries.get(marker) is not None and entries[marker].kind == "f" for marker in MARKERS):
        return None
    files = managed_files()
    if all(_ours(relative, state, files) for relative, state in entries.items()) and \
            any(relative in DIRECTORIES for relative in entries):
        return None
    foreign = [relative for relative, state in entries.items() if not _ours(relative, state, files)] or entries
    top = sorted({relative.split("/", 1)[0] for relative in foreign})
    shown = ", ".join(top[:SHOWN]) + (f", ... ({len(top)} entries)" if len(top) > SHOWN else "")
    return (f"setting 'app_dir' ({app_dir}) is a directory that holds no stack of ours but other files "
            f"({shown}): the deploy would make it root's 0700 and write into it; give a new or empty directory")
