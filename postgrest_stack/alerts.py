"""The alert a failing run sends: one line on the stdin of ``alert_command``.

No pyinfra here: tasks/alerting.py collects a run's failures and calls :func:`line`
and :func:`send` once when the run ends; ``status --alert`` sends its verdict the same
way. The command runs on the controller, through the shell, with the run's environment
(a webhook URL or a pager key stays in the environment, never in host data), bounded
by :data:`TIMEOUT_SECONDS`.
"""

from __future__ import annotations

import re
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
    try:
        done = subprocess.run(command, shell=True, input=text + "\n", text=True, capture_output=True,
                              timeout=timeout)
    except subprocess.TimeoutExpired:
        return f"alert_command did not finish within {timeout:g} s"
    except OSError as error:
        return f"alert_command could not start ({error.__class__.__name__})"
    if done.returncode != 0:
        return f"alert_command failed (exit {done.returncode})"
    return None


__all__ = ["TIMEOUT_SECONDS", "SettingsError", "commands", "line", "plain", "send"]
