"""What the hosts of one pyinfra run share, kept in one object for that run.

pyinfra executes deploy.py (or rotate_keys.py) once per host, in one process, and then
runs the operations. Whatever the hosts of a run must share lives on one
:class:`RunState`, attached to that run's pyinfra ``State``: the JWKS fetched and
validated once (so every host gets the same bytes), the images exported once, and the
key rotations to carry out in inventory order (tasks/rotation.py). Nothing of a run
outlives it in a module global.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pyinfra.api.state import State

    from postgrest_stack.jwks import Jwks
    from tasks.images import ControllerImageCache
    from tasks.offsite import Fetched
    from tasks.rotation import HostRotation
    from tasks.runlock import RunInfo

_ATTRIBUTE = "postgrest_stack_run"


@dataclass
class RunState:
    jwks_by_url: dict[str, Jwks] = field(default_factory=dict)
    #: Hosts that need new keys, by name, registered while preparing (tasks/rotation.py).
    rotations: dict[str, HostRotation] = field(default_factory=dict)
    images: ControllerImageCache | None = None
    #: (runs a database, runs PostgREST only) by host name, resolved once (tasks/db_first.py).
    roles: dict[str, tuple[bool, bool]] = field(default_factory=dict)
    #: Every host's db_host checked against the db hosts' db_bind (tasks/controller.py).
    db_addresses_checked: bool = False
    #: Who runs, and the hosts this run locked (tasks/runlock.py).
    run_info: RunInfo | None = None
    #: The backup fetch_offsite chose, by host name (its ``name`` is filled when its operation ran).
    fetched: dict[str, Fetched] = field(default_factory=dict)
    #: The --data keys this run's script takes besides the settings (restore.py's).
    run_parameters: tuple[str, ...] = ()


def of(state: State) -> RunState:
    """This run's shared state (created on first use)."""
    run = getattr(state, _ATTRIBUTE, None)
    if run is None:
        run = RunState()
        setattr(state, _ATTRIBUTE, run)
    return run
