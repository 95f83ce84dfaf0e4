"""pyinfra's project configuration: every `pyinfra` command started in this folder reads it
first, before the inventory is loaded or a host is connected.

For a run of deploy.py, rotate_keys.py or backup.py:
- a failing run sends its one-line reason to the hosts' `alert_command` once, when the
  run ends (tasks/alerting.py; docs/operations.md: Alerts);
- a `--limit` that matches no host stops the run, non-zero (tasks/limit_guard.py);
- each host's audit line gets the run's outcome before pyinfra disconnects (tasks/runlock.py).
Other pyinfra commands are left alone.
"""

from tasks import alerting, limit_guard, runlock

if alerting.install() is not None:
    limit_guard.install()
    runlock.install()
