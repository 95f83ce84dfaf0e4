"""The pyinfra side of a backup: the operation that runs the db host's bin/backup.

bin/backup (templates/bin/backup.j2) does the work on the host: the dump, roles and
row counts in one snapshot, the restore check in a throwaway container, the rename
from NAME.partial and the pruning to backup_keep. The controller only names the backup
(the run's UTC start time, postgrest_stack/backups.py) and runs it.
"""

from __future__ import annotations

from pyinfra import host
from pyinfra.operations import server

from postgrest_stack import backups
from postgrest_stack.layout import host_script
from postgrest_stack.settings import Settings
from tasks import runlock

OPERATION = "Take and verify a backup (bin/backup)"


def run_name(label: str | None = None) -> str:
    """This run's backup name: its UTC start time (the one its audit line records), and ``label``."""
    return backups.name_from_iso(runlock.info(host.state).controller.started, label)


def take_backup(settings: Settings, name: str) -> None:
    """Register the operation that takes, verifies and keeps backup ``name`` on this db host.

    It always reports a change: every run takes a new backup, that is its point. The
    database is awaited first (bin/health-gate db): a deploy runs it right after compose up.
    A failing backup fails the host with bin/backup's one ``backup:`` line, and nothing
    of the host's earlier backups is touched.
    """
    app = settings.app_dir
    server.shell(name=OPERATION,
                 commands=[f"{host_script(app, 'health-gate', 'db')} && {host_script(app, 'backup', name, host.name)}"])
