"""The alert a failing run sends: one line on the stdin of ``alert_command``.

No pyinfra here: tasks/alerting.py collects a run's failures and calls :func:`line`
and :func:`send` once when the run ends; ``status --alert`` sends its verdict the same
way. The command runs on the controller, through the shell, with the run's environment
(a webhook URL or a pager key stays in the environment, never in host data), bounded
by :data:`TIMEOUT_SECONDS`.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
from typing import Iterable

from .settings import SETTINGS_BY_NAME, SettingsError

#: An alert command that takes longer is stopped; the run's own exit status stands.
TIMEOUT_SECONDS = 60
#: One line, short enough for any chat message or pager summary.
MAX_CHARACTERS = 1000
_ANSI = re.compile(r"\x1b\[[0-9;]*m")


def plain(text: str) -> str:
    """``text`` without terminal colours, on one line, whitespace collapsed."""
    return " ".join(_ANSI.sub("", text).split())


def line(what: str, reasons: Iterable[str]) -> str:
    """``<what> failed: <reason>; <reason>`` on one line (repeated reasons once, capped)."""
    unique = list(dict.fromkeys(plain(reason) for reason in reasons if plain(reason)))
    text = f"{what} failed: {'; '.join(unique) or 'no reason was reported'}"
    return text if len(text) <= MAX_CHARACTERS else text[:MAX_CHARACTERS - 3] + "..."


def commands(values: Iterable[object]) -> list[str]:
    """The distinct ``alert_command`` values of a run's hosts, in order (unset ones skipped).

    Each is checked as the setting is (an invalid one raises SettingsError)."""
    check = SETTINGS_BY_NAME["alert_command"].check
    found: list[str] = []
    for value in values:
        if value is None or value == "":
            continue
        command = check("alert_command", value)
        if command not in found:
            found.append(command)
    return found


def send(command: str, text: str, timeout: float = TIMEOUT_SECONDS) -> str | None:
    """Run ``command`` with ``text`` and a newline on its stdin; None when it exited 0,
    else what went wrong (one line, without the command's output)."""
    # A session of its own, stopped whole on timeout: killing the shell alone leaves what it
    # started (a hung curl) running, and under pyinfra's gevent-patched subprocess the run
    # would wait for it. Its output is not shown (it could echo the webhook URL).
    try:
        process = subprocess.Popen(command, shell=True, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL,
                                   stderr=subprocess.DEVNULL, text=True, start_new_session=True)
    except OSError as error:
        return f"alert_command could not start ({error.__class__.__name__})"
    try:
        assert process.stdin is not None  # stdin=PIPE
        try:  # one line, far below a pipe's buffer: never blocks
            process.stdin.write(text + "\n")
            process.stdin.close()
        except BrokenPipeError:
            pass  # the command did not read it: its exit status tells the rest
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        _stop(process)
        return f"alert_command did not finish within {timeout:g} s"
    except BaseException:
        _stop(process)
        raise
    if process.returncode != 0:
        return f"alert_command failed (exit {process.returncode})"
    return None


def _stop(process: subprocess.Popen) -> None:
    """SIGKILL to the command's whole session, then reap the shell."""
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    process.wait()


__all__ = ["TIMEOUT_SECONDS", "SettingsError", "commands", "line", "plain", "send"]
