"""One run at a time on a host, and one audit line per run: for deploy.py, rotate_keys.py
(and the backup, restore and rollback runs: call :func:`probe_host` instead of
tasks.probe_host's, and :func:`mark_started` before the host's first change).

Why this design. pyinfra runs every operation's command in its own SSH exec channel,
so no command lives as long as the run; but all of a run's channels to a host come
from one SSH connection, served on the host by one sshd session process that ends when
the connection does. The probe (the run's first command on the host) starts with
:func:`postgrest_stack.runs.lock_script`: it takes ``flock`` on a file beside
``app_dir`` and hands the lock's descriptor to a detached holder that polls that sshd
process (``kill -0`` every 0.2 s) and exits when it is gone; the kernel frees a flock
when its last descriptor closes. So:

- the run ends normally: pyinfra disconnects, the sshd process ends, the lock is free
  within 0.2 s (a next run that finds the lock of an ended run waits for it, 5 s at most);
- the controller is killed (SIGKILL, power loss of the controller's process): its
  kernel closes the TCP connection, sshd ends the session at once, same as above;
- the network is lost: the lock is held until sshd gives the connection up
  (``ClientAliveInterval`` x ``ClientAliveCountMax``, or TCP keepalive when those are
  unset): the host cannot tell a slow run from a lost one sooner, and a lease with an
  expiry would free the host under a run that is still changing it;
- the host reboots: the holder is gone, the lock free.

No lease file is renewed and nothing expires by time; the lock costs no command of its
own (it rides in the probe: a no-change rerun stays one remote command per host). A
second run finds the lock taken and stops with one line naming the holder (who, which
command, since when), or waits up to ``lock_wait`` seconds for it.

The audit line is written by the same holder when the run ends (so it is written even
for a killed run, and before the lock is free): a pending line beside the lock, first
``no change`` (``dry run`` for --dry), then ``interrupted`` once the host's first
operation ran (:func:`mark_started`: one command, in runs that change something), then
the outcome (``success`` / ``failed`` and the names of the operations that changed),
written by :func:`install`'s hook when pyinfra disconnects from a host still reachable.
"""

from __future__ import annotations

import getpass
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field

from pyinfra import host
from pyinfra.api.arguments import CONNECTOR_ARGUMENT_KEYS, pop_global_arguments
from pyinfra.api.command import StringCommand
from pyinfra.api.exceptions import PyinfraError
from pyinfra.operations import server

from postgrest_stack import probe, project_root, runs
from postgrest_stack.probe import HostState
from postgrest_stack.settings import Settings
from tasks import run
from tasks.facts import StackProbe
from tasks.probe_host import probe_arguments

#: The scripts a run of which takes the lock (the runs config.py installs this for).
LOCKED_SCRIPTS = ("deploy.py", "rotate_keys.py", "backup.py", "restore.py")
MARK_OPERATION = "Audit: run started"


@dataclass
class RunInfo:
    """This run's controller, command and commit, and the hosts it locked (name: app_dir)."""

    controller: runs.Controller
    commit: str | None
    dirty: bool
    dry: bool
    locked: dict[str, str] = field(default_factory=dict)
    #: Hosts whose app_dir is not the stack's (refused): no audit line written into it.
    unaudited: set[str] = field(default_factory=set)


def _now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


def git_commit() -> tuple[str | None, bool]:
    """(the project's commit, whether its work tree differs from it); (None, False) out of git."""
    try:
        head = subprocess.run(["git", "-C", str(project_root()), "rev-parse", "HEAD"], capture_output=True,
                              text=True, timeout=10)
        if head.returncode != 0:
            return None, False
        changes = subprocess.run(["git", "-C", str(project_root()), "status", "--porcelain", "--untracked-files=no"],
                                 capture_output=True, text=True, timeout=30)
        return head.stdout.strip(), bool(changes.stdout.strip())
    except (OSError, subprocess.SubprocessError):
        return None, False


def info(state, argv: list[str] | None = None) -> RunInfo:
    """This run's :class:`RunInfo` (made once per run)."""
    shared = run.of(state)
    if shared.run_info is None:
        args = list(sys.argv[1:] if argv is None else argv)
        script = next((name for name in LOCKED_SCRIPTS if any(arg.endswith(name) for arg in args)), "")
        commit, dirty = git_commit()
        controller = runs.Controller(f"{getpass.getuser()}@{socket.gethostname()}",
                                     runs.command_line(script, args), _now())
        shared.run_info = RunInfo(controller, commit, dirty, dry="--dry" in args)
    return shared.run_info


