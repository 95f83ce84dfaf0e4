"""A run of deploy.py or rotate_keys.py whose ``--limit`` matches no host stops, non-zero.

pyinfra itself warns ("No host matches found for --limit pattern") and goes on with no
host: nothing changes and it exits 0, so a misspelt canary host passes for a successful
canary. Installed by config.py (read before the inventory is loaded), :func:`install`
wraps pyinfra's ``State.init``, the step that receives the hosts ``--limit`` (and
``--exclude``) left, and raises pyinfra's ``CliError`` there when none is left: one line
listing the inventory's hosts and groups, exit status 1, before any host is connected.
"""

from __future__ import annotations

import sys

from pyinfra.api.state import State


def no_host_line(inventory, patterns=()) -> str:
    """The one line for a --limit that left no host: the inventory's hosts and groups."""
    given = f"--limit {','.join(patterns)}" if patterns else "--limit"
    hosts = ", ".join(host.name for host in inventory) or "none"
    groups = ", ".join(sorted(name for name in getattr(inventory, "groups", {}) if inventory.groups[name])) or "none"
    return f"{given} matches no host of the inventory (hosts: {hosts}; groups: {groups})"


def limit_patterns(argv: list[str]) -> list[str]:
    """The --limit patterns of a ``pyinfra`` command line, read with pyinfra's own parser."""
    from pyinfra_cli.cli import cli

    try:
        params = cli.make_context("pyinfra", list(argv), resilient_parsing=True).params
    except Exception:  # noqa: BLE001 - pyinfra reports its own usage errors
        return []
    return [pattern for given in params.get("limit") or () for pattern in str(given).split(",") if pattern]


def install(argv: list[str] | None = None) -> None:
    from pyinfra_cli.exceptions import CliError

    patterns = limit_patterns(sys.argv[1:] if argv is None else argv)

    init = State.init
    if getattr(init, "limit_guard", False):
        return

    def init_with_guard(self, inventory, config, initial_limit=None):
        if initial_limit is not None and not list(initial_limit):
            raise CliError(no_host_line(inventory, patterns))
        return init(self, inventory, config, initial_limit=initial_limit)

    init_with_guard.limit_guard = True  # type: ignore[attr-defined]
    State.init = init_with_guard  # type: ignore[method-assign]
