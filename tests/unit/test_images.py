"""image_source = controller: references compose uses, the probe's image lines, the
controller's export cache and the host-side load command against the real engine (with a
stand-in docker: test_image_load.py)."""

from __future__ import annotations

import dataclasses
import gzip
import shlex
import subprocess
import tarfile

import pytest

from postgrest_stack import images, probe, render, settings
from tasks import controller
from tasks import images as image_tasks

HEX = "0123456789abcdef" * 4
DIGEST = f"sha256:{HEX}"
REAL_IMAGE = "postgrest/postgrest:v12.0.2"  # built locally by images/build.sh


def resolve(data, **overrides) -> settings.Settings:
    return settings.resolve(dict(data, **overrides))


# --- references compose uses (pure) --------------------------------------------------

@pytest.mark.parametrize("pin", ["postgres:15.14-bookworm", "localhost:5000/pg:15",
                                 "registry.example.com:443/team/postgrest:v12.0.2"])
def test_tag_pin_keeps_its_reference(pin):
    assert images.local_reference(pin) == pin


@pytest.mark.parametrize(("pin", "local"), [
    (f"postgres@{DIGEST}", f"postgres:sha256-{HEX}"),
    (f"postgres:15.14-bookworm@{DIGEST}", f"postgres:sha256-{HEX}"),
    (f"localhost:5000/team/pg@{DIGEST}", f"localhost:5000/team/pg:sha256-{HEX}"),
])
def test_digest_pin_gets_a_local_tag_from_the_digest(pin, local):
    assert images.local_reference(pin) == local
    tag = local.rsplit(":", 1)[1]
    assert len(tag) <= 128 and settings.IMAGE_REFERENCE.match(local)["tag"] == tag


def test_registry_with_port_is_part_of_the_name():
    assert images.parse("localhost:5000/pg:15") == images.ImageRef("localhost:5000/pg", "15", None)
    assert images.parse(f"localhost:5000/pg@{DIGEST}") == images.ImageRef("localhost:5000/pg", None, DIGEST)


def test_familiar_name():
    assert images.familiar_name("docker.io/library/postgres") == "postgres"
    assert images.familiar_name("docker.io/postgrest/postgrest") == "postgrest/postgrest"
    assert images.familiar_name("localhost:5000/library/pg") == "localhost:5000/library/pg"


def test_compose_references_per_role_and_source(data):
    pins = dict(postgres_image=f"postgres@{DIGEST}", postgrest_image="localhost:5000/postgrest:v12.0.2")
    assert images.compose_references(resolve(data, **pins)) == {
        "db": f"postgres@{DIGEST}", "postgrest": "localhost:5000/postgrest:v12.0.2"}
    assert images.compose_references(resolve(data, image_source="controller", **pins)) == {
        "db": f"postgres:sha256-{HEX}", "postgrest": "localhost:5000/postgrest:v12.0.2"}
    db_host = resolve(data, stack_role="db", image_source="controller")
    assert images.compose_references(db_host) == {"db": "postgres:15.14-bookworm"}
    api_host = resolve(data, stack_role="api", db_host="10.0.0.5", swagger_enabled=True,
                       public_api_url="https://api.example.com", image_source="controller")
    assert images.compose_references(api_host) == {"postgrest": "postgrest/postgrest:v12.0.2",
                                                    "swagger": "swaggerapi/swagger-ui:v5.17.14"}


def test_controller_compose_file_uses_the_local_tag_and_never_pulls(data, secrets):
    pinned = render.render(resolve(data, postgres_image=f"postgres@{DIGEST}", image_source="controller"), secrets)
    compose = pinned["compose.yaml"].content.decode()
    assert f"    image: postgres:sha256-{HEX}\n" in compose
    assert "    image: postgrest/postgrest:v12.0.2\n" in compose
    assert compose.count("    pull_policy: never") == 2
    from_registry = render.render(resolve(data, postgres_image=f"postgres@{DIGEST}"), secrets)
    compose = from_registry["compose.yaml"].content.decode()
    assert f"    image: postgres@{DIGEST}\n" in compose and "pull_policy" not in compose


def test_external_database_psql_image_is_carried_too(data, secrets):
    api = resolve(data, stack_role="api", external_db_uri="postgres://db.example.com/app",
                  postgres_image=f"postgres@{DIGEST}", image_source="controller")
    assert images.compose_references(api)["db"] == f"postgres:sha256-{HEX}"
    assert f" postgres:sha256-{HEX} " in render.render(api, secrets)["bin/apply-sql"].content.decode()


