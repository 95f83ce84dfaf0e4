"""Database hosts first: an api host changes nothing while a database it uses is down.

pyinfra orders the operations of a run as a graph: each host's operations in the order
its deploy file added them, and one operation called from the same lines by several
hosts is one node they all pass through. deploy.py adds :func:`wait_for_db_hosts` from
one line on every host with something to do: after their steps on hosts that run a
database, before them on hosts that run PostgREST only. So an api host enters its stack
steps only once every db host's steps are done, and the operation fails it, with one
line naming each db host of this run that failed or could not be reached. Without it,
api hosts would write a new postgrest.conf, wait out the gate's timeout for a database
that never answers and end with "No hosts remaining!", naming nothing. (An api host
also calls it first of all, so an unreachable db host stops it before Docker is
installed.) A db host left out by ``--limit`` is not waited for; a run without both
kinds of hosts (one host running everything, an external database) has no wait.
"""

from __future__ import annotations

from pyinfra import logger
from pyinfra.api.host import Host
from pyinfra.api.state import State
from pyinfra.operations import python

from tasks import controller, run

OPERATION = "Wait for the database hosts"


def wait_for_db_hosts(what: str = "not deployed") -> None:
    """The shared operation; ``what``: how a failing api host's line starts (restore.py:
    "not reloaded")."""
    python.call(name=OPERATION, function=_check, what=what)


def needed(state: State) -> bool:
    """Whether this run has both hosts that run a database and hosts that run PostgREST
    only (the same answer on every host, as the shared operation needs)."""
    roles = [_roles(target) for target in state.inventory if state.is_host_in_limit(target)]
    return any(runs_db for runs_db, _api_only in roles) and any(api_only for _runs_db, api_only in roles)


def db_hosts_down(state: State, this: Host) -> list[str]:
    """The db hosts of this run (in inventory order) that failed or were never connected."""
    down = []
    for target in state.inventory:
        if target is this or not state.is_host_in_limit(target) or not _runs_db(target):
            continue
        if target in state.failed_hosts or target not in state.activated_hosts:
            down.append(target.name)
    return down


def _runs_db(target: Host) -> bool:
    return _roles(target)[0]


def _roles(target: Host) -> tuple[bool, bool]:
    """(runs a database, runs PostgREST only) of an inventory host, resolved once per
    run: every host's deploy asks for every host's."""
    known = run.of(target.state).roles
    if target.name not in known:
        try:
            resolved = controller.host_settings(target)
            known[target.name] = (resolved.runs_db, resolved.runs_api and not resolved.runs_db)
        except controller.CONTROLLER_ERRORS:
            known[target.name] = (False, False)  # its own run fails with its own error
    return known[target.name]


def in_run(state: State) -> list[str]:
    """The hosts of this run (in its --limit) that run a database, by name."""
    return [target.name for target in state.inventory if state.is_host_in_limit(target) and _runs_db(target)]


def _check(state: State, host: Host, what: str = "not deployed") -> bool:
    if _runs_db(host):
        return True  # a db host passes: the operation is there to order the api hosts after it
    down = db_hosts_down(state, host)
    if down:
        host.log_styled(f"{what}: the database host {', '.join(down)} failed or could not be reached; "
                        "nothing changed here", fg="red", log_func=logger.error)
        return False
    return True
