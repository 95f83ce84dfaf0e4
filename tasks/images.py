"""Images without a registry: ``image_source = "controller"`` carries them from the controller.

Controller side, once per run (one :class:`ControllerImageCache` in the run's shared
state, tasks/run.py): each pinned
image a host needs (``postgres_image`` where it runs the db or applies SQL to an
external database, ``postgrest_image`` where it runs the api, ``swagger_image`` with
``swagger_enabled``) is looked up in the controller's local Docker engine with the
``docker`` SDK: a tag pin by its reference, a digest pin (``name@sha256:<hex>``) as the
image whose RepoDigests hold the pin. It is exported by image ID (untagged) with the
SDK's save, gzip-compressed, and written atomically to ``build/image-cache/<id>.tar.gz``;
a later run reuses that file. An image missing on the controller stops the run with a
one-line :class:`ControllerImageError` before any host is touched (deploy.py catches it
with the other controller errors).

Host side, operation :func:`load`, always named ``Load image <reference>``: upload the
archive to ``/var/tmp`` (pyinfra's put_file; with ``_sudo`` it goes through a temp file
that pyinfra removes after copying it), ``gunzip -c ARCHIVE | docker load``, remove the
upload whatever the outcome, tag the loaded image with the reference compose uses
(the pin as given for a tag pin, ``name:sha256-<hex>`` for a digest pin: see
postgrest_stack/images.py), and check that the reference resolves. The probe reports
the image ID the host holds under each reference; the plan lists only those whose ID
differs from the controller's, so a rerun loads nothing and :func:`load_images` adds no
operation.

Real-host check: deploy with ``--data image_source=controller`` (deploy.py calls
``controller.images_once`` then ``load_images`` after ``ensure_docker``); the first run
shows one ``Load image ...`` per image, the second none.
"""

from __future__ import annotations

import gzip
import os
import posixpath
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

from pyinfra.api import FileUploadCommand, StringCommand, deploy, operation
from pyinfra.api.command import QuoteString

from postgrest_stack import PROJECT_ROOT
from postgrest_stack import images as stack_images
from postgrest_stack.settings import Settings

#: Where the controller keeps exported images (``/build/`` is gitignored).
CACHE_DIR = PROJECT_ROOT / "build" / "image-cache"
#: Where an archive is uploaded on the host (disk-backed, unlike a tmpfs /tmp); removed after the load.
HOST_UPLOAD_DIR = "/var/tmp"


class ControllerImageError(Exception):
    """An image the host needs cannot be exported from the controller; the message names the setting."""


@dataclass(frozen=True)
class CarriedImage:
    setting: str  # e.g. "postgres_image"
    pin: str  # the setting's value
    reference: str  # what compose uses on the host
    image_id: str  # "sha256:<hex>", the controller's image ID
    archive: Path  # gzip-compressed `docker save` of the image, by ID

    @property
    def upload_name(self) -> str:
        return f"postgrest-stack-image-{self.image_id.removeprefix('sha256:')}.tar.gz"


