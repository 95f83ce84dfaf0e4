"""``python -m postgrest_stack logs``: each selected host's compose logs, read-only,
printed as ``[host] line``.

The same session as ``status`` (tasks/fleet_status.py ``_session``): the inventory as
pyinfra loads it, hosts connected in parallel by pyinfra's connectors, the command
wrapped for sudo (``_sudo``, ``_sudo_user``, ...) from host data exactly as a fact's
command is. Only :func:`postgrest_stack.logs.remote_command` runs on a host.

Streaming: pyinfra's ``run_shell_command`` returns a command's output only when it ends,
which ``--follow`` never does. So each host's command runs on a channel of the SSH
connection pyinfra opened (its paramiko client: the same keys, known hosts, proxy and
port as a deploy, none rebuilt here from ``ssh_*`` data), read line by line in one
greenlet per host; lines of several hosts interleave as they come, each written whole.
A host whose connector is not SSH (``@local``, ``@docker``) goes through
``run_shell_command`` and prints when its command ends (``--follow`` is refused for it
before connecting).

Ctrl-C stops the reading greenlets and closes the connections; the command each host
runs for ``--follow`` stops its compose when its stdin closes (no terminal is asked
for, so nothing else would tell it), and the exit status is 130.

The caller must have patched the stdlib for gevent first, as ``python -m
postgrest_stack logs`` does.
"""

from __future__ import annotations

import signal
import sys
from typing import Any, Iterable, TextIO

import gevent
from pyinfra.api import State
from pyinfra.api.arguments import CONNECTOR_ARGUMENT_KEYS, pop_global_arguments
from pyinfra.api.command import StringCommand
from pyinfra.api.connect import disconnect_all
from pyinfra.connectors.ssh import SSHConnector
from pyinfra.connectors.util import make_unix_command_for_host
from pyinfra.context import ctx_host

from postgrest_stack import logs, project_root, settings
from tasks.fleet_status import _session
from tasks.host_data import group_data_dirs, origin_finder, pyinfra_keys

#: The exit status after Ctrl-C, as a shell reports a command ended by SIGINT.
INTERRUPTED = 130

# What run_shell_command takes but the command's text does not (connectors pop them).
_NOT_IN_COMMAND = ("_get_pty", "_timeout", "_stdin", "_success_exit_codes", "_retries", "_retry_delay",
                   "_retry_until")


def _is_ssh(host) -> bool:
    return issubclass(host.connector_cls, SSHConnector)


def _connect(host) -> str | None:
    """Connect ``host``; None, or why it could not be."""
    try:
        host.connect(show_errors=False, raise_exceptions=True)
    except Exception as error:  # ConnectError, or PyinfraError for a missing key file
        return str(error.args[0] if error.args else error) or type(error).__name__
    return None if host.connected else "could not connect"


def command_for(state: State, host, text: str) -> str:
    """``text`` as the host runs it: wrapped for sudo/su/doas from its data, as pyinfra
    wraps a fact's command."""
    with ctx_host.use(host):
        arguments, _found = pop_global_arguments(state, host, {})
    connector_arguments = {key: value for key, value in arguments.items()
                           if key in CONNECTOR_ARGUMENT_KEYS and key not in _NOT_IN_COMMAND}
    return make_unix_command_for_host(state, host, StringCommand(text), **connector_arguments).get_raw_value()


class _Printer:
    """Whole lines, ``[host] `` first, flushed at once (greenlets interleave lines, never
    parts of one)."""

    def __init__(self, out: TextIO, err: TextIO):
        self.out, self.err = out, err

    def line(self, host: str, text: str) -> None:
        self.out.write(f"[{host}] {text}\n")
        self.out.flush()

    def failed(self, host: str, reason: str) -> None:
        self.err.write(f"[{host}] no logs: {reason}\n")
        self.err.flush()


def _stream(state: State, host, command: str, printer: _Printer) -> str | None:
    """Run ``command`` on ``host``, printing stdout as it comes; None on success, else
    why it failed (the last line it wrote on stderr)."""
    if not _is_ssh(host):  # not SSH: pyinfra's own call, printed once the command ends
        ok, output = host.connector.run_shell_command(StringCommand(command), print_output=False)
        for line in output.stdout_lines:
            printer.line(host.name, line)
        return None if ok else (output.stderr_lines[-1:] or ["the command failed"])[0]
    channel = host.connector.client.get_transport().open_session()
    try:
        channel.exec_command(command)
        with channel.makefile("rb") as stdout, channel.makefile_stderr("rb") as stderr:
            for raw in stdout:
                printer.line(host.name, raw.decode("utf-8", "replace").rstrip("\r\n"))
            errors = stderr.read().decode("utf-8", "replace").splitlines()
        code = channel.recv_exit_status()
    finally:
        channel.close()
    if code == 0:
        return None
    return (errors[-1:] or [f"the command exited with {code}"])[0]


