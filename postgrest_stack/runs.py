"""A run's lock and audit line on a host: the pure parts (texts and shell), no pyinfra.

The lock (tasks/runlock.py says how a run takes it and why it frees itself):

- ``lock_file(app_dir)``: ``.<name>.lock`` beside ``app_dir``, not in it, so the probe's
  listing of ``app_dir`` (and its refusal of foreign files) never sees it, and it exists
  before the first deploy made ``app_dir``. Its first line names the holder (:func:`owner`).
- :func:`lock_script`: the shell put in front of the probe. It takes ``flock`` on the
  file (waiting up to ``lock_wait`` seconds), writes the owner, and leaves a detached
  holder with the lock's file descriptor that lives as long as the process the run's
  commands come from (the host's sshd session of the run's SSH connection). It prints
  ``lock taken`` or ``lock held OWNER`` (then the probe does not run).

The audit trail: one JSON line per run (:func:`audit_line`) appended to
``app_dir/audit.log`` (root, 0600) by the holder when the run ends, from the run's
pending line beside the lock (``.<name>.lock.pending``): written first by the lock
script (result ``no change``, or ``dry run``), replaced by ``interrupted`` when the
host's operations start and by the outcome at the run's end. The log is rotated to
``audit.log.1`` once it reaches :data:`AUDIT_MAX` bytes (:data:`APPEND_AUDIT`).
"""

from __future__ import annotations

import json
import posixpath
import shlex
from dataclasses import dataclass
from typing import Iterable

#: audit.log's size at which it moves to audit.log.1 (the one previous file kept).
AUDIT_MAX = 1_000_000
AUDIT_LOG = "audit.log"
TAKEN = "lock taken"
HELD = "lock held "
#: pyinfra options whose values are never written anywhere (passwords, keys).
_SECRET_OPTIONS = ("--ssh-password", "--ssh-key-password", "--password", "--key-password")
#: Run results an audit line can hold.
RESULTS = ("success", "failed", "no change", "dry run", "interrupted")

#: The holder: waits for the run's anchor process to end, then appends the pending line
#: (rotating the log first) and exits, which closes the lock's descriptor: the lock is
#: free only once the run's line is written. Arguments: anchor pid, pending file, app_dir.
HOLDER = f"""while kill -0 "$1" 2>/dev/null; do sleep 0.2; done
if [ -s "$2" ] && [ -d "$3" ]; then
  log="$3/{AUDIT_LOG}"
  APPEND_AUDIT
fi
rm -f "$2"
"""

#: Append the pending file "$2" to "$log", moving a log of AUDIT_MAX bytes or more to .1 first.
APPEND_AUDIT = f"""if [ -f "$log" ] && [ "$(wc -c <"$log")" -ge {AUDIT_MAX} ]; then mv -f "$log" "$log.1"; fi
  (umask 077; cat "$2" >>"$log") && chmod 600 "$log\""""

#: The process the run's commands come from: the nearest ancestor that is no shell, sudo
#: or su (over SSH the connection's sshd session process, which ends with the connection;
#: with @local the pyinfra process).
_ANCHOR = """_run_anchor() {
  pid=$$
  while [ "$pid" -gt 1 ]; do
    { read -r comm </proc/"$pid"/comm; } 2>/dev/null || break
    case $comm in
      sh|dash|bash|sudo|su|doas|env|timeout) ;;
      *) echo "$pid"; return ;;
    esac
    { read -r stat </proc/"$pid"/stat; } 2>/dev/null || break
    set -- ${stat##*) }
    pid=$2
  done
  echo 0
}
"""


@dataclass(frozen=True)
class Controller:
    """Who runs: the controller's user@host, the command line, and when it started."""

    user_host: str
    command: str
    started: str  # UTC, ISO 8601 to the second


def command_line(script: str, argv: Iterable[str]) -> str:
    """The run's command for the lock and audit: the script's name, then pyinfra's other
    arguments, ``--data`` values and passwords left out (``--data KEY=…``)."""
    words: list[str] = []
    args = list(argv)
    index = 0
    while index < len(args):
        word = args[index]
        name, eq, value = word.partition("=")
        if name in _SECRET_OPTIONS:
            index += 1 if eq else 2
            continue
        if name == "--data":
            given = value if eq else (args[index + 1] if index + 1 < len(args) else "")
            words.append(f"--data {given.partition('=')[0]}=…")
            index += 1 if eq else 2
            continue
        if not (script and posixpath.basename(word) == script):
            words.append(word)
        index += 1
    words = ([script] if script else []) + words
    return " ".join(shlex.quote(word) if word.strip() != word or not word else word for word in words)