class ControllerImageCache:
    """Export pinned images from the controller's Docker engine, once per run and pin.

    ``client_factory`` makes the Docker client (``docker.from_env`` unless given); it is
    called at most once, on the first image asked for.
    """

    def __init__(self, directory: Path, client_factory: Callable[[], Any] | None = None):
        self.directory = Path(directory)
        self._client_factory = client_factory
        self._client = None
        self._by_pin: dict[str, CarriedImage] = {}

    def carry(self, settings: Settings) -> dict[str, CarriedImage]:
        """``{reference compose uses: CarriedImage}`` for this host; empty unless image_source = controller."""
        if settings.image_source != "controller":
            return {}
        carried = {}
        for service, pin in stack_images.pinned(settings).items():
            image = self._carried(stack_images.IMAGE_SETTINGS[service], pin)
            carried[image.reference] = image
        return carried

    def _carried(self, setting: str, pin: str) -> CarriedImage:
        if pin not in self._by_pin:
            image = self._find(setting, pin)
            self._by_pin[pin] = CarriedImage(setting, pin, stack_images.local_reference(pin), image.id,
                                             self._archive(setting, pin, image))
        return self._by_pin[pin]

    def _docker(self):
        if self._client is None:
            import docker

            try:
                self._client = (self._client_factory or docker.from_env)()
            except docker.errors.DockerException as error:
                raise ControllerImageError(
                    f"setting 'image_source' is 'controller' but the controller's Docker engine is not reachable: "
                    f"{_one_line(error)}") from None
        return self._client

    def _find(self, setting: str, pin: str):
        import docker

        ref = stack_images.parse(pin)
        client = self._docker()
        try:
            if ref.digest is None:
                return client.images.get(pin)
            # `docker load` keeps no repository digest: match the pin against RepoDigests here.
            want = stack_images.familiar_name(ref.name)
            for image in client.images.list():
                for repo_digest in image.attrs.get("RepoDigests") or []:
                    name, _, digest = repo_digest.partition("@")
                    if digest == ref.digest and stack_images.familiar_name(name) == want:
                        return image
        except docker.errors.ImageNotFound:
            pass
        except docker.errors.DockerException as error:
            raise ControllerImageError(f"setting '{setting}': looking up image {pin!r} on the controller failed: "
                                       f"{_one_line(error)}") from None
        raise ControllerImageError(
            f"setting '{setting}': image {pin!r} is not in the controller's Docker engine "
            f"(image_source = controller): pull, build or load it there first")

    def _archive(self, setting: str, pin: str, image) -> Path:
        """The image's cache file, exported now unless an earlier run left it."""
        path = self.directory / f"{image.id.removeprefix('sha256:')}.tar.gz"
        if path.is_file():
            return path
        self.directory.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=self.directory)
        try:
            with os.fdopen(fd, "wb") as raw:
                with gzip.GzipFile(filename="", mode="wb", fileobj=raw, compresslevel=1, mtime=0) as archive:
                    for chunk in image.save(named=False):
                        archive.write(chunk)
                raw.flush()
                os.fsync(raw.fileno())
            os.chmod(tmp, 0o644)
            os.replace(tmp, path)
        except Exception as error:
            Path(tmp).unlink(missing_ok=True)
            raise ControllerImageError(f"setting '{setting}': exporting image {pin!r} from the controller failed: "
                                       f"{_one_line(error)}") from None
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        return path


def _one_line(error: BaseException) -> str:
    return " ".join(str(error).split())


def image_ids(carried: dict[str, CarriedImage]) -> dict[str, str]:
    """``{reference: controller image ID}``, what the plan compares with the probe."""
    return {reference: image.image_id for reference, image in carried.items()}


def load_command(remote: str, reference: str, image_id: str) -> StringCommand:
    """Load the uploaded archive, remove it (also on failure), tag the image as ``reference``."""
    archive = QuoteString(remote)
    ref = QuoteString(reference)
    return StringCommand(
        "out=$(gunzip -c", archive, "| docker load); status=$?;",
        "rm -f", archive, ";",
        'printf "%s\\n" "$out";',
        'if [ "$status" -ne 0 ]; then exit "$status"; fi;',
        # The ID as the host's engine names it; the controller's as a fallback.
        "loaded=$(printf '%s\\n' \"$out\" | sed -n 's/^Loaded image ID: *//p' | tail -n 1);",
        f'docker tag "${{loaded:-{image_id}}}"', ref, "&&",
        "docker image inspect", ref, ">/dev/null",
    )


@operation()
def load(image: CarriedImage, upload_dir: str = HOST_UPLOAD_DIR):
    """Upload ``image``'s archive, ``docker load`` it, remove the upload, tag it as its reference."""
    remote = posixpath.join(upload_dir, image.upload_name)
    yield FileUploadCommand(str(image.archive), remote)
    yield load_command(remote, image.reference, image.image_id)


@deploy("Images from the controller")
def load_images(carried: dict[str, CarriedImage], references: list[str]):
    """One ``Load image <reference>`` per reference the plan names; none when it names none."""
    for reference in references:
        load(name=f"Load image {reference}", image=carried[reference])