# --- the probe's image lines ---------------------------------------------------------

def test_probe_reports_the_image_id_under_each_quoted_reference():
    refs = ("postgres:sha256-" + HEX, "odd ref:1")  # the second is not a valid name: quoting must hold
    script = probe.command("/opt/app", "postgrest", 3001, images=refs)
    for ref in refs:
        assert f"printf 'image %s %s\\n' {shlex.quote(ref)} " in script
        assert f"docker image inspect --format '{{{{.Id}}}}' {shlex.quote(ref)} 2>/dev/null" in script
    # After Docker is known to run, before the containers.
    assert script.index("echo \"docker running\"") < script.index("printf 'image") < script.index("ids=$(")
    assert "image" not in probe.command("/opt/app", "postgrest", 3001).replace("com.docker.compose", "")


def test_probe_parser_reads_image_lines():
    state = probe.parse(["docker running", f"image postgres:15 sha256:{HEX}", "image localhost:5000/pg:15 "])
    assert state.images == {"postgres:15": f"sha256:{HEX}", "localhost:5000/pg:15": None}


# --- the controller's export cache ---------------------------------------------------

class FakeImage:
    def __init__(self, image_id, tags=(), repo_digests=()):
        self.id = image_id
        self.tags = list(tags)
        self.attrs = {"Id": image_id, "RepoTags": list(tags), "RepoDigests": list(repo_digests)}
        self.saves = 0

    def save(self, named=False):
        assert named is False  # by ID: the host tags it
        self.saves += 1
        yield b"tar bytes of " + self.id.encode()


class FakeClient:
    def __init__(self, *fake_images):
        self.all = list(fake_images)
        self.calls = 0
        client = self

        class Images:
            def get(self, ref):
                import docker

                client.calls += 1
                for image in client.all:
                    if ref in image.tags:
                        return image
                raise docker.errors.ImageNotFound(f"No such image: {ref}")

            def list(self):
                client.calls += 1
                return list(client.all)

        self.images = Images()


def test_registry_source_never_asks_docker(data, tmp_path):
    cache = image_tasks.ControllerImageCache(tmp_path, client_factory=lambda: pytest.fail("docker asked"))
    assert cache.carry(resolve(data)) == {}


def test_tag_pins_are_exported_once_per_run(data, tmp_path):
    pg = FakeImage(f"sha256:{'1' * 64}", tags=["postgres:15.14-bookworm"])
    pgrst = FakeImage(f"sha256:{'2' * 64}", tags=["postgrest/postgrest:v12.0.2"])
    client = FakeClient(pg, pgrst)
    cache = image_tasks.ControllerImageCache(tmp_path / "cache", client_factory=lambda: client)
    carried = cache.carry(resolve(data, image_source="controller"))
    assert set(carried) == {"postgres:15.14-bookworm", "postgrest/postgrest:v12.0.2"}
    image = carried["postgres:15.14-bookworm"]
    assert (image.setting, image.image_id) == ("postgres_image", pg.id)
    assert image.archive == tmp_path / "cache" / f"{'1' * 64}.tar.gz"
    assert gzip.decompress(image.archive.read_bytes()) == b"tar bytes of " + pg.id.encode()
    assert image_tasks.image_ids(carried) == {"postgres:15.14-bookworm": pg.id, "postgrest/postgrest:v12.0.2": pgrst.id}
    calls = client.calls
    assert cache.carry(resolve(data, image_source="controller", stack_role="db")) == {
        "postgres:15.14-bookworm": image}
    assert client.calls == calls and pg.saves == 1  # second host of the run: no docker call
    # A later run (new cache object) reuses the file instead of exporting again.
    later = image_tasks.ControllerImageCache(tmp_path / "cache", client_factory=lambda: client)
    assert later.carry(resolve(data, image_source="controller"))["postgres:15.14-bookworm"] == image
    assert pg.saves == 1 and [p.name for p in (tmp_path / "cache").iterdir() if p.name.startswith(".")] == []