class LockedStackProbe(StackProbe):
    """The probe behind the run's lock: ``(None, HostState)`` once taken, ``(why, None)`` when not."""

    # Every argument by name: pyinfra passes a fact's arguments by the command's signature.
    def command(self, lock_owner, pending, lock_wait, app_dir, stack_name, admin_port, postgrest_version,
                external=None, images=(), secret_files=(), details=False, backups_path=None):
        return runs.lock_script(app_dir, lock_owner, pending, lock_wait) + super().command(
            app_dir, stack_name, admin_port, postgrest_version, external=external, images=images,
            secret_files=secret_files, details=details, backups_path=backups_path)

    def process(self, output):
        why, lines = runs.split_lock(list(output))
        return (why, None) if why else (None, probe.parse(lines))


def probe_host(settings: Settings) -> HostState:
    """Take this host's lock for the run and probe it, in one command; a host locked by
    another run stops this run with one line naming the holder."""
    current = info(host.state)
    pending = runs.audit_line(current.controller.started, host.name, current.controller, current.commit,
                              current.dirty, [], "dry run" if current.dry else "no change")
    why, state = host.get_fact(LockedStackProbe, lock_owner=runs.owner(current.controller), pending=pending,
                               lock_wait=settings.lock_wait, **probe_arguments(settings))
    if why:
        raise PyinfraError(f"{host.name}: {why} ({runs.lock_file(settings.app_dir)}); "
                           + ("retry once it is over, or set lock_wait" if not settings.lock_wait
                              else f"still held after lock_wait={settings.lock_wait}s"))
    current.locked[host.name] = settings.app_dir
    return state


def mark_started(settings: Settings) -> None:
    """Before this host's first change: its audit line says ``interrupted`` until the run's end replaces it."""
    current = info(host.state)
    line = runs.audit_line(_now(), host.name, current.controller, current.commit, current.dirty, [], "interrupted")
    server.shell(name=MARK_OPERATION, commands=[runs.pending_script(settings.app_dir, line)])


def no_audit() -> None:
    """This host's app_dir is someone else's (the run refuses it): write no audit line there."""
    info(host.state).unaudited.add(host.name)


def outcome(state, target) -> tuple[str, list[str]] | None:
    """(result, names of the operations that changed) of a host whose operations ran; None when none ran."""
    ran, changed = False, []
    for op_hash in state.get_op_order():
        try:
            meta = state.get_op_data_for_host(target, op_hash).operation_meta
        except KeyError:
            continue
        if not meta.is_complete():
            continue
        ran = True
        names = sorted(state.get_op_meta(op_hash).names)
        if meta.did_change() and MARK_OPERATION not in names:
            changed.extend(names)
    if not ran:
        return None
    return ("failed" if target in state.failed_hosts else "success"), changed


def write_outcomes(state) -> None:
    """Before pyinfra disconnects: each locked host whose operations ran gets its outcome as pending line."""
    shared = run.of(state).run_info
    if shared is None:
        return
    for target in state.inventory:
        app_dir = shared.locked.get(target.name)
        found = outcome(state, target) if app_dir and target.connected else None
        if app_dir is None or found is None:
            continue
        result, changed = found
        line = ("" if target.name in shared.unaudited else
                runs.audit_line(_now(), target.name, shared.controller, shared.commit, shared.dirty, changed, result))
        global_kwargs, _ = pop_global_arguments(state, target, {})
        try:
            target.run_shell_command(StringCommand(runs.pending_script(app_dir, line)),
                                     **{k: v for k, v in global_kwargs.items() if k in CONNECTOR_ARGUMENT_KEYS})
        except Exception as error:  # noqa: BLE001 - a host lost at the end keeps its "interrupted" line
            print(f"{target.name}: audit line not written: {error}", file=sys.stderr)


def install() -> None:
    """Write the outcomes just before pyinfra's command line disconnects from the hosts."""
    import pyinfra_cli.cli as pyinfra_cli

    disconnect = pyinfra_cli.disconnect_all

    def disconnect_after_audit(state):
        try:
            write_outcomes(state)
        finally:
            disconnect(state)

    pyinfra_cli.disconnect_all = disconnect_after_audit
