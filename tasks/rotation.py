"""Key rotations of one run: one host at a time, in inventory order, stopping at the first failure.

Why by hand: pyinfra runs an operation on all hosts at once, or with ``_serial`` one
host after another but in the order of its set of active hosts (not the inventory's),
and a failure there does not stop the hosts after it. So each host that needs new keys
registers while preparing (:func:`register`), and gets one operation, run with
``_serial``. Whichever host's operation runs first rotates every registered host up to
and including itself, in inventory order; each host's own operation then reports its
own outcome: changed when its keys were swapped, failed (one line, no traceback) when
it was rolled back or not reached. A host's rotation runs at most once: it is marked
before it starts, so a rotation that raised is never run again by the next host's
operation, which reports "not rotated: the run stopped after ... failed" instead.
"""

from __future__ import annotations

from dataclasses import dataclass

from pyinfra import host, logger
from pyinfra.api.host import Host
from pyinfra.api.state import State
from pyinfra.operations import python

from postgrest_stack.jwks import Jwks
from postgrest_stack.settings import Settings
from tasks import keys, run

OPERATION = "Rotate signing keys, one host at a time"


@dataclass
class HostRotation:
    settings: Settings
    key_file: bytes
    before: list[str]
    after: list[str]
    outcome: str | None = None  # None: not run yet; "" rotated; else the one-line failure
    #: jwks.json already holds key_file (a rotation that stopped before its proof): not rewritten.
    file_current: bool = False


def register(settings: Settings, jwks: Jwks, deployed_kids: list[str], file_current: bool = False) -> None:
    """Plan this host's rotation (while preparing) and add the operation that reports it.

    ``file_current``: the host's jwks.json already holds the new key set, but PostgREST
    never loaded and proved it (a stopped rotation): reload and prove it, no write.
    """
    rotation = HostRotation(settings, jwks.canonical, deployed_kids, list(jwks.kids), file_current=file_current)
    run.of(host.state).rotations[host.name] = rotation
    smoke = "a fresh smoke token must get 200" if settings.smoke_token_command else "no smoke token"
    write = ("jwks.json already holds them, never loaded and proven (a rotation stopped half-way)" if file_current
             else "write jwks.json (previous kept as .prev)")
    # Shown by --dry as well: what this host's rotation would do.
    logger.info(f"{host.print_prefix}key rotation planned: [{', '.join(rotation.before)}] -> "
                f"[{', '.join(rotation.after)}]; "
                f"steps: {write}, SIGUSR2, /ready, key proof, {smoke}; "
                "rolled back on any failure")
    python.call(name=OPERATION, function=_rotate_this_host, _serial=True)


def _rotate_this_host(state: State, host: Host) -> bool:
    """The operation's callback (``state, host``: pyinfra then takes a False as a failure)."""
    rotations = run.of(state).rotations
    _rotate_up_to(state, host.name)
    rotation = rotations[host.name]
    if rotation.outcome:
        host.log_styled(rotation.outcome, fg="red", log_func=logger.error)
        return False
    logger.info(f"{host.print_prefix}{keys.summary(rotation.before, rotation.after)}")
    return True


def _rotate_up_to(state: State, name: str) -> None:
    rotations = run.of(state).rotations
    failed = [target for target, rotation in rotations.items() if rotation.outcome]
    for target in state.inventory:
        rotation = rotations.get(target.name)
        if rotation is not None and rotation.outcome is None:
            if target not in state.active_hosts:
                rotation.outcome = f"{target.name}: not rotated: the host dropped out of the run"
            elif failed:
                rotation.outcome = f"{target.name}: not rotated: the run stopped after {', '.join(failed)} failed"
            else:
                # Marked first: should it raise, no other host's operation runs it again.
                rotation.outcome = f"{target.name}: the rotation stopped before it reported"
                rotation.outcome = keys.rotate_host(target, rotation.settings, rotation.key_file, rotation.before,
                                                    file_current=rotation.file_current)
                if rotation.outcome:
                    failed.append(target.name)
        if target.name == name:
            return