def owner(controller: Controller) -> str:
    """The lock's first line: who holds it (one line, no secret)."""
    return " ".join(f"{controller.user_host}: {controller.command} (started {controller.started})".split())


def lock_file(app_dir: str) -> str:
    head, name = posixpath.split(app_dir.rstrip("/") or "/")
    return posixpath.join(head or "/", f".{name or 'root'}.lock")


def pending_file(app_dir: str) -> str:
    return lock_file(app_dir) + ".pending"


def lock_script(app_dir: str, holder: str, pending: str, wait: int) -> str:
    """Shell, run before the probe in the same command: takes the lock or prints who holds it.

    ``holder``: :func:`owner`'s line; ``pending``: the audit line written if nothing else
    replaces it; ``wait``: seconds to wait for the lock (0: fail at once, but a lock whose
    run has ended is waited for while its holder writes the audit line).
    """
    lock = lock_file(app_dir)
    q = shlex.quote
    return f"""{_ANCHOR}umask 077
lock={q(lock)}
[ -d {q(posixpath.dirname(lock))} ] || mkdir -p {q(posixpath.dirname(lock))}
anchor=$(_run_anchor)
if [ "$anchor" = 0 ]; then echo "lock error: no process to tie the lock to"; exit 0; fi
exec 9<>"$lock" || {{ echo "lock error: cannot open $lock"; exit 0; }}
if ! flock -n 9; then
  held=; ran=
  {{ read -r held; read -r ran; }} <"$lock"
  case $ran in ''|*[!0-9]*) ran= ;; esac
  # A run that has ended: its holder is writing the audit line, then frees the lock.
  if [ -n "$ran" ] && ! kill -0 "$ran" 2>/dev/null; then flock -w {max(wait, 5)} 9 || {{ echo "{HELD}$held"; exit 0; }}
  elif ! flock {f"-w {wait}" if wait > 0 else "-n"} 9; then echo "{HELD}$held"; exit 0; fi
fi
printf '%s\\n%s\\n' {q(holder)} "$anchor" >"$lock"
printf '%s\\n' {q(pending)} >{q(lock + ".pending")}
setsid sh -c {q(HOLDER.replace("APPEND_AUDIT", APPEND_AUDIT))} holder "$anchor" {q(lock + ".pending")} {q(app_dir)} \\
  </dev/null >/dev/null 2>&1 &
exec 9>&-
echo "{TAKEN}"
"""


def pending_script(app_dir: str, line: str) -> str:
    """Shell replacing the run's pending audit line (the holder appends it at the end);
    an empty ``line``: none."""
    if not line:
        return f": >{shlex.quote(pending_file(app_dir))}"
    return f"printf '%s\\n' {shlex.quote(line)} >{shlex.quote(pending_file(app_dir))}"


def split_lock(lines: list[str]) -> tuple[str | None, list[str]]:
    """(why the lock was not taken, or None; the probe's lines) from the command's output."""
    if lines and lines[0] == TAKEN:
        return None, lines[1:]
    if lines and lines[0].startswith(HELD):
        return f"locked by {lines[0][len(HELD):] or 'a run that wrote no owner yet'}", []
    if lines and lines[0].startswith("lock error: "):
        return lines[0], []
    return "the lock script printed nothing (is flock installed?)", []


def audit_line(time: str, host: str, controller: Controller, commit: str | None, dirty: bool,
               changed: Iterable[str], result: str) -> str:
    """One run's JSON line (compact, keys in a fixed order)."""
    if result not in RESULTS:
        raise ValueError(f"audit result {result!r} is not one of {', '.join(RESULTS)}")
    return json.dumps({"time": time, "host": host, "controller": controller.user_host,
                       "command": controller.command, "started": controller.started,
                       "commit": commit, "dirty": dirty, "changed": list(changed), "result": result},
                      separators=(",", ":"), ensure_ascii=False)


def last_run(line: str) -> str | None:
    """``last run: TIME user@host COMMAND RESULT`` from an audit line; None when it is no audit line."""
    try:
        record = json.loads(line)
        return (f"last run: {record['time']} {record['controller']} {record['command'].split(' ')[0]} "
                f"{record['result']}")
    except (ValueError, KeyError, TypeError, AttributeError):
        return None
