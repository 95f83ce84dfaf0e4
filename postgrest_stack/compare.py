"""The one comparison of a probed host with what it should hold.

Pure. :func:`diff` lists every :class:`Difference` between the rendered files (with the
key file where PostgREST runs) and a probed :class:`~postgrest_stack.probe.HostState`.
It has two readers: plan.py turns differences into actions, status.py into drift
lines; so a deploy and ``status`` cannot disagree about what differs (a unit test
holds them to it for every kind). What only one reader needs stays with it: the
tenant's key ids and the ledger's rows (status), the order of the steps (plan).

Each difference has a ``kind`` (:data:`KINDS`), what it is about (``subject``: a path,
a service, a record, ``engine``, ``digest``, ``ledger``, an image reference), a short
``code`` the readers branch on, and ``detail``, the words ``status`` prints.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import Mapping

from . import digests, layout, loaded, migrations
from .layout import DIRECTORIES, JWKS_FILE, RenderedFile
from .probe import HostState, PathState

KINDS = ("docker", "directory", "file", "sql", "migrations", "service", "image", "ready", "loaded")


@dataclass(frozen=True)
class Difference:
    kind: str
    subject: str
    code: str
    detail: str


# --- The pieces (also read alone: tasks/files.py, rotate_keys.py) ----------------------


def digest_key_of(files: Mapping[str, RenderedFile]) -> bytes | None:
    """The digest key a host of these files holds (the rendered .digest-key)."""
    return files[layout.DIGEST_KEY].content if layout.DIGEST_KEY in files else None


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
    return current.sha256 == hashlib.sha256(content).hexdigest()


def directory_is_current(current: PathState | None, mode: int, uid: int, gid: int = 0) -> bool:
    return current is not None and current.kind == "d" and (current.mode, current.uid, current.gid) == (mode, uid, gid)


def service_images(files: Mapping[str, RenderedFile]) -> dict[str, str]:
    """The services the rendered compose file defines, each with the image it names."""
    compose = files[layout.COMPOSE].content.decode()
    services = compose.partition("\nservices:\n")[2].partition("\nvolumes:\n")[0]
    return dict(re.findall(r"^  ([a-z]+):\n    image: (\S+)$", services, flags=re.M))


def expected_services(files: Mapping[str, RenderedFile]) -> set[str]:
    """The services the rendered compose file defines."""
    return set(service_images(files))


def sql_digest(files: Mapping[str, RenderedFile]) -> str:
    """Digest of the SQL files, recorded in the database once they are applied.

    Keyed with the digest key (digests.py): the roles SQL holds passwords, and the
    recorded digest is printed by the probe.
    """
    digest = hashlib.sha256(files[layout.DIGEST_KEY].content if layout.DIGEST_KEY in files else b"")
    for name in sorted(n for n in files if n.startswith(f"{layout.SQL_DIR}/")):
        digest.update(name.encode() + b"\0" + files[name].content + b"\0")
    return digest.hexdigest()


def short_id(image_id: str) -> str:
    """``sha256:`` and the first 12 hex digits, as ``docker images`` shows an ID."""
    algorithm, _, digest = image_id.partition(":")
    return f"{algorithm}:{digest[:12]}" if digest else image_id[:12]


def _mode(mode: int) -> str:
    return f"{mode:04o}"


# --- The comparison --------------------------------------------------------------------


def _directory(relative: str, current: PathState | None) -> Difference | None:
    mode, uid = DIRECTORIES[relative]
    if directory_is_current(current, mode, uid):
        return None
    if current is None or current.kind != "d":
        return Difference("directory", relative, "missing", "missing" if current is None else "not a directory")
    details = []
    if current.mode != mode:
        details.append(f"mode {_mode(current.mode)}, expected {_mode(mode)}")
    if (current.uid, current.gid) != (uid, 0):
        details.append(f"owner {current.uid}:{current.gid}, expected {uid}:0")
    return Difference("directory", relative, "attributes", "; ".join(details))


def _file(relative: str, rendered: RenderedFile, current: PathState | None, key: bytes | None) -> Difference | None:
    if file_is_current(current, rendered.content, rendered.mode, rendered.owner_uid, digest_key=key):
        return None
    if current is None or current.kind != "f":
        return Difference("file", relative, "missing", "missing" if current is None else "not a regular file")
    details = []
    if current.keyed_sha256 is not None:
        same = key is not None and current.keyed_sha256 == digests.keyed(key, rendered.content)
    elif rendered.secret and current.sha256 is None:
        same = False  # a secret file the host could not digest (no digest key there)
    else:
        same = current.sha256 == hashlib.sha256(rendered.content).hexdigest()
    if not same:
        if relative == JWKS_FILE:
            details.append("content differs from the tenant's key set")
        elif rendered.secret:
            details.append("content differs from render (holds secrets: not shown)")
        else:
            details.append("content differs from render")
    if current.mode != rendered.mode:
        details.append(f"mode {_mode(current.mode)}, expected {_mode(rendered.mode)}")
    if (current.uid, current.gid) != (rendered.owner_uid, 0):
        details.append(f"owner {current.uid}:{current.gid}, expected {rendered.owner_uid}:0")
    attributes = len(details) > (0 if same else 1)
    code = "content and attributes" if not same and attributes else "content" if not same else "attributes"
    return Difference("file", relative, code, "; ".join(details) or "differs from render")


def _services(files: Mapping[str, RenderedFile], state: HostState,
              images: Mapping[str, str]) -> list[Difference]:
    found = []
    expected = service_images(files)
    for name, wanted in sorted(expected.items()):
        service = state.services.get(name)
        if service is None:
            found.append(Difference("service", name, "missing", "no container (expected running)"))
            continue
        if service.status != "running":
            found.append(Difference("service", name, "stopped", f"{service.status} (expected running)"))
        elif service.health in ("unhealthy", "starting"):
            found.append(Difference("service", name, "unhealthy", f"health {service.health} (expected healthy)"))
        if service.image != wanted:
            found.append(Difference("image", name, "reference", f"runs {service.image}, render names {wanted}"))
            continue
        # The image ID the host holds under the reference, or (image_source = controller)
        # the controller's: a container from another ID was loaded but never brought up.
        held = images.get(wanted) or state.images.get(wanted)
        if service.status == "running" and service.image_id and held and held != service.image_id:
            where = "the controller has" if images.get(wanted) else "the host holds"
            found.append(Difference("image", name, "stale", f"runs image {short_id(service.image_id)}, {where} "
                                                            f"{short_id(held)} under {wanted}"))
    for name in sorted(set(state.services) - set(expected)):
        if state.services[name].status == "running":
            found.append(Difference("service", name, "extra", "running but not in render"))
    return found


def diff(files: Mapping[str, RenderedFile], state: HostState,
         images: Mapping[str, str] | None = None) -> list[Difference]:
    """Every difference between ``files`` and the probed ``state``.

    ``images``: with image_source = controller, {reference compose uses: the controller's
    image ID}; an ID the host lacks is an ``image`` difference (code ``load``).
    """
    images = images or {}
    found: list[Difference] = []
    if state.docker != "running":
        found.append(Difference("docker", "engine", state.docker or "unknown",
                                "not installed" if state.docker == "missing" else "not running"))
    for reference, image_id in images.items():
        if state.images.get(reference) != image_id:
            found.append(Difference("image", reference, "load", f"the host lacks the controller's image "
                                                                  f"{short_id(image_id)}"))

    wanted_dirs = {str(PurePosixPath(name).parent) for name in files} | {"."}
    for relative in DIRECTORIES:
        if relative in wanted_dirs and (difference := _directory(relative, state.paths.get(relative))):
            found.append(difference)
    key = digest_key_of(files)
    for relative in sorted(files):
        if difference := _file(relative, files[relative], state.paths.get(relative), key):
            found.append(difference)
    for name, current in sorted(state.paths.items()):
        if name.startswith(layout.APPLIED_FOLDERS) and current.kind == "f" and name not in files:
            found.append(Difference("file", name, "extra", "not rendered: removed before the SQL runs"))
    for record in loaded.stale(files, key, state):
        found.append(Difference("loaded", record, "stale", loaded.NOT_LOADED[record]))

    if any(name.startswith(f"{layout.SQL_DIR}/") for name in files):
        if state.sql_digest is None:
            found.append(Difference("sql", "digest", "missing", "none recorded in the database (not applied, or "
                                                                "the database did not answer)"))
        elif state.sql_digest != f"sql-digest:{sql_digest(files)}":
            found.append(Difference("sql", "digest", "differs", "the SQL applied differs from render"))
        if state.ledger_digest != migrations.digest_of_files({name: f.content for name, f in files.items()}):
            found.append(Difference("migrations", "ledger", "missing" if state.ledger_digest is None else "differs",
                                    "no ledger in the database" if state.ledger_digest is None
                                    else "the database's ledger differs from the folder (migrations pending, or "
                                         "an applied one edited or removed: deploy.py --dry names them)"))
    found.extend(_services(files, state, images))
    if layout.POSTGREST_CONF in files and state.ready != 200:
        answer = f"answered {state.ready}" if state.ready else "did not answer"
        found.append(Difference("ready", "postgrest", "not ready", f"/ready {answer} (expected 200)"))
    return found
