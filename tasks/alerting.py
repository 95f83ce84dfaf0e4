"""One alert per failing run of deploy.py, rotate_keys.py or backup.py, through ``alert_command``.

Installed by the project's pyinfra ``config.py``, which every ``pyinfra`` command started
in the project folder reads before it loads the inventory or connects to a host. For a
run of deploy.py or rotate_keys.py, :func:`install` listens to pyinfra's log and, when
the process ends, asks pyinfra's state whether the run failed, as pyinfra's own exit
status does: a host failed (it could not be reached, or one of its operations failed:
a rollback, a health gate, ...) or the run stopped with an error (an invalid JWKS, a
refused setting, every host unreachable). Then the one-line reason goes once to each
distinct ``alert_command`` of the run's hosts (postgrest_stack/alerts.py). A run that
succeeds, changes nothing or is a ``--dry`` preview that passes sends nothing.

Where the reason comes from, per failing host, in order: the host could not be
reached (pyinfra's connect error), else the last line the failed operation wrote to
stderr (the rotation's own one-line outcome), else the last error pyinfra logged for
the host; and the error the run stopped with.
"""

from __future__ import annotations

import atexit
import logging
import posixpath
import re
import sys

from pyinfra import logger
from pyinfra.context import ctx_state

from postgrest_stack import alerts

#: The runs that alert when they fail.
WATCHED_SCRIPTS = ("deploy.py", "rotate_keys.py", "backup.py", "restore.py")
#: pyinfra's line for an error that stops the run (pyinfra_cli.exceptions: WrappedError, CliError).
_FATAL = re.compile(r"^--> (?P<kind>[A-Za-z ]*error)(?: in .+ line \d+)?: (?P<message>.+)$")
_UNEXPECTED = re.compile(r"^--> An exception occurred in: (?P<file>.+?):?$")
_HOST_LINE = re.compile(r"^\[(?P<host>[^\]]+)\] (?:nested )?(?P<text>.+)$")
#: pyinfra's summary of a failed operation: says nothing the operation's own output does not.
_GENERIC = re.compile(r"^Error(?: \(ignored[^)]*\))?:?(?: executed \d+ commands.*)?$")


class Collector(logging.Handler):
    """Keeps what pyinfra logs about failures: the errors that stop a run, and each
    host's error lines."""

    def __init__(self):
        super().__init__(logging.WARNING)
        self.fatal: list[str] = []
        self.host_errors: dict[str, list[str]] = {}

    def emit(self, record: logging.LogRecord) -> None:
        try:
            text = alerts.plain(record.getMessage())
        except Exception:  # a record that does not format is no reason
            return
        fatal = _FATAL.match(text)
        if fatal:
            self.fatal.append(fatal["message"])
            return
        unexpected = _UNEXPECTED.match(text)
        if unexpected:
            self.fatal.append(f"an unexpected exception in {posixpath.basename(unexpected['file'])} "
                              "(its traceback is in the run's output)")
            return
        line = _HOST_LINE.match(text)
        if line and record.levelno >= logging.ERROR and not _GENERIC.match(line["text"]):
            self.host_errors.setdefault(line["host"].strip(), []).append(line["text"])

    def last_error(self, host_name: str) -> str:
        lines = self.host_errors.get(host_name) or []
        return lines[-1] if lines else ""


def run_arguments(argv: list[str]) -> tuple[str | None, list[str]]:
    """(inventory, operations) of a ``pyinfra`` command line, read with pyinfra's own parser."""
    from pyinfra_cli.cli import cli

    try:
        params = cli.make_context("pyinfra", list(argv), resilient_parsing=True).params
    except Exception:  # not a run this module can read: no alert
        return None, []
    return params.get("inventory"), list(params.get("operations") or ())


def install(argv: list[str] | None = None) -> Collector | None:
    """For a run of a watched script: listen to pyinfra's log and alert at exit on failure."""
    inventory, operations = run_arguments(sys.argv[1:] if argv is None else argv)
    scripts = [posixpath.basename(op) for op in operations if posixpath.basename(op) in WATCHED_SCRIPTS]
    if not scripts:
        return None
    collector = Collector()
    logger.addHandler(collector)
    atexit.register(alert_if_failed, collector, f"{' '.join(scripts)} on {inventory or 'the inventory'}")
    return collector


def failure_reasons(state, collector: Collector) -> list[str]:
    """Why the run failed, one reason per failing host and per stopping error; [] when it did not."""
    reasons = []
    failed = getattr(state, "failed_hosts", None) or set()
    for host in getattr(state, "inventory", None) or ():
        if host not in failed:
            continue
        if host not in state.activated_hosts:
            reasons.append(f"{host.name}: unreachable: {collector.last_error(host.name) or 'could not connect'}")
        else:
            reasons.append(_host_reason(state, host, collector))
    return reasons + collector.fatal


def _host_reason(state, host, collector: Collector) -> str:
    for op_hash in state.get_op_order():
        try:
            meta = state.get_op_data_for_host(host, op_hash).operation_meta
        except KeyError:
            continue
        if not (meta.is_complete() and meta.did_error()):
            continue
        operation = ", ".join(sorted(state.get_op_meta(op_hash).names)) or "an operation"
        written = [alerts.plain(line) for line in meta.stderr_lines if line.strip()]
        detail = written[-1] if written else collector.last_error(host.name)
        if detail.startswith(f"{host.name}: "):
            return detail  # already the one-line reason (a rotation's outcome)
        return f"{host.name}: {operation} failed" + (f": {detail}" if detail else "")
    detail = collector.last_error(host.name)
    return f"{host.name}: failed" + (f": {detail}" if detail else "")


def alert_if_failed(collector: Collector, what: str) -> None:
    """At exit: when the run failed, one line to each distinct alert_command of its hosts."""
    if not ctx_state.isset():
        return
    state = ctx_state.get()
    reasons = failure_reasons(state, collector)
    if not reasons:
        return
    hosts = [host for host in getattr(state, "inventory", None) or () if _in_run(state, host)]
    try:
        commands = alerts.commands(host.data.get("alert_command") for host in hosts)
    except alerts.SettingsError as error:
        print(f"alert not sent: {error}", file=sys.stderr)
        return
    text = alerts.line(what, reasons)
    for command in commands:
        problem = alerts.send(command, text)
        print(f"alert not sent: {problem}" if problem else "alert sent through alert_command", file=sys.stderr)


def _in_run(state, host) -> bool:
    try:
        return state.is_host_in_limit(host)
    except Exception:
        return True
