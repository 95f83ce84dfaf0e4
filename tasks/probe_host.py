"""Gather the probe fact for a host's settings (shared by deploy.py, rotate_keys.py and status)."""

from __future__ import annotations

from pyinfra import host

from postgrest_stack import migrations
from postgrest_stack.images import compose_references
from postgrest_stack.layout import KEYED_FILES
from postgrest_stack.probe import HostState
from postgrest_stack.render import external_conninfo
from postgrest_stack.settings import Settings
from tasks.facts import LedgerRows, StackProbe


def probe_host(settings: Settings) -> HostState:
    return host.get_fact(StackProbe, **probe_arguments(settings))


def probe_arguments(settings: Settings, details: bool = False) -> dict:
    """The probe's arguments for a host of these settings; ``details``: the status
    command's extra lines (engine and compose versions)."""
    references = compose_references(settings)
    external = (references["db"], external_conninfo(settings)) if settings.external_db_uri else None
    # image_source = controller: also which image the host holds under each reference.
    images = tuple(references.values()) if settings.image_source == "controller" else ()
    # The release says how readiness is asked (templates/shell/ready.sh.j2).
    arguments = dict(app_dir=settings.app_dir, stack_name=settings.stack_name,
                     admin_port=settings.postgrest_admin_port, postgrest_version=settings.postgrest_version,
                     external=external, images=images, secret_files=KEYED_FILES,
                     # A db host's newest verified backup (status reports its age).
                     backups_path=settings.backups_path if settings.runs_db else None)
    return {**arguments, "details": True} if details else arguments


def pending_migrations(settings: Settings, files: dict, read_ledger: bool = True) -> list:
    """The rendered migrations this host's database lacks, checked against its ledger
    (a changed, missing or out-of-order history raises migrations.MigrationError);
    without ``read_ledger`` (no ledger yet) all of them."""
    folder = [migrations.read_content(name.partition("/")[2], rendered.content)
              for name, rendered in sorted(files.items()) if name.startswith(migrations.HOST_DIR + "/")]
    if not read_ledger:
        return folder
    external = (compose_references(settings)["db"], external_conninfo(settings)) if settings.external_db_uri else None
    rows = host.get_fact(LedgerRows, app_dir=settings.app_dir, stack_name=settings.stack_name, external=external)
    return migrations.pending(folder, [migrations.Applied(version, name, sha) for version, sha, name in rows or []])
