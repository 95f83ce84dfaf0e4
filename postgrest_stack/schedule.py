"""The scheduled backup's systemd timer, from the inventory's ``backup_schedule``.

``ops/systemd/postgrest-backup.timer`` is :func:`backup_timer` of the setting's default
(tests/unit/test_ops_schedules.py holds them equal); ``python -m postgrest_stack timer
backup INVENTORY`` prints it for the inventory's own value, checked by ``systemd-analyze
calendar`` first, so a schedule systemd cannot read is refused here, not ignored by systemd
on the operations box (a timer with a bad OnCalendar= only logs a warning and never fires).
"""

from __future__ import annotations

import shutil
import subprocess

from postgrest_stack.settings import SettingsError

SERVICE = "postgrest-backup.service"


class CalendarError(SettingsError):
    """A backup_schedule that systemd does not read as a calendar expression."""


def backup_timer(calendar: str) -> str:
    """The timer unit running :data:`SERVICE` at ``calendar`` (systemd's OnCalendar=)."""
    return f"""\
# Runs postgrest-backup.service at backup_schedule (here: {calendar}), and once at boot
# when a run was missed (Persistent=true). Generated: `python -m postgrest_stack timer
# backup inventories/prod.py > postgrest-backup.timer` prints this unit with the
# inventory's own backup_schedule, checked by `systemd-analyze calendar`.
# backup_max_age_hours (default 26) must exceed the interval: `status` reports an older
# newest backup as drift. Install steps: postgrest-backup.service's header.

[Unit]
Description=Back up the stack's database with backup.py: {calendar}

[Timer]
OnCalendar={calendar}
RandomizedDelaySec=10min
Persistent=true
Unit={SERVICE}

[Install]
WantedBy=timers.target
"""


def check_calendar(calendar: str, analyze: str | None = None) -> str:
    """``calendar`` when ``systemd-analyze calendar`` accepts it; else :class:`CalendarError`
    naming the value and systemd's reason. Without systemd-analyze (a controller without
    systemd) it cannot be checked: that is refused too, since a timer is installed where
    systemd runs."""
    analyze = analyze or shutil.which("systemd-analyze")
    if not analyze:
        raise CalendarError(f"backup_schedule {calendar!r}: cannot be checked: systemd-analyze is not installed "
                            "here; run this command on the operations box that runs the timer")
    done = subprocess.run([analyze, "calendar", "--", calendar], capture_output=True, text=True, timeout=60,
                          stdin=subprocess.DEVNULL)
    if done.returncode != 0:
        reason = (done.stderr.strip().splitlines() or ["not a calendar expression"])[-1]
        raise CalendarError(f"backup_schedule {calendar!r}: systemd does not read it as a calendar expression "
                            f"({reason}); e.g. 'daily' or '*-*-* 03:00'")
    return calendar


def one_schedule(schedules: dict[str, str]) -> str:
    """The one backup_schedule of ``{host: schedule}``: one timer runs backup.py for the
    whole inventory, so hosts that disagree are refused, naming them."""
    values = sorted(set(schedules.values()))
    if not values:
        raise SettingsError("no host to back up in this inventory")
    if len(values) > 1:
        by_value = "; ".join(f"{value!r}: {', '.join(sorted(h for h, v in schedules.items() if v == value))}"
                             for value in values)
        raise SettingsError(f"backup_schedule differs between hosts ({by_value}): one timer runs backup.py for "
                            "the whole inventory; set it once, e.g. in group_data/all.py or the environment's file")
    return values[0]
