"""The main job: `pyinfra INVENTORY deploy.py`.

Per host: Docker when missing, the rendered files and the validated JWKS, then only the
actions that follow from what changed or was never completed (compose up, SQL, reload,
key rotation), a health gate, and a record of what the services loaded. Settings (a
key that is no setting is refused), secrets and the JWKS are checked on the controller
before any host is touched. One run at a time on a host, and one audit line per run
(tasks/runlock.py). Data of another PostgreSQL major than postgres_image's is refused
before any host changes, or upgraded first with postgres_upgrade = dump-restore
(bin/upgrade-db). Hosts that run a database go first; a host that runs
PostgREST only waits for them and changes nothing when one failed (tasks/db_first.py).
"""

from pyinfra import host, logger
from pyinfra.api.exceptions import PyinfraError

from postgrest_stack import app_dir, backups, render
from postgrest_stack import plan as planning
from postgrest_stack.layout import data_volume
from tasks import backups as backup_task
from tasks import controller, db_first, rotation, runlock
from tasks.docker import ensure_docker
from tasks.images import image_ids, load_images
from tasks.probe_host import pending_migrations
from tasks.refuse import refuse_host
from tasks.stack import apply_stack, health_gate, record_loaded

try:
    settings, secrets = controller.host_settings_and_secrets(host)
    controller.check_db_addresses(host.state)  # every host's db_host, before any host is touched
    jwks = controller.jwks_once(settings)
    files = planning.with_jwks(render.render(settings, secrets), jwks.canonical)
    carried = controller.images_once(settings)  # image_source = controller: exported here, once per run
except controller.CONTROLLER_ERRORS as error:
    raise PyinfraError(f"{host.name}: {error}") from None

# The run's lock on this host, taken in the probe's command (tasks/runlock.py).
state = runlock.probe_host(settings)
plan = planning.make_plan(files, state, image_ids(carried))
pending: list = []
if settings.runs_db:
    try:
        # Data of another major version than the image's server: refused here, before any
        # host changes, unless postgres_upgrade lets bin/upgrade-db move it.
        upgrade = planning.check_data_version(state.data_major, settings.postgres_major, settings.postgres_upgrade,
                                              volume=data_volume(settings.stack_name), image=settings.postgres_image)
    except planning.DataVersionError as error:
        raise PyinfraError(f"{host.name}: {error}") from None
    plan = planning.with_upgrade(plan, upgrade)
if plan.migrate:
    try:
        # The ledger's rows only when its digest differs: a changed, missing or
        # out-of-order history stops the run here, before any host changes.
        pending = pending_migrations(settings, files, read_ledger=state.ledger_digest is not None)
    except controller.CONTROLLER_ERRORS as error:
        raise PyinfraError(f"{host.name}: {error}") from None
    if pending:
        logger.info(f"{host.print_prefix}migrations pending: {', '.join(m.name for m in pending)}")
# A verified backup before pending migrations, where this host runs a database that
# already exists (a first deploy has nothing to back up); a failing one stops the host
# before bin/migrate.
backup_first = (backup_task.run_name(backups.PRE_MIGRATIONS)
                if plan.migrate and pending and settings.backup_before_migrations and settings.runs_db
                and state.services.get("db") is not None else None)
# An app_dir holding someone else's files is never taken over (chown, chmod, our files).
foreign = app_dir.refusal(settings.app_dir, state.paths)


def converge():
    """This host's stack steps: called where a db host's and an api host's steps belong
    around the shared wait (tasks/db_first.py)."""
    apply_stack(settings, files, state, plan, backup_first=backup_first)
    if plan.rotate_keys:
        rotation.register(settings, jwks, state.jwks_kids, file_current=plan.key_file_current)
    if plan.gate:
        health_gate(settings, jwks.canonical)
    if plan.record:
        record_loaded(settings, files, plan.record)


# A host with nothing to do waits for nobody (and a rerun reports no change).
waits = plan.changes_anything and db_first.needed(host.state)
if foreign:
    refuse_host("Check app_dir", f"{host.name}: {foreign}")
    runlock.no_audit()
else:
    if plan.changes_anything:
        runlock.mark_started(settings)  # its audit line says "interrupted" until the run's outcome
    if waits and not settings.runs_db:
        db_first.wait_for_db_hosts()  # a db host that could not be reached: before anything here
    ensure_docker(settings, state, install=plan.install_docker, start=plan.start_docker)
    load_images(carried, plan.load_images)
    if settings.runs_db:
        converge()
    if waits:
        # One operation shared by every host with changes: api hosts pass it only once
        # the db hosts' steps are done, and fail it when one of them failed.
        db_first.wait_for_db_hosts()
    if not settings.runs_db:
        converge()
