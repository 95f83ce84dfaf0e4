"""image_source = controller, host side: what the load does, run for real with a stand-in
``docker`` on PATH that answers ``docker load`` with the ``Loaded image ID`` line a test
chooses and records every ``tag``.

- The rendered load command (tasks/images.py ``load_command``) run by ``sh``: it tags the
  ID ``docker load`` reported, and refuses (exit 1, one line naming the setting, the pin
  and both IDs, no tag) any other answer.
- The ``load`` operation run through pyinfra's API on ``@local`` (what deploy.py runs on
  each host): the archive goes into a directory made fresh for this load (mode 0700, the
  running user's: root on a host), never into a path another local user created first,
  and that directory is gone afterwards, also when the load is refused or the upload
  fails.
"""

from __future__ import annotations

import gzip
import logging
import os
import shlex
import subprocess
from pathlib import Path

import pytest
from pyinfra.api.deploy import add_deploy
from pyinfra.api.exceptions import PyinfraError
from pyinfra.api.operations import run_ops

from tasks import images as image_tasks
from tests.harness.local_pyinfra import local_host

CONTROLLER_ID = f"sha256:{'4' * 64}"
OTHER_ID = f"sha256:{'e' * 64}"
PIN = "postgres:15.14-bookworm"
ARCHIVE_BYTES = b"tar bytes of the controller's image"
NOBODY = 65534


class StandInDocker:
    """A ``docker`` that reads what ``load`` is given, answers with ``answer`` (exit ``status``),
    records ``tag`` calls, and resolves ``image inspect`` only for a reference it tagged. With
    ``watch``: at ``load`` it lists what is under that directory (path, mode, owner, type)."""

    def __init__(self, directory: Path, answer: str, status: int = 0, watch: Path | None = None):
        self.directory = directory
        self.bin = directory / "bin"
        self.bin.mkdir(parents=True)
        (directory / "answer").write_text(answer)
        here = shlex.quote(str(directory))
        snapshot = (f"find {shlex.quote(str(watch))} -mindepth 1 -printf '%P %m %U %y\\n' | sort > {here}/at-load"
                    if watch else ":")
        script = self.bin / "docker"
        script.write_text(f"""#!/bin/sh
case "$1" in
  load)
    cat > {here}/loaded-bytes
    {snapshot}
    cat {here}/answer
    exit {int(status)} ;;
  tag)
    echo "tag $2 $3" >> {here}/calls ;;
  image)
    [ "$2" = inspect ] && awk -v r="$3" '$1 == "tag" && $3 == r {{ found = 1 }} END {{ exit !found }}' \\
        {here}/calls 2>/dev/null ;;
  *)
    echo "stand-in docker: unexpected $*" >&2; exit 64 ;;
esac
""")
        script.chmod(0o755)

    @property
    def path(self) -> str:
        return f"{self.bin}:{os.environ['PATH']}"

    def tags(self) -> list[str]:
        calls = self.directory / "calls"
        return calls.read_text().splitlines() if calls.exists() else []

    def loaded_bytes(self) -> bytes | None:
        path = self.directory / "loaded-bytes"
        return path.read_bytes() if path.exists() else None

    def at_load(self) -> list[str]:
        return (self.directory / "at-load").read_text().splitlines()


def carried(tmp_path: Path, image_id: str = CONTROLLER_ID, pin: str = PIN) -> image_tasks.CarriedImage:
    archive = tmp_path / "controller" / f"{image_id[7:]}.tar.gz"
    archive.parent.mkdir(exist_ok=True)
    archive.write_bytes(gzip.compress(ARCHIVE_BYTES))
    return image_tasks.CarriedImage("postgres_image", pin, pin, image_id, archive)


def loaded_line(*ids: str) -> str:
    return "".join(f"Loaded image ID: {image_id}\n" for image_id in ids)


# --- the rendered load command -------------------------------------------------------

