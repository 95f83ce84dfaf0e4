"""The staging file of every write lives beside its destination, and becomes it by a rename.

Readers of a stack file (PostgREST reading jwks.json on a reload, compose reading .env)
must see the old bytes or the new ones, never a mix. That holds only if the file is
written elsewhere under a staging name and then *renamed* over the destination, and a
rename is atomic only within one filesystem: a staging file in /tmp (often a tmpfs)
makes ``mv`` copy the bytes into the destination, which a reader can catch half done.

The commands run here are the exact ones the host runs (tasks/files.py: the upload of a
rendered file, the rotation's write with ``.prev``, the rollback's copy of ``.prev``),
on a real directory, while they write: the staging file is seen in the destination's
directory, the destination still holds its old bytes, and afterwards the destination
*is* the staging file (same device and inode: renamed, not copied), with nothing left
behind. The same for the controller's own writes (postgrest_stack/atomic_write.py),
and for the operation a deploy runs through pyinfra on ``@local``.
"""

from __future__ import annotations

import os
import shutil
import signal
import stat
import subprocess
import time
from pathlib import Path

import pytest
from pyinfra.api import deploy

from postgrest_stack import atomic_write
from tasks import files
from tests.harness.local_pyinfra import local_host, run_deploy

OLD = b'{"keys": ["old"]}\n'
NEW = b'{"keys": ["new", "newer"]}\n'


def staging_appears(directory: Path, before: set[str], seconds: float = 10) -> str:
    """The one new name in ``directory`` while a write is under way."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        new = sorted(set(os.listdir(directory)) - before)
        if new:
            assert len(new) == 1, new
            return new[0]
        time.sleep(0.01)
    pytest.fail(f"no staging file appeared in {directory} (the destination's directory) while the write was "
                "under way: staged elsewhere, the final mv is a copy, not an atomic rename")


def stop(writer: subprocess.Popen) -> None:
    """A write the test gave up on: its shell and what it started (a cat blocked on a FIFO)."""
    if writer.poll() is None:
        os.killpg(writer.pid, signal.SIGKILL)
        writer.wait()


def key_file(tmp_path: Path) -> Path:
    folder = tmp_path / "app dir" / "postgrest"
    folder.mkdir(parents=True)
    dest = folder / "jwks.json"
    dest.write_bytes(OLD)
    return dest


def assert_renamed(dest: Path, staged: os.stat_result, expected: list[str]) -> None:
    done = os.stat(dest)
    assert (done.st_dev, done.st_ino) == (staged.st_dev, staged.st_ino), "the destination is a copy, not the staged file"
    assert dest.read_bytes() == NEW
    assert sorted(os.listdir(dest.parent)) == expected  # nothing left behind


@pytest.mark.parametrize("keep_previous", [False, True], ids=["upload", "rotation write (.prev kept)"])
def test_an_upload_is_staged_beside_its_destination_and_renamed_over_it(tmp_path, keep_previous):
    dest = key_file(tmp_path)
    command = files.replace_command(str(dest), mode=0o640, uid=os.getuid(), keep_previous=keep_previous,
                                    size=len(NEW))
    before = set(os.listdir(dest.parent))
    writer = subprocess.Popen(["sh", "-c", command], stdin=subprocess.PIPE, stderr=subprocess.PIPE,
                              start_new_session=True)
    try:
        writer.stdin.write(NEW[:7])  # part of the bytes: the write is under way
        writer.stdin.flush()
        staging = staging_appears(dest.parent, before)
        staged = os.stat(dest.parent / staging)
        assert stat.S_IMODE(staged.st_mode) == 0o600  # private while it is written
        assert dest.read_bytes() == OLD  # readers still see the old file, whole
        writer.stdin.write(NEW[7:])
        writer.stdin.close()
        assert writer.wait(timeout=30) == 0, writer.stderr.read()
    finally:
        stop(writer)
    assert_renamed(dest, staged, ["jwks.json", "jwks.json.prev"] if keep_previous else ["jwks.json"])
    assert stat.S_IMODE(os.stat(dest).st_mode) == 0o640
    if keep_previous:
        assert (dest.parent / "jwks.json.prev").read_bytes() == OLD


def test_a_rollback_copy_is_staged_beside_its_destination_and_renamed_over_it(tmp_path):
    """The rollback's copy of a host file (``source``): a FIFO as the source holds the
    copy open while the test looks."""
    dest = key_file(tmp_path)
    source = tmp_path / "source"
    os.mkfifo(source)
    command = files.replace_command(str(dest), mode=0o600, uid=os.getuid(), source=str(source))
    before = set(os.listdir(dest.parent))
    writer = subprocess.Popen(["sh", "-c", command], stdin=subprocess.DEVNULL, stderr=subprocess.PIPE,
                              start_new_session=True)
    try:
        staging = staging_appears(dest.parent, before)
        staged = os.stat(dest.parent / staging)
        assert dest.read_bytes() == OLD
        with open(source, "wb") as feed:
            feed.write(NEW)
        assert writer.wait(timeout=30) == 0, writer.stderr.read()
    finally:
        stop(writer)
    assert_renamed(dest, staged, ["jwks.json"])


@pytest.mark.parametrize("keep_previous", [False, True])
def test_the_controller_writes_beside_the_destination_and_renames(tmp_path, monkeypatch, keep_previous):
    """atomic_write.write_atomic (render's output, the secrets file, the key files): every
    rename stays in the destination's directory and moves the file that was written."""
    dest = key_file(tmp_path)
    renames = []
    real_replace = os.replace

    def recording_replace(src, dst):
        renames.append((Path(src), Path(dst), os.stat(src)))
        real_replace(src, dst)

    monkeypatch.setattr(atomic_write.os, "replace", recording_replace)
    atomic_write.write_atomic(dest, NEW, mode=0o644, keep_previous=keep_previous)
    assert renames and all(src.parent == dst.parent == dest.parent for src, dst, _ in renames), renames
    [(_src, _dst, staged)] = [r for r in renames if r[1] == dest]
    assert_renamed(dest, staged, ["jwks.json", "jwks.json.prev"] if keep_previous else ["jwks.json"])


# --- the operation a deploy runs, through pyinfra on @local ----------------------------------

RECORDING_MV = """#!/bin/sh
# Records what the put renames (the staged file's device and inode), then renames it.
for last; do :; done
for arg; do [ "$arg" != "$last" ] && [ -e "$arg" ] && printf '%s %s\\n' "$arg" "$(stat -c '%d %i' "$arg")" >> "{log}"; done
exec {mv} "$@"
"""


@deploy("Put one file")
def _put_one(dest: str, content: bytes):
    files.put(name=f"Put {dest}", dest=dest, content=content, mode=0o600, uid=os.getuid())


def test_the_deploys_put_operation_renames_within_the_directory(tmp_path, monkeypatch):
    dest = key_file(tmp_path)
    bin_dir, log = tmp_path / "bin", tmp_path / "mv.log"
    bin_dir.mkdir()
    (bin_dir / "mv").write_text(RECORDING_MV.format(log=log, mv=shutil.which("mv")))
    (bin_dir / "mv").chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}:{os.environ['PATH']}")
    with local_host() as (pyinfra_state, _host):
        run_deploy(pyinfra_state, _put_one, str(dest), NEW)
    [moved] = log.read_text().splitlines()
    staging, device, inode = moved.rsplit(" ", 2)
    assert Path(staging).parent == dest.parent
    assert (os.stat(dest).st_dev, os.stat(dest).st_ino) == (int(device), int(inode))
    assert dest.read_bytes() == NEW and sorted(os.listdir(dest.parent)) == ["jwks.json"]