def test_digest_pin_is_found_by_its_repo_digest(data, tmp_path):
    other = FakeImage(f"sha256:{'3' * 64}", tags=["postgres:16"], repo_digests=[f"postgres@sha256:{'f' * 64}"])
    pinned = FakeImage(f"sha256:{'4' * 64}", repo_digests=[f"postgres@{DIGEST}"])  # pulled by digest: no tag
    client = FakeClient(other, pinned, FakeImage(f"sha256:{'2' * 64}", tags=["postgrest/postgrest:v12.0.2"]))
    cache = image_tasks.ControllerImageCache(tmp_path, client_factory=lambda: client)
    carried = cache.carry(resolve(data, image_source="controller", postgres_image=f"docker.io/library/postgres@{DIGEST}"))
    image = carried[f"docker.io/library/postgres:sha256-{HEX}"]
    assert image.image_id == pinned.id and image.pin == f"docker.io/library/postgres@{DIGEST}"


@pytest.mark.parametrize("pin", ["postgres:99", f"postgres@{DIGEST}"])
def test_missing_image_is_one_line_naming_setting_and_image(data, tmp_path, pin):
    client = FakeClient(FakeImage(f"sha256:{'2' * 64}", tags=["postgrest/postgrest:v12.0.2"]),
                        FakeImage(f"sha256:{'3' * 64}", tags=["postgres:16"], repo_digests=[f"other@{DIGEST}"]))
    cache = image_tasks.ControllerImageCache(tmp_path, client_factory=lambda: client)
    with pytest.raises(controller.CONTROLLER_ERRORS) as error:
        cache.carry(resolve(data, image_source="controller", postgres_image=pin))
    message = str(error.value)
    assert "setting 'postgres_image'" in message and repr(pin) in message and "\n" not in message
    assert list(tmp_path.iterdir()) == []


# --- against the controller's real Docker engine -------------------------------------

@pytest.fixture(scope="module")
def engine():
    docker = pytest.importorskip("docker")
    try:
        client = docker.from_env()
        client.ping()
    except docker.errors.DockerException as error:
        pytest.skip(f"no Docker engine on this machine: {error}")
    try:
        client.images.get(REAL_IMAGE)
    except docker.errors.ImageNotFound:
        pytest.skip(f"{REAL_IMAGE} is not in the local engine (images/build.sh builds it)")
    return client


def test_real_export_is_cached_by_image_id(engine, data, tmp_path, monkeypatch):
    import docker

    wanted = resolve(data, image_source="controller", stack_role="api", db_host="10.0.0.5")
    image = image_tasks.ControllerImageCache(tmp_path, client_factory=lambda: engine).carry(wanted)[REAL_IMAGE]
    expected_id = engine.images.get(REAL_IMAGE).id
    assert image.image_id == expected_id and image.archive.name == f"{expected_id[7:]}.tar.gz"
    with tarfile.open(image.archive, "r:gz") as archive:
        names = archive.getnames()
    assert "manifest.json" in names and f"{expected_id[7:]}.json" in names
    before = image.archive.stat()
    monkeypatch.setattr(docker.models.images.Image, "save", lambda *a, **k: pytest.fail("exported again"))
    again = image_tasks.ControllerImageCache(tmp_path, client_factory=lambda: engine).carry(wanted)[REAL_IMAGE]
    assert again == image and image.archive.stat().st_mtime_ns == before.st_mtime_ns


def test_real_load_command_loads_tags_and_removes_the_upload(engine, data, tmp_path):
    wanted = resolve(data, image_source="controller", stack_role="api", db_host="10.0.0.5")
    image = image_tasks.ControllerImageCache(tmp_path / "cache", client_factory=lambda: engine).carry(wanted)[REAL_IMAGE]
    upload = tmp_path / "up load" / image_tasks.UPLOAD_NAME
    upload.parent.mkdir()
    upload.write_bytes(image.archive.read_bytes())
    reference = f"postgrest-stack-unit-test/load:sha256-{image.image_id[7:]}"
    image = dataclasses.replace(image, reference=reference)
    try:
        done = subprocess.run(["sh", "-c", image_tasks.load_command(str(upload), image).get_raw_value()],
                              capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, done.stderr
        # The real engine reports the ID it loaded, and it is the controller's one.
        assert f"Loaded image ID: {image.image_id}" in done.stdout.splitlines()
        assert not upload.exists()
        assert engine.images.get(reference).id == image.image_id
        host_view = probe.parse(subprocess.run(["sh", "-c", probe.command(str(tmp_path / "none"), "unit-test-none", 1,
                                                                          images=(reference,))],
                                               capture_output=True, text=True, timeout=60).stdout.splitlines())
        assert host_view.images == {reference: image.image_id}
    finally:
        subprocess.run(["docker", "rmi", reference], capture_output=True)