def run_load_command(tmp_path: Path, image: image_tasks.CarriedImage, docker: StandInDocker):
    upload = tmp_path / "up load" / image_tasks.UPLOAD_NAME  # a space: every path must be quoted
    upload.parent.mkdir()
    upload.write_bytes(image.archive.read_bytes())
    done = subprocess.run(["sh", "-c", image_tasks.load_command(str(upload), image).get_raw_value()],
                          capture_output=True, text=True, timeout=30, env={**os.environ, "PATH": docker.path})
    assert docker.loaded_bytes() == ARCHIVE_BYTES  # gunzipped into docker load
    assert not upload.exists()  # removed whatever the outcome
    return done


def test_load_tags_the_image_id_docker_load_reported(tmp_path):
    image = carried(tmp_path)
    docker = StandInDocker(tmp_path / "docker", answer=loaded_line(CONTROLLER_ID))
    done = run_load_command(tmp_path, image, docker)
    assert done.returncode == 0, done.stderr
    assert docker.tags() == [f"tag {CONTROLLER_ID} {PIN}"]


@pytest.mark.parametrize("answer", [
    loaded_line(OTHER_ID),  # the archive held another image
    "Loaded image: evil/postgres:latest\n",  # a named archive: no ID reported at all
    loaded_line(CONTROLLER_ID, OTHER_ID),  # more than the one image the controller exported
    loaded_line(CONTROLLER_ID[:-1]),  # a prefix of it
], ids=["other-id", "no-id", "two-ids", "prefix"])
def test_any_other_loaded_id_is_refused_in_one_line_and_nothing_is_tagged(tmp_path, answer):
    image = carried(tmp_path)
    docker = StandInDocker(tmp_path / "docker", answer=answer)
    done = run_load_command(tmp_path, image, docker)
    assert done.returncode != 0
    assert docker.tags() == []
    lines = done.stderr.splitlines()
    assert len(lines) == 1, done.stderr
    assert "setting 'postgres_image'" in lines[0] and PIN in lines[0] and CONTROLLER_ID in lines[0]
    reported = [word for word in answer.split() if word.startswith("sha256:")]
    assert all(image_id in lines[0] for image_id in reported)


def test_refusal_names_both_ids(tmp_path):
    docker = StandInDocker(tmp_path / "docker", answer=loaded_line(OTHER_ID))
    done = run_load_command(tmp_path, carried(tmp_path), docker)
    assert done.stderr == (f"setting 'postgres_image' ({PIN}): docker load on this host reported image ID "
                           f"{OTHER_ID}, not the controller's {CONTROLLER_ID}; refusing to tag it\n")


def test_a_failed_docker_load_keeps_its_exit_status_and_tags_nothing(tmp_path):
    docker = StandInDocker(tmp_path / "docker", answer="open /var/lib/docker/tmp: no space left on device\n",
                           status=3)
    done = run_load_command(tmp_path, carried(tmp_path), docker)
    assert done.returncode == 3 and docker.tags() == []


# --- the load operation through pyinfra on @local ------------------------------------

@pytest.fixture
def upload_parent(tmp_path):
    """A /var/tmp: world-writable and sticky, where another user (nobody) has already put
    the names an upload path that can be predicted would take."""
    if os.geteuid() != 0:
        pytest.skip("creating another user's files needs root, as the other unit tests do")
    parent = tmp_path / "var-tmp"
    parent.mkdir()
    parent.chmod(0o1777)
    hexid = CONTROLLER_ID[7:]
    planted_file = parent / f"postgrest-stack-image-{hexid}.tar.gz"  # the name the archive used to get
    planted_file.write_bytes(b"planted")
    planted_dir = parent / f"{image_tasks.UPLOAD_DIR_PREFIX}{hexid}"  # the directory name of a predictable dir
    planted_dir.mkdir()
    for path, mode in ((planted_file, 0o666), (planted_dir, 0o777)):
        os.chown(path, NOBODY, NOBODY)
        path.chmod(mode)
    return parent


def planted(parent: Path) -> list[str]:
    return sorted(f"{os.stat(p).st_mode & 0o7777:o} {os.stat(p).st_uid} {p.name}" for p in parent.iterdir())


