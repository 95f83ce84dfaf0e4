"""``python -m postgrest_stack logs``: what it accepts and the one command it runs on a host.

Pure: the arguments are checked here before any host is touched (a refusal is one line,
exit 2), and :func:`remote_command` is the read-only shell command each selected host
runs: ``APP_DIR/bin/compose logs --no-color [--since X] [--tail N] [-f] [SERVICE]``,
every part quoted, behind a test that names a host without the stack. The SSH session,
sudo and the host-prefixed output are tasks/fleet_logs.py's.
"""

from __future__ import annotations

import posixpath
import re
import shlex
from dataclasses import dataclass

from . import layout
from .settings import Settings, SettingsError

#: The compose services a stack may run (which ones a host runs: :func:`services_of`).
SERVICES = ("postgrest", "db", "edge", "swagger")

#: Exit status of the remote command when the host has no stack (no bin/compose).
NO_STACK = 3

# What `docker compose logs --since` takes: a Go duration (10m, 1h30m, 2.5h) or a
# timestamp (RFC 3339 date or date-time, or Unix seconds).
_DURATION = re.compile(r"^(?:[0-9]+(?:\.[0-9]+)?(?:ns|us|µs|ms|s|m|h))+$")
_TIMESTAMP = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}"
                        r"(?:T[0-9]{2}:[0-9]{2}(?::[0-9]{2}(?:\.[0-9]{1,9})?)?(?:Z|[+-][0-9]{2}:[0-9]{2})?)?$")
_UNIX = re.compile(r"^[0-9]{9,10}(?:\.[0-9]{1,9})?$")


class LogsError(SettingsError):
    """A refused argument of the logs command (exit 2, before connecting)."""


@dataclass(frozen=True)
class Request:
    """The checked arguments: which service (None: all), since when, how many lines."""

    service: str | None = None
    since: str | None = None
    tail: str | None = None
    follow: bool = False


def check(service: str | None, since: str | None, tail: str | None, follow: bool) -> Request:
    """The arguments, checked; :class:`LogsError` names the first one refused."""
    if service is not None and service not in SERVICES:
        raise LogsError(f"--service {service!r}: expected one of {', '.join(SERVICES)}")
    if since is not None and not (_DURATION.match(since) or _TIMESTAMP.match(since) or _UNIX.match(since)):
        raise LogsError(f"--since {since!r}: expected a duration such as 10m, 2h or 1h30m, "
                        "or a time such as 2026-01-31T12:00:00Z")
    if tail is not None and tail != "all" and not re.fullmatch(r"[0-9]{1,9}", tail):
        raise LogsError(f"--tail {tail!r}: expected a number of lines or 'all'")
    return Request(service, since, tail, follow)


def services_of(resolved: Settings) -> tuple[str, ...]:
    """The compose services this host's compose.yaml declares (templates/compose.yaml.j2)."""
    runs = {"db": resolved.runs_db, "postgrest": resolved.runs_api,
            "swagger": resolved.runs_api and resolved.swagger_enabled, "edge": resolved.runs_edge}
    return tuple(name for name in SERVICES if runs[name])


def remote_command(app_dir: str, request: Request) -> str:
    """The shell command a host runs (read-only): the stack's compose, or one line on
    stderr and exit :data:`NO_STACK` when the host has none. With ``follow``, compose
    is stopped when the command's stdin closes (the SSH channel closed)."""
    compose = layout.host_script(app_dir, "compose")
    parts = ["logs", "--no-color"]
    if request.since is not None:
        parts += ["--since", request.since]
    if request.tail is not None:
        parts += ["--tail", request.tail]
    if request.follow:
        parts.append("-f")
    if request.service is not None:
        parts.append(request.service)
    script = posixpath.join(app_dir, "bin", "compose")
    missing = shlex.quote(f"no stack here: {script} is missing")
    run = f"{compose} {' '.join(shlex.quote(part) for part in parts)}"
    check = f"if [ ! -x {shlex.quote(script)} ]; then echo {missing} >&2; exit {NO_STACK}; fi; "
    if not request.follow:
        return check + "exec " + run
    # Following never ends by itself, and without a terminal nothing tells compose that
    # the controller went away (Ctrl-C, a lost connection) until its next line fails to
    # write. The session's stdin closes then: a watcher reading it stops compose. (An
    # asynchronous list reads /dev/null unless redirected: hence fd 3.)
    return (check + f"exec 3<&0; {run} </dev/null & pid=$!; "
            "{ cat <&3 >/dev/null 2>&1; kill $pid 2>/dev/null; } >/dev/null 2>&1 & "
            "exec 3<&-; wait $pid")
