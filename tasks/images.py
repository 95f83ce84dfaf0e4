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

Host side, operation :func:`load`, always named ``Load image <reference>``: one
:class:`LoadCarriedImage` command that makes a fresh directory under ``/var/tmp`` with
``mktemp -d`` (mode 0700, owned by the user the commands run as: root), uploads the
archive into it (pyinfra's put_file; with ``_sudo`` the SFTP upload lands first in a
temp file of the login user named after the hash of this unpredictable destination,
which pyinfra copies as root and removes), runs ``gunzip -c ARCHIVE | docker load``,
and removes the directory whatever the outcome (also when the upload fails). No other
local user can pre-create, write into or swap what is loaded. The load is refused
(exit 1, one line naming the setting, the pin and both IDs) unless ``docker load``
reports exactly one ``Loaded image ID`` and it is the controller's image ID; only that
verified ID is tagged with the reference compose uses (the pin as given for a tag pin,
``name:sha256-<hex>`` for a digest pin: see postgrest_stack/images.py), and the
reference is checked to resolve. The probe reports the image ID the host holds under
each reference; the plan lists only those whose ID differs from the controller's, so a
rerun loads nothing and :func:`load_images` adds no operation.

Real-host check: deploy with ``--data image_source=controller`` (deploy.py calls
``controller.images_once`` then ``load_images`` after ``ensure_docker``); the first run
shows one ``Load image ...`` per image, the second none.
"""

from __future__ import annotations

import gzip
import os
import posixpath
import re
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

from pyinfra import logger
from pyinfra.api import StringCommand, deploy, operation
from pyinfra.api.command import PyinfraCommand, QuoteString
from pyinfra.api.util import print_host_combined_output

from postgrest_stack import PROJECT_ROOT
from postgrest_stack import images as stack_images
from postgrest_stack.settings import Settings

#: Where the controller keeps exported images (``/build/`` is gitignored).
CACHE_DIR = PROJECT_ROOT / "build" / "image-cache"
#: Where the fresh upload directory is made on the host (disk-backed, unlike a tmpfs /tmp).
HOST_UPLOAD_PARENT = "/var/tmp"
#: The upload directory's name before mktemp's ten random characters.
UPLOAD_DIR_PREFIX = "postgrest-stack-image."
#: The archive's name inside that directory.
UPLOAD_NAME = "image.tar.gz"


class ControllerImageError(Exception):
    """An image the host needs cannot be exported from the controller; the message names the setting."""


@dataclass(frozen=True)
class CarriedImage:
    setting: str  # e.g. "postgres_image"
    pin: str  # the setting's value
    reference: str  # what compose uses on the host
    image_id: str  # "sha256:<hex>", the controller's image ID
    archive: Path  # gzip-compressed `docker save` of the image, by ID


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


def upload_dir_command(parent: str) -> StringCommand:
    """Make a new directory under ``parent`` (mode 0700, the running user's) and print its path."""
    return StringCommand("mktemp", "-d", QuoteString(posixpath.join(parent, UPLOAD_DIR_PREFIX + "XXXXXXXXXX")))


def is_upload_dir(path: str, parent: str) -> bool:
    """Whether ``path`` (what :func:`upload_dir_command` printed) names a directory it makes."""
    return re.fullmatch(re.escape(posixpath.join(parent, UPLOAD_DIR_PREFIX)) + r"[A-Za-z0-9]{10}", path) is not None


#: printf format of the refusal: setting, pin, the ID(s) docker load reported, the controller's ID.
REFUSAL = ("setting '%s' (%s): docker load on this host reported image ID %s, not the controller's %s; "
           "refusing to tag it\\n")


def load_command(archive: str, image: CarriedImage) -> StringCommand:
    """Load the uploaded archive, remove it (also on failure), and tag the loaded image as its
    reference only when ``docker load`` reports exactly the controller's image ID."""
    quoted = QuoteString(archive)
    ref = QuoteString(image.reference)
    controller_id = QuoteString(image.image_id)
    return StringCommand(
        "out=$(gunzip -c", quoted, "| docker load); status=$?;",
        "rm -f", quoted, ";",
        'printf "%s\\n" "$out";',
        'if [ "$status" -ne 0 ]; then exit "$status"; fi;',
        # Every ID the host's engine says it loaded, on one line; exactly the controller's one passes.
        "loaded=$(printf '%s\\n' \"$out\" | sed -n 's/^Loaded image ID: *//p' | paste -sd ' ' -);",
        'if [ "$loaded" != ', controller_id, " ]; then",
        "printf", QuoteString(REFUSAL), QuoteString(image.setting), QuoteString(image.pin),
        '"${loaded:-(none)}"', controller_id, ">&2; exit 1; fi;",
        'docker tag "$loaded"', ref, "&&",
        "docker image inspect", ref, ">/dev/null",
    )


class LoadCarriedImage(PyinfraCommand):
    """The whole host side of one load, run with the operation's connector arguments (``_sudo``):
    a fresh 0700 directory, the upload into it, :func:`load_command`, and the directory's
    removal whatever the outcome."""

    def __init__(self, image: CarriedImage, upload_parent: str = HOST_UPLOAD_PARENT, **arguments):
        super().__init__(**arguments)
        self.image = image
        self.upload_parent = upload_parent

    def __repr__(self) -> str:
        return f"LoadCarriedImage({self.image.archive}, {self.image.reference})"

    def execute(self, state, host, connector_arguments) -> bool:
        arguments = {**connector_arguments, **self.connector_arguments,
                     "print_output": state.print_output, "print_input": state.print_input}

        def run(command: StringCommand) -> tuple[bool, str]:
            ok, output = host.run_shell_command(command, **arguments)
            if not ok and not state.print_output:
                print_host_combined_output(host, output)
            return ok, output.stdout.strip()

        ok, directory = run(upload_dir_command(self.upload_parent))
        if not ok:
            return False
        if not is_upload_dir(directory, self.upload_parent):
            host.log(f"Load image {self.image.reference}: mktemp printed {directory!r}, not a new directory "
                     f"under {self.upload_parent}; not uploading", logger.error)
            return False
        try:
            archive = posixpath.join(directory, UPLOAD_NAME)
            if not host.put_file(str(self.image.archive), archive, **arguments):
                return False
            ok, _out = run(load_command(archive, self.image))
            return ok
        finally:
            run(StringCommand("rm", "-rf", QuoteString(directory)))


@operation()
def load(image: CarriedImage, upload_parent: str = HOST_UPLOAD_PARENT):
    """Upload ``image``'s archive into a fresh root-only directory, ``docker load`` it, verify the
    loaded ID, tag it as its reference, remove the directory."""
    yield LoadCarriedImage(image, upload_parent)


@deploy("Images from the controller")
def load_images(carried: dict[str, CarriedImage], references: list[str], upload_parent: str = HOST_UPLOAD_PARENT):
    """One ``Load image <reference>`` per reference the plan names; none when it names none."""
    for reference in references:
        load(name=f"Load image {reference}", image=carried[reference], upload_parent=upload_parent)
