"""A run of deploy.py or rotate_keys.py whose ``--limit`` matches no host stops, non-zero.

pyinfra itself warns ("No host matches found for --limit pattern") and goes on with no
host: nothing changes and it exits 0, so a misspelt canary host passes for a successful
canary. Installed by config.py (read before the inventory is loaded), :func:`install`
wraps pyinfra's ``State.init``, the step that receives the hosts ``--limit`` (and
``--exclude``) left, and raises pyinfra's ``CliError`` there when none is left: one line
listing the inventory's hosts and groups, exit status 1, before any host is connected.

The same step leaves out of a deploy.py or rotate_keys.py run the hosts with
``stack_role = "backup"`` (they only keep offsite backups, tasks/offsite.py), with one
info line each: they are never connected, and need none of the stack's settings.
"""

from __future__ import annotations

import posixpath
import sys

from pyinfra import logger
from pyinfra.api.state import State


def no_host_line(inventory, patterns=()) -> str:
    """The one line for a --limit that left no host: the inventory's hosts and groups."""
    given = f"--limit {','.join(patterns)}" if patterns else "--limit"
    hosts = ", ".join(host.name for host in inventory) or "none"
    groups = ", ".join(sorted(name for name in getattr(inventory, "groups", {}) if inventory.groups[name])) or "none"
    return f"{given} matches no host of the inventory (hosts: {hosts}; groups: {groups})"


#: The runs that leave out the hosts of stack_role "backup".
SKIPS_BACKUP_HOSTS = ("deploy.py", "rotate_keys.py")


def backup_hosts(hosts) -> list:
    """The hosts of ``hosts`` whose data sets stack_role "backup"."""
    return [host for host in hosts if host.data.get("stack_role") == "backup"]


def _scripts(argv: list[str]) -> list[str]:
    from tasks.alerting import run_arguments

    return [posixpath.basename(op) for op in run_arguments(list(argv))[1]]


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

    given = sys.argv[1:] if argv is None else argv
    patterns = limit_patterns(given)
    skips_backup_hosts = bool(set(_scripts(given)) & set(SKIPS_BACKUP_HOSTS))

    init = State.init
    if getattr(init, "limit_guard", False):
        return

    def init_with_guard(self, inventory, config, initial_limit=None):
        if initial_limit is not None and not list(initial_limit):
            raise CliError(no_host_line(inventory, patterns))
        if skips_backup_hosts:
            chosen = list(inventory if initial_limit is None else initial_limit)
            left_out = backup_hosts(chosen)
            for host in left_out:
                logger.info(f"[{host.name}] stack_role backup: keeps offsite backups only; left out of this run")
            if left_out:
                initial_limit = [host for host in chosen if host not in left_out]
                if not initial_limit:
                    raise CliError(f"no host to run on: {', '.join(h.name for h in left_out)} only keep offsite "
                                   "backups (stack_role backup)")
        return init(self, inventory, config, initial_limit=initial_limit)

    init_with_guard.limit_guard = True  # type: ignore[attr-defined]
    State.init = init_with_guard  # type: ignore[method-assign]
