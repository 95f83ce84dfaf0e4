"""Decide what a run does on one host: the actions for each difference between the
rendered files and the probed state (compare.py finds them, status reports the same).

Pure: the pyinfra tasks turn a :class:`Plan` into operations. Keeping the decisions
here makes ``--dry`` exact (they are made before anything runs) and lets the unit
tests pin the rules:

- compose.yaml or .env changed, a service is not running, runs another image than
  compose.yaml names, or runs without being in it: ``up -d`` (compose recreates only
  what changed, and removes orphans);
- postgrest.conf changed while PostgREST runs: reload (SIGUSR2), no restart;
- the edge's Caddyfile, certificate or key changed while the edge runs: ``caddy
  reload`` in its container (after ``up`` when both happen), no restart;
- the JWKS changed while PostgREST runs: the key rotation steps (tasks/keys.py);
- the SQL digest recorded in the database differs from the rendered one: apply SQL;
- the migrations ledger's digest differs from the rendered folder's: bin/migrate, after
  the SQL; a file under sql/ or migrations/ the rendered set lacks is removed before
  either runs (each runs every file there);
- image_source = controller: an image whose ID on the host differs from the
  controller's is loaded (tasks/images.py), then ``up -d``;
- what a service has loaded is recorded on the host once proven (loaded.py): a record
  that disagrees with the rendered files runs its step again (``up``, reload, key
  rotation, edge reload), so a rerun completes a run that stopped half-way;
- a running service whose image ID is not the one the host (or, with image_source =
  controller, the controller) holds under its reference (a load or pull whose ``up``
  never ran): ``up -d``;
- the db container running (or an external database): SQL before ``up``, so a new
  authenticator password is in the database before PostgREST is recreated with it;
- anything done, or PostgREST not ready: the health gate, then the records;
- the db volume holds another major version's data than postgres_image runs: refused
  before any host changes (:func:`check_data_version`), or, with postgres_upgrade =
  dump-restore, bin/upgrade-db before ``up``, the SQL after it (the restored roles have
  no passwords) and the gate.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Mapping

from . import compare, layout, loaded
from .layout import JWKS_FILE, RECREATE_ON_CHANGE, RELOADED_BY_EDGE, RELOADED_BY_SIGNAL, RenderedFile
from .probe import HostState


@dataclass
class Plan:
    install_docker: bool = False
    start_docker: bool = False
    directories: list[str] = field(default_factory=list)
    files: list[str] = field(default_factory=list)
    up: bool = False
    sql: bool = False
    #: Apply the SQL before ``up`` (the database already answers), not after.
    sql_first: bool = False
    #: The ledger's digest differs from the rendered migrations': bin/migrate (after the SQL).
    migrate: bool = False
    #: Files under sql/ or migrations/ the rendered set lacks (removed before the SQL runs).
    remove: list[str] = field(default_factory=list)
    reload: bool = False
    #: The TLS edge's Caddyfile or certificate changed while it runs: bin/reload-edge.
    reload_edge: bool = False
    rotate_keys: bool = False
    #: A rotation whose key file is already in place (loaded.KEYS stale only): not rewritten.
    key_file_current: bool = False
    gate: bool = False
    #: image_source = controller: references to load from the controller (host lacks that image ID).
    load_images: list[str] = field(default_factory=list)
    #: Records of what the services have loaded that the host lacks (loaded.py), written last.
    record: list[str] = field(default_factory=list)
    #: (data's major, postgres_image's major): bin/upgrade-db moves the data, before ``up``.
    upgrade_db: tuple[int, int] | None = None

    @property
    def changes_anything(self) -> bool:
        return bool(self.install_docker or self.start_docker or self.directories or self.files
                    or self.up or self.sql or self.reload or self.rotate_keys or self.gate
                    or self.load_images or self.reload_edge or self.record
                    or self.migrate or self.remove or self.upgrade_db)


def with_jwks(files: dict[str, RenderedFile], key_file: bytes) -> dict[str, RenderedFile]:
    """The rendered files plus, where PostgREST runs, the canonical key file (readable by it only)."""
    if "postgrest/postgrest.conf" not in files:
        return files
    return {**files, JWKS_FILE: layout.rendered(JWKS_FILE, key_file)}


def make_plan(files: dict[str, RenderedFile], state: HostState, images: Mapping[str, str] | None = None) -> Plan:
    """The actions for every difference compare.diff finds (status reports the same ones).

    ``images``: with image_source = controller, {reference compose uses: controller's image ID}.
    """
    differences = compare.diff(files, state, images)

    def subjects(kind: str, *codes: str) -> list[str]:
        return [d.subject for d in differences if d.kind == kind and (not codes or d.code in codes)]

    plan = Plan()
    plan.install_docker = state.docker == "missing"
    plan.start_docker = bool(subjects("docker"))
    plan.load_images = subjects("image", "load")
    plan.directories = subjects("directory")
    plan.files = subjects("file", "missing", "content", "attributes", "content and attributes")
    plan.remove = subjects("file", "extra")
    plan.record = subjects("loaded")
    running = {name for name, service in state.services.items() if service.status == "running"}
    # A service not running, or running what compose would not run now (another image, or
    # a loaded image it was never brought up on), or running outside compose's file:
    # compose up -d recreates only what changed.
    plan.up = (bool(subjects("service", "missing", "stopped", "extra")) or bool(subjects("image"))
               or any(name in plan.files for name in RECREATE_ON_CHANGE) or loaded.STACK in plan.record)
    # A new key set on a running PostgREST goes through the rotation steps (write,
    # reload, verify, roll back on failure) instead of a plain upload; so does a key
    # file a stopped rotation wrote and PostgREST never loaded.
    plan.rotate_keys = "postgrest" in running and (JWKS_FILE in plan.files or loaded.KEYS in plan.record)
    if plan.rotate_keys:
        plan.key_file_current = JWKS_FILE not in plan.files
        if JWKS_FILE in plan.files:
            plan.files.remove(JWKS_FILE)
    plan.reload = ("postgrest" in running and not plan.rotate_keys
                   and (any(name in plan.files for name in RELOADED_BY_SIGNAL) or loaded.CONFIG in plan.record))
    # A container compose (re)creates reads the new files itself; one that keeps running
    # is told to (bin/reload-edge retries while a fresh one starts).
    plan.reload_edge = "edge" in running and (any(name in plan.files for name in RELOADED_BY_EDGE)
                                              or loaded.EDGE in plan.record)
    plan.sql = bool(subjects("sql"))
    # The database answers already: the SQL (a new authenticator password among it) goes
    # in before up recreates PostgREST with that password. A fresh db: after up.
    plan.sql_first = plan.sql and ("db" not in compare.expected_services(files) or "db" in running)
    plan.migrate = bool(subjects("migrations"))
    unhealthy = bool(subjects("ready") or subjects("service", "unhealthy"))
    plan.gate = (plan.up or plan.sql or plan.migrate or plan.reload or plan.rotate_keys or plan.reload_edge
                 or bool(plan.files) or bool(plan.remove) or bool(plan.record) or unhealthy)
    return plan


#: Where the operator reads how a major-version upgrade is done and undone.
UPGRADE_RUNBOOK = "docs/backups.md#upgrading-postgresql"


class DataVersionError(ValueError):
    """The db volume's data is of a major version postgres_image's server cannot run."""


def check_data_version(data_major: int | None, image_major: int | None, upgrade: str | None, *, volume: str,
                       image: str) -> tuple[int, int] | None:
    """(data's major, image's major) when this run upgrades the data, None when nothing
    is to upgrade (no data yet, the same major, an image whose tag names none); raises
    :class:`DataVersionError`, one line naming both versions and the runbook, when a
    server of ``image`` could not read the data and ``upgrade`` does not allow moving it.

    PostgreSQL refuses to start on another major's data directory: compose would recreate
    the container on it and the stack would crash-loop, so this is checked on the probe's
    answer, before any host changes. A lower major than the data's is never done (pg_dump
    of a newer server by an older one is not supported)."""
    if data_major is None or image_major is None or data_major == image_major:
        return None
    said = (f"the data volume {volume} holds PostgreSQL {data_major} data but postgres_image {image} runs "
            f"PostgreSQL {image_major}")
    if image_major < data_major:
        raise DataVersionError(f"{said}: a downgrade is not done; keep a {data_major} image (runbook: "
                               f"{UPGRADE_RUNBOOK}); nothing changed")
    if upgrade != "dump-restore":
        raise DataVersionError(f"{said}, which cannot read it: keep the {data_major} image, or set postgres_upgrade = "
                               f"\"dump-restore\" to upgrade (runbook: {UPGRADE_RUNBOOK}); nothing changed")
    return data_major, image_major


def with_upgrade(plan: Plan, upgrade: tuple[int, int] | None) -> Plan:
    """``plan`` with the upgrade's steps: bin/upgrade-db, then ``up`` (compose recreates
    db with the new image on the new data), the SQL after it (roles come back from the
    backup without passwords: sql/01-roles.sql sets them) and the gate."""
    if upgrade is None:
        return plan
    plan.upgrade_db = upgrade
    plan.up = plan.sql = plan.gate = True
    plan.sql_first = False
    return plan