def run(inventory_file: str, override_data: dict[str, Any], hosts: Iterable[str], request: logs.Request,
        out: TextIO | None = None, err: TextIO | None = None) -> int:
    """Print the selected hosts' logs; 0 when every host's were read, 1 otherwise,
    :data:`INTERRUPTED` after Ctrl-C.
    :class:`postgrest_stack.logs.LogsError` (exit 2) for an unknown host or a service
    no selected host runs, before any host is connected."""
    printer = _Printer(out or sys.stdout, err or sys.stderr)
    with _session(inventory_file, override_data, hosts, option="--host") as (state, chosen, _errors, _quiet):
        dirs = group_data_dirs(project_root(), inventory_file)
        commands: dict[str, str] = {}
        failed: dict[str, str] = {}
        skipped: dict[str, str] = {}
        for host in chosen:
            try:
                resolved = settings.resolve(host.data.dict(), origin=origin_finder(
                    host, inventory_file=inventory_file, group_data_dirs=dirs, cwd=project_root()),
                    runner_keys=pyinfra_keys())
            except settings.SettingsError as error:
                failed[host.name] = str(error)
                continue
            if request.service is not None and request.service not in logs.services_of(resolved):
                skipped[host.name] = f"no {request.service} service here (stack_role {resolved.stack_role})"
                continue
            commands[host.name] = logs.remote_command(resolved.app_dir, request)
        if request.service is not None and not commands and not failed:
            raise logs.LogsError(f"--service {request.service!r}: no selected host runs it")
        if request.follow:
            not_ssh = [host.name for host in chosen if host.name in commands and not _is_ssh(host)]
            if not_ssh:
                raise logs.LogsError(f"--follow needs SSH hosts: {', '.join(not_ssh)} is reached otherwise "
                                     "(its output would only come when the command ends)")
        for name, reason in skipped.items():
            printer.failed(name, reason)

        to_connect = [host for host in chosen if host.name in commands]
        connect_failed: dict[str, str] = {}
        # Each host connected on its own (not connect_all): an error other than pyinfra's
        # ConnectError (a missing key file) would stop connect_all for every host.
        for host, greenlet in [(host, state.pool.spawn(_connect, host)) for host in to_connect]:
            reason = greenlet.get()
            if reason is None:
                state.activate_host(host)
            else:
                connect_failed[host.name] = reason

        def read(host) -> str | None:
            try:
                return _stream(state, host, command_for(state, host, commands[host.name]), printer)
            except Exception as error:  # the connection lost mid-way: this host's line, the others go on
                return f"the command failed: {error}"

        connected = [host for host in to_connect if host in state.active_hosts]
        greenlets = {host.name: state.pool.spawn(read, host) for host in connected}
        interrupted: list[bool] = []

        def on_interrupt() -> None:
            # Ctrl-C (how --follow ends): stop reading on every host. Handled here rather
            # than as KeyboardInterrupt, which gevent's hub prints as a traceback.
            interrupted.append(True)
            for greenlet in greenlets.values():
                greenlet.kill(block=False)

        handler = gevent.signal_handler(signal.SIGINT, on_interrupt)
        try:
            for greenlet in greenlets.values():
                greenlet.join()
        finally:
            handler.cancel()
            for greenlet in greenlets.values():
                greenlet.kill(block=False)
            # Closes each channel: the host's command sees its stdin close and stops compose.
            disconnect_all(state)
        for host in chosen:
            if host.name in failed or host.name in skipped:
                continue
            greenlet = greenlets.get(host.name)
            if greenlet is None:
                failed[host.name] = f"unreachable: {connect_failed.get(host.name) or 'could not connect'}"
            elif isinstance(greenlet.value, str):  # None: read to the end; GreenletExit: interrupted
                failed[host.name] = greenlet.value
        for host in chosen:
            if host.name in failed:
                printer.failed(host.name, failed[host.name])
        if interrupted:
            return INTERRUPTED
        return 1 if failed else 0
