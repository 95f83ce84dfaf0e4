"""Which image each service of a host uses, and under which reference compose names it.

Pure: no Docker, no host. With ``image_source = "registry"`` compose pulls the pinned
references as given. With ``image_source = "controller"`` the images are exported from
the controller's Docker engine and loaded on the host (tasks/images.py); a tag pin keeps
its reference, but ``docker load`` does not restore repository digests, so a digest pin
(``name@sha256:<hex>``) is tagged on the host as ``name:sha256-<hex>`` (see
:func:`local_reference`), and compose uses that local tag.
"""

from __future__ import annotations

from dataclasses import dataclass

from .settings import IMAGE_REFERENCE, Settings

#: service -> the setting that pins its image. "db" is the postgres image: the db
#: service, or, with external_db_uri, the psql client that applies the SQL from an api host.
IMAGE_SETTINGS = {"db": "postgres_image", "postgrest": "postgrest_image", "swagger": "swagger_image",
                  "edge": "caddy_image"}
#: Prefix of the local tag a digest-pinned image gets on the host.
DIGEST_TAG_PREFIX = "sha256-"


@dataclass(frozen=True)
class ImageRef:
    name: str  # [registry[:port]/]path, without tag or digest
    tag: str | None
    digest: str | None  # "sha256:<64 hex>"


def parse(reference: str) -> ImageRef:
    match = IMAGE_REFERENCE.match(reference)
    if not match:
        raise ValueError(f"not an image reference: {reference!r}")
    return ImageRef(match["name"], match["tag"], match["digest"])


def familiar_name(name: str) -> str:
    """Docker Hub's short form: ``docker.io/library/postgres`` -> ``postgres``."""
    for prefix in ("docker.io/", "index.docker.io/", "registry-1.docker.io/"):
        if name.startswith(prefix):
            name = name[len(prefix):]
            break
    if name.startswith("library/") and name.count("/") == 1:
        name = name[len("library/"):]
    return name


def local_reference(pin: str) -> str:
    """The reference a host holds a controller-carried image under.

    A tag pin stays as given; a digest pin (with or without a tag) becomes
    ``<name>:sha256-<hex>`` (71 characters, within Docker's 128 and its tag charset).
    """
    ref = parse(pin)
    if ref.digest is None:
        return pin
    return f"{ref.name}:{DIGEST_TAG_PREFIX}{ref.digest.removeprefix('sha256:')}"


def pinned(settings: Settings) -> dict[str, str]:
    """``{service: pinned reference}`` of the images this host needs."""
    wanted = {}
    if settings.applies_sql:  # runs the db service, or psql against external_db_uri
        wanted["db"] = settings.postgres_image
    if settings.runs_api:
        wanted["postgrest"] = settings.postgrest_image
        if settings.swagger_enabled:
            wanted["swagger"] = settings.swagger_image
    if settings.runs_edge:
        wanted["edge"] = settings.caddy_image
    return wanted


def compose_references(settings: Settings) -> dict[str, str]:
    """``{service: reference compose uses}`` for this host (``db`` also names the psql image
    used against an external database)."""
    wanted = pinned(settings)
    if settings.image_source != "controller":
        return wanted
    return {service: local_reference(pin) for service, pin in wanted.items()}
