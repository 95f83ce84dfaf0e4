"""Decide what a run does on one host, from the rendered files and the probed state.

Pure: the pyinfra tasks turn a :class:`Plan` into operations. Keeping the decisions
here makes ``--dry`` exact (they are made before anything runs) and lets the unit
tests pin the rules:

- compose.yaml or .env changed, or a service is not running: ``up -d``
  (compose recreates only what changed);
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
- image_source = controller: a running service whose image ID is not the one the host
  holds under its reference (a load whose ``up`` never ran): ``up -d``;
- the db container running (or an external database): SQL before ``up``, so a new
  authenticator password is in the database before PostgREST is recreated with it;
- anything done, or PostgREST not ready: the health gate, then the records.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from pathlib import PurePosixPath
from typing import Mapping

from . import digests, layout, loaded, migrations
from .layout import DIRECTORIES, JWKS_FILE, RECREATE_ON_CHANGE, RELOADED_BY_EDGE, RELOADED_BY_SIGNAL, RenderedFile
from .probe import HostState, PathState
from .render import sql_digest

#: Folders whose every file is applied (layout.APPLIED_FOLDERS): a file there the
#: rendered set lacks (sql/02-api.sql of a release before migrations, a migration the
#: folder dropped) is removed before they run.
REMOVED_WHEN_GONE = layout.APPLIED_FOLDERS


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

    @property
    def changes_anything(self) -> bool:
        return bool(self.install_docker or self.start_docker or self.directories or self.files
                    or self.up or self.sql or self.reload or self.rotate_keys or self.gate
                    or self.load_images or self.reload_edge or self.record
                    or self.migrate or self.remove)


def with_jwks(files: dict[str, RenderedFile], key_file: bytes) -> dict[str, RenderedFile]:
    """The rendered files plus, where PostgREST runs, the canonical key file (readable by it only)."""
    if "postgrest/postgrest.conf" not in files:
        return files
    return {**files, JWKS_FILE: layout.rendered(JWKS_FILE, key_file)}


def _sha256(content: bytes) -> str:
    return hashlib.sha256(content).hexdigest()


def file_is_current(current: PathState | None, content: bytes, mode: int, uid: int, gid: int = 0,
                    digest_key: bytes | None = None) -> bool:
    """The probed file already holds ``content`` with this mode and owner.

    A secret file is probed by its keyed digest only (digests.py): compared with
    ``digest_key``, the key the host should hold.
    """
    if current is None or current.kind != "f" or (current.mode, current.uid, current.gid) != (mode, uid, gid):
        return False
    if current.keyed_sha256 is not None:
        return digest_key is not None and current.keyed_sha256 == digests.keyed(digest_key, content)
    return current.sha256 == _sha256(content)


def digest_key_of(files: dict[str, RenderedFile]) -> bytes | None:
    """The digest key a host of these files holds (the rendered .digest-key)."""
    return files[layout.DIGEST_KEY].content if layout.DIGEST_KEY in files else None


def directory_is_current(current: PathState | None, mode: int, uid: int, gid: int = 0) -> bool:
    return current is not None and current.kind == "d" and (current.mode, current.uid, current.gid) == (mode, uid, gid)


def expected_services(files: dict[str, RenderedFile]) -> set[str]:
    """The services the rendered compose file defines (two-space keys under services:)."""
    compose = files["compose.yaml"].content.decode()
    services = compose.partition("\nservices:\n")[2].partition("\nvolumes:\n")[0]
    return set(re.findall(r"^  ([a-z]+):$", services, flags=re.M))


def images_to_load(images: Mapping[str, str], state: HostState) -> list[str]:
    """The references whose image ID on the host differs from the controller's (or is missing)."""
    return [reference for reference, image_id in images.items() if state.images.get(reference) != image_id]


def stale_containers(images: Mapping[str, str], state: HostState) -> list[str]:
    """Running services whose image ID is not the controller's for their reference
    (image_source = controller): loaded, but never brought up."""
    return sorted(name for name, service in state.services.items()
                  if service.status == "running" and service.image in images and service.image_id
                  and service.image_id != images[service.image])


def make_plan(files: dict[str, RenderedFile], state: HostState, images: Mapping[str, str] | None = None) -> Plan:
    """``images``: with image_source = controller, {reference compose uses: controller's image ID}."""
    plan = Plan()
    plan.load_images = images_to_load(images or {}, state)
    plan.install_docker = state.docker == "missing"
    plan.start_docker = state.docker != "running"

    wanted_dirs = {str(PurePosixPath(name).parent) for name in files} | {"."}
    for relative, (mode, uid) in DIRECTORIES.items():
        if relative not in wanted_dirs:
            continue
        if not directory_is_current(state.paths.get(relative), mode, uid):
            plan.directories.append(relative)

    key = digest_key_of(files)
    for relative, rendered in files.items():
        if not file_is_current(state.paths.get(relative), rendered.content, rendered.mode, rendered.owner_uid,
                               digest_key=key):
            plan.files.append(relative)

    expected = expected_services(files)
    running = {name for name, service in state.services.items() if service.status == "running"}
    stack_down = not expected <= running
    plan.record = loaded.stale(files, key, state)
    # A loaded image (new, or a new ID under the same reference) is picked up by compose up,
    # also when the run that loaded it stopped before its up.
    plan.up = (stack_down or any(name in plan.files for name in RECREATE_ON_CHANGE) or bool(plan.load_images)
               or loaded.STACK in plan.record or bool(stale_containers(images or {}, state)))
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
    applies_sql = any(name.startswith("sql/") for name in files)
    plan.sql = applies_sql and state.sql_digest != f"sql-digest:{sql_digest(files)}"
    # The database answers already: the SQL (a new authenticator password among it) goes
    # in before up recreates PostgREST with that password. A fresh db: after up.
    plan.sql_first = plan.sql and ("db" not in expected or "db" in running)
    # The operator's migrations: the ledger's digest against the rendered folder's.
    plan.migrate = applies_sql and state.ledger_digest != migrations.digest_of_files(
        {name: rendered.content for name, rendered in files.items()})
    plan.remove = sorted(name for name, found in state.paths.items()
                         if name.startswith(REMOVED_WHEN_GONE) and found.kind == "f" and name not in files)
    unhealthy = ("postgrest" in expected and state.ready != 200) or (
        "db" in expected and getattr(state.services.get("db"), "health", "") != "healthy")
    plan.gate = (plan.up or plan.sql or plan.migrate or plan.reload or plan.rotate_keys or plan.reload_edge
                 or bool(plan.files) or bool(plan.remove) or bool(plan.record) or unhealthy)
    return plan