def run_load(image, parent, docker, monkeypatch) -> bool:
    monkeypatch.setenv("PATH", docker.path)
    with local_host() as (state, host):
        add_deploy(state, image_tasks.load_images, {image.reference: image}, [image.reference], str(parent))
        try:
            run_ops(state)
        except PyinfraError:  # "No hosts remaining!": the one host failed
            pass
        return not state.results[host].error_ops


def test_the_archive_is_loaded_from_a_fresh_root_only_directory_removed_after(tmp_path, upload_parent,
                                                                               monkeypatch):
    image = carried(tmp_path)
    before = planted(upload_parent)
    planted_names = {line.split()[-1] for line in before}
    uid = os.geteuid()  # root on a host (_sudo)
    directories = []
    for run in ("first", "second"):  # the same image loaded twice (say, after `docker rmi`)
        docker = StandInDocker(tmp_path / run, answer=loaded_line(CONTROLLER_ID), watch=upload_parent)
        assert run_load(image, upload_parent, docker, monkeypatch)
        assert docker.loaded_bytes() == ARCHIVE_BYTES
        assert docker.tags() == [f"tag {CONTROLLER_ID} {PIN}"]
        # While docker load ran: the planted entries, plus one new directory holding the archive.
        new = [line.split() for line in docker.at_load() if line.split()[0] not in planted_names]
        assert len(new) == 2, docker.at_load()
        (name, mode, owner, kind), (archive, _mode, archive_owner, archive_kind) = new
        assert (mode, int(owner), kind) == ("700", uid, "d")
        assert name.startswith(image_tasks.UPLOAD_DIR_PREFIX)
        assert (archive, int(archive_owner), archive_kind) == (f"{name}/{image_tasks.UPLOAD_NAME}", uid, "f")
        directories.append(name)
        # Afterwards: only what nobody planted, as it was.
        assert planted(upload_parent) == before
        assert (upload_parent / f"postgrest-stack-image-{CONTROLLER_ID[7:]}.tar.gz").read_bytes() == b"planted"
        assert list((upload_parent / f"{image_tasks.UPLOAD_DIR_PREFIX}{CONTROLLER_ID[7:]}").iterdir()) == []
    # Not a name anyone could have created first: each load gets another one.
    assert directories[0] != directories[1]


def test_a_refused_load_fails_the_operation_and_leaves_no_directory(tmp_path, upload_parent, monkeypatch, caplog):
    image = carried(tmp_path)
    before = planted(upload_parent)
    docker = StandInDocker(tmp_path / "docker", answer=loaded_line(OTHER_ID))
    with caplog.at_level(logging.ERROR, logger="pyinfra"):
        assert not run_load(image, upload_parent, docker, monkeypatch)
    assert docker.loaded_bytes() == ARCHIVE_BYTES and docker.tags() == []
    assert planted(upload_parent) == before
    # The operator sees the refusal line.
    shown = [record.getMessage() for record in caplog.records]
    assert any("setting 'postgres_image'" in line and OTHER_ID in line and CONTROLLER_ID in line for line in shown), shown


def test_a_failed_upload_fails_the_operation_and_leaves_no_directory(tmp_path, upload_parent, monkeypatch):
    image = carried(tmp_path)
    image.archive.unlink()  # the controller's cache file vanished: put_file fails
    before = planted(upload_parent)
    docker = StandInDocker(tmp_path / "docker", answer=loaded_line(CONTROLLER_ID))
    assert not run_load(image, upload_parent, docker, monkeypatch)
    assert docker.loaded_bytes() is None and docker.tags() == []
    assert planted(upload_parent) == before


def test_the_operation_keeps_its_name_and_a_plan_naming_no_image_adds_none(tmp_path):
    image = carried(tmp_path)
    with local_host() as (state, _host):
        add_deploy(state, image_tasks.load_images, {image.reference: image}, [])
        assert state.get_op_order() == []
        add_deploy(state, image_tasks.load_images, {image.reference: image}, [image.reference])
        names = [name for op_hash in state.get_op_order() for name in state.get_op_meta(op_hash).names]
    assert names == [f"Images from the controller | Load image {PIN}"]
