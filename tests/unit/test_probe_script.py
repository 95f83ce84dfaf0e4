"""The probe script run for real on this machine against a stack directory: what it
reports for files, a symlinked or odd app_dir, and that secret files never show a
plain digest."""

from __future__ import annotations

import hashlib
import os
import subprocess

import pytest

from postgrest_stack import digests, layout, probe

KEY = digests.digest_key({"postgres_password": "pw1", "authenticator_password": "pw2"}, "probe-test")
FILES = {".env": b"AUTHENTICATOR_PASSWORD=pw2\n", "postgrest/postgrest.conf": b"db-uri = \"x\"\n",
         layout.DIGEST_KEY: KEY}


def make_app(root):
    for relative, content in FILES.items():
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content)
    return root


def run_probe(app_dir: str):
    command = probe.command(app_dir, f"probe-test-{os.getpid()}", 1, secret_files=layout.KEYED_FILES)
    done = subprocess.run(["sh", "-c", command], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    return done.stdout, probe.parse(done.stdout.splitlines(), app_dir)


@pytest.mark.parametrize("layout", ["plain", "symlink", "backslash and space"])
def test_files_are_reported_wherever_app_dir_points(tmp_path, layout):
    if layout == "plain":
        app = make_app(tmp_path / "app")
    elif layout == "symlink":
        make_app(tmp_path / "real")
        app = tmp_path / "app"
        app.symlink_to(tmp_path / "real")
    else:
        app = make_app(tmp_path / "my \\ app")
    _output, state = run_probe(str(app))
    conf = state.paths["postgrest/postgrest.conf"]
    assert conf.kind == "f" and conf.sha256 == hashlib.sha256(FILES["postgrest/postgrest.conf"]).hexdigest()
    assert state.paths[".env"].keyed_sha256 == digests.keyed(KEY, FILES[".env"])
    assert state.paths["postgrest"].kind == "d"


def test_secret_files_never_show_a_plain_digest(tmp_path):
    app = make_app(tmp_path / "app")
    output, state = run_probe(str(app))
    assert hashlib.sha256(FILES[".env"]).hexdigest() not in output
    assert state.paths[".env"].sha256 is None
    # Without the key on the host, nothing is printed for it (the deploy rewrites it).
    (app / layout.DIGEST_KEY).unlink()
    output, state = run_probe(str(app))
    assert hashlib.sha256(FILES[".env"]).hexdigest() not in output
    assert state.paths[".env"].keyed_sha256 is None and state.paths[".env"].sha256 is None


def test_the_digest_key_costs_an_scrypt_and_follows_the_secrets():
    same = digests.digest_key({"postgres_password": "pw1", "authenticator_password": "pw2"}, "probe-test")
    other = digests.digest_key({"postgres_password": "pw1", "authenticator_password": "pw3"}, "probe-test")
    assert same == KEY != other and len(KEY) == 65 and KEY.endswith(b"\n")
