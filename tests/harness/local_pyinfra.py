"""pyinfra's own API against ``@local``: the project's operations and host steps run for
real, in this process, on a directory of this machine, with no SSH and no Docker.

For the fast tests of what otherwise only an end-to-end deploy shows (the key file's
``.prev`` on every path, a rotation's rollback, what ``--diff`` prints). The commands
are the ones a host runs; what they call (``bin/compose``, ``docker``, ``curl``) the
tests put in place as stand-ins.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from pyinfra.api import Config, Inventory, State
from pyinfra.api.connect import connect_all, disconnect_all
from pyinfra.api.deploy import add_deploy
from pyinfra.api.host import Host
from pyinfra.api.operations import run_ops
from pyinfra.context import ctx_host, ctx_state


@contextmanager
def local_host(*, diff: bool = False) -> Iterator[tuple[State, Host]]:
    """A connected pyinfra state whose one host is ``@local`` (``diff``: as with ``--diff``)."""
    inventory = Inventory((["@local"], {}))
    state = State(inventory, Config(DIFF=diff))
    connect_all(state)
    try:
        yield state, inventory.get_host("@local")
    finally:
        disconnect_all(state)


def run_deploy(state: State, deploy_function, *args, **kwargs) -> None:
    """Add a ``@deploy`` function's operations, as deploy.py does, then run them; raise if one failed."""
    add_deploy(state, deploy_function, *args, **kwargs)
    run_ops(state)
    failed = [host.name for host in state.inventory if state.results[host].error_ops]
    assert not failed, f"operations failed on {failed}"


@contextmanager
def in_context(state: State, host: Host) -> Iterator[None]:
    """Where pyinfra runs a python.call callback: this state and host are the current ones."""
    with ctx_state.use(state), ctx_host.use(host):
        yield
