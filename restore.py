"""Restore a verified backup: `pyinfra INVENTORY restore.py --data restore_from=latest|NAME
--data restore_confirm=DB_NAME`.

Refused on the controller, before any host is touched, without ``restore_confirm``
equal to db_name, with a ``restore_from`` that is neither ``latest`` nor a backup's
name, without the database host in the run, or with an external database. On the db
host (behind the run lock, tasks/runlock.py): the backup brought from the offsite place
when it is not there (tasks/offsite.py), then ``bin/restore NAME``: the manifest checked
first, a safety backup, the roles and the database restored into a temporary database,
the row counts checked, the swap, the project's SQL and the migrations. Then, on every
host that runs PostgREST, once the db host's steps succeeded (tasks/db_first.py): the
schema cache reloaded, the health gate and the key proof, as after a deploy.
"""

from pyinfra import host, logger
from pyinfra.api.exceptions import PyinfraError

from postgrest_stack import restore as restoring
from postgrest_stack.layout import JWKS_FILE
from postgrest_stack.settings import SettingsError
from tasks import controller, db_first, offsite, runlock
from tasks.refuse import refuse_host
from tasks.restore import RELOAD_OPERATION, RESTORE_OPERATION, reload_schema_cache, restore_database
from tasks.stack import health_gate

try:
    controller.accept_run_parameters(host.state, restoring.PARAMETERS)
    settings = controller.host_settings(host)
    wanted = restoring.wanted(host.data.get(restoring.FROM), host.data.get(restoring.CONFIRM), settings.db_name)
    if settings.external_db_uri:
        raise SettingsError("restore.py with external_db_uri is not supported yet: restore with pg_restore "
                            "against that database; nothing changed")
    if not db_first.in_run(host.state):
        raise SettingsError("restore.py needs the database host in the run (check --limit); nothing changed")
    jwks = controller.jwks_once(settings) if settings.runs_api else None
except controller.CONTROLLER_ERRORS as error:
    raise PyinfraError(f"{host.name}: {error}") from None

if settings.runs_db or settings.runs_api:
    state = runlock.probe_host(settings)  # and the run's lock on this host
else:  # a host that holds backups only (stack_role "backup")
    logger.info(f"{host.print_prefix}no database nor PostgREST on this host (stack_role {settings.stack_role}): "
                "nothing to restore here")
no_stack = "no deployed stack: run deploy.py first"
restoring_here = False
if settings.runs_db:
    if state.services.get("db") is None or "bin/restore" not in state.paths:
        refuse_host(RESTORE_OPERATION, f"{host.name}: {no_stack}" + (
            "" if state.services.get("db") is None else " (the deployed stack has no bin/restore)"))
    else:
        restoring_here = True
        runlock.mark_started(settings)
        logger.info(f"{host.print_prefix}restore {wanted} into database {settings.db_name}: "
                    "manifest, safety backup, roles and database, row counts, swap, SQL and migrations")
        fetched = offsite.fetch_offsite(settings, wanted)
        restore_database(settings, fetched)

if (settings.runs_db or settings.runs_api) and db_first.needed(host.state):
    # One operation shared by every host: api hosts pass it only once the db hosts'
    # steps are done, and fail it when one of them failed.
    db_first.wait_for_db_hosts("not reloaded")

if settings.runs_api and jwks is not None:
    deployed = state.paths.get(JWKS_FILE)
    if state.services.get("postgrest") is None or deployed is None or "bin/prove-keys" not in state.paths:
        refuse_host(RELOAD_OPERATION, f"{host.name}: {no_stack}")
    elif deployed.sha256 != jwks.sha256:
        # The proof signs with the key file's bytes: only the tenant's current one is known here.
        refuse_host(RELOAD_OPERATION, f"{host.name}: the deployed key file is not the tenant's current JWKS, so "
                                      "the key proof cannot be made: run rotate_keys.py")
    else:
        if not restoring_here:
            runlock.mark_started(settings)
        reload_schema_cache(settings)
        health_gate(settings, jwks.canonical)  # GET / and the key proof, as a deploy ends
