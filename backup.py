"""A verified backup: `pyinfra INVENTORY backup.py`.

On each host that runs the database (settings.runs_db): bin/backup NAME, NAME being the
run's UTC start time (YYYYMMDDTHHMMSSZ). It dumps db_name (pg_dump --format=custom)
and the roles (no passwords) with per-table row counts taken in the dump's snapshot,
restores them into a throwaway container of the same image with no network, compares
the counts, and only then keeps the backup in backups_path and prunes to backup_keep;
then, with backup_offsite, copies it off the host (tasks/offsite.py). A backup is taken
on every run: the operation always reports a change. Other hosts (api, backup) say
there is nothing to back up and do nothing. One run at a time per host (the run lock,
tasks/runlock.py), and a failing run fires alert_command (tasks/alerting.py).
"""

import posixpath

from pyinfra import host, logger
from pyinfra.api.exceptions import PyinfraError

from tasks import backups, controller, offsite, runlock
from tasks.refuse import refuse_host

try:
    settings = controller.host_settings(host)
except controller.CONTROLLER_ERRORS as error:
    raise PyinfraError(f"{host.name}: {error}") from None

if settings.external_db_uri:
    refuse_host(backups.OPERATION, f"{host.name}: backup.py is not supported with external_db_uri yet: back the "
                                   "managed database up with its provider's tools")
elif not settings.runs_db:
    logger.info(f"{host.print_prefix}no database on this host (stack_role {settings.stack_role}): nothing to back up")
else:
    state = runlock.probe_host(settings)  # and the run's lock on this host
    if "bin/backup" not in state.paths or state.services.get("db") is None:
        refuse_host(backups.OPERATION, f"{host.name}: no deployed stack with bin/backup at "
                                       f"{posixpath.join(settings.app_dir, 'bin/backup')}; run deploy.py first")
    else:
        runlock.mark_started(settings)
        name = backups.run_name()
        backups.take_backup(settings, name)
        if settings.backup_offsite:
            offsite.copy_offsite(settings, name)
