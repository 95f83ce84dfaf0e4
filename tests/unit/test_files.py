"""The one atomic put: the exact shell it runs, and its own "no change"."""

from __future__ import annotations

import os
import stat
import subprocess

import pytest

from postgrest_stack import probe
from postgrest_stack.compare import directory_is_current, file_is_current
from postgrest_stack.probe import PathState
from tasks import files

APP = "/opt/my app's \"stack\""


def test_replace_from_stdin_exact_command():
    assert files.replace_command(f"{APP}/.env", mode=0o600, uid=0, size=42) == (
        "umask 077"
        " && rm -f '/opt/my app'\"'\"'s \"stack\"/..env.new'"
        " && head -c 42 > '/opt/my app'\"'\"'s \"stack\"/..env.new'"
        " && chown 0:0 '/opt/my app'\"'\"'s \"stack\"/..env.new'"
        " && chmod 600 '/opt/my app'\"'\"'s \"stack\"/..env.new'"
        " && mv -f '/opt/my app'\"'\"'s \"stack\"/..env.new' '/opt/my app'\"'\"'s \"stack\"/.env'"
    )


def test_replace_keeping_previous_and_from_a_host_path_exact_command():
    key_file = "/opt/postgrest/postgrest/jwks.json"
    assert files.replace_command(key_file, mode=0o600, uid=1000, keep_previous=True, size=7) == (
        "umask 077 && rm -f /opt/postgrest/postgrest/.jwks.json.new"
        " && head -c 7 > /opt/postgrest/postgrest/.jwks.json.new"
        " && chown 1000:0 /opt/postgrest/postgrest/.jwks.json.new"
        " && chmod 600 /opt/postgrest/postgrest/.jwks.json.new"
        " && if [ -e /opt/postgrest/postgrest/jwks.json ]; then"
        " ln -f /opt/postgrest/postgrest/jwks.json /opt/postgrest/postgrest/jwks.json.prev; fi"
        " && mv -f /opt/postgrest/postgrest/.jwks.json.new /opt/postgrest/postgrest/jwks.json"
    )
    restore = files.replace_command(key_file, mode=0o600, uid=1000, source=key_file + ".prev")
    assert "cat /opt/postgrest/postgrest/jwks.json.prev > /opt/postgrest/postgrest/.jwks.json.new" in restore
    with pytest.raises(ValueError):
        files.replace_command(key_file, mode=0o600, uid=0)


def test_directory_exact_command():
    assert files.directory_command(f"{APP}/bin", mode=0o700, uid=0) == (
        "mkdir -p '/opt/my app'\"'\"'s \"stack\"/bin' && chown 0:0 '/opt/my app'\"'\"'s \"stack\"/bin'"
        " && chmod 00700 '/opt/my app'\"'\"'s \"stack\"/bin'"
    )


def test_a_directory_in_a_setgid_parent_gets_exactly_its_mode(tmp_path):
    """GNU chmod keeps a directory's setgid bit for `chmod 700`: the directory command must
    leave 0700 (no 2000 bit), both for a new directory, which inherits the bit from its
    parent, and for one that already carries it; the probe then reads it as current."""
    parent = tmp_path / "shared"
    parent.mkdir()
    parent.chmod(0o2775)
    existing = parent / "existing"
    existing.mkdir()
    existing.chmod(0o6755)
    for path in (parent / "new", existing):
        command = files.directory_command(str(path), mode=0o700, uid=os.getuid(), gid=os.getgid())
        subprocess.run(["sh", "-c", command], check=True)
        assert oct(stat.S_IMODE(path.stat().st_mode)) == "0o700", path
    assert stat.S_IMODE((parent / "new").stat().st_mode) & stat.S_ISGID == 0
    # What the probe reports for it is what the plan wants: no directory step on the rerun.
    probe_script = probe.command(str(parent / "new"), f"files-test-{os.getpid()}", 1)
    done = subprocess.run(["sh", "-c", probe_script], capture_output=True, text=True, timeout=60, check=True)
    found = probe.parse(done.stdout.splitlines()).paths["."]
    assert found.mode == 0o700 and directory_is_current(found, 0o700, os.getuid(), os.getgid())


def run_put(tmp_path, dest, content: bytes, **kwargs):
    """Run the command as pyinfra would: the bytes on stdin, a newline added when missing."""
    command = files.replace_command(str(dest), size=len(content), **kwargs)
    stdin = files.stdin_bytes(content)
    stdin += "" if stdin.endswith("\n") else "\n"
    subprocess.run(["sh", "-c", command], input=stdin.encode(), check=True)


def test_put_writes_exact_bytes_mode_owner_and_keeps_previous(tmp_path):
    dest = tmp_path / "dir with space" / "jwks.json"
    dest.parent.mkdir()
    dest.write_bytes(b"old\n")
    run_put(tmp_path, dest, b"no trailing newline", mode=0o640, uid=os.getuid(), keep_previous=True)
    assert dest.read_bytes() == b"no trailing newline"
    assert oct(dest.stat().st_mode & 0o777) == "0o640" and dest.stat().st_uid == os.getuid()
    assert (dest.parent / "jwks.json.prev").read_bytes() == b"old\n"
    assert sorted(p.name for p in dest.parent.iterdir()) == ["jwks.json", "jwks.json.prev"]


def test_a_leftover_staging_file_does_not_lend_its_mode(tmp_path):
    dest = tmp_path / ".env"
    leftover = tmp_path / "..env.new"
    leftover.write_bytes(b"stale")
    leftover.chmod(0o666)
    # Stop before the final chmod: what the staging file looks like while it is written.
    command = files.replace_command(str(dest), mode=0o600, uid=os.getuid(), size=6).split(" && chown")[0]
    subprocess.run(["sh", "-c", command], input=b"secret\n", check=True)
    assert oct(leftover.stat().st_mode & 0o777) == "0o600" and leftover.read_bytes() == b"secret"


def test_no_change_is_decided_from_the_probed_state():
    import hashlib

    content = b"x"
    digest = hashlib.sha256(content).hexdigest()
    assert file_is_current(PathState("f", 0o600, 0, 0, digest), content, 0o600, 0)
    assert not file_is_current(None, content, 0o600, 0)
    assert not file_is_current(PathState("f", 0o644, 0, 0, digest), content, 0o600, 0)
    assert not file_is_current(PathState("f", 0o600, 1000, 0, digest), content, 0o600, 0)
    assert not file_is_current(PathState("f", 0o600, 0, 0, "0" * 64), content, 0o600, 0)
