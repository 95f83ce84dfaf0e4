"""The probe script run for real on this machine against a stack directory: what it
reports for files, a symlinked or odd app_dir, and that secret files never show a
plain digest."""

from __future__ import annotations

import hashlib
import os
import shutil
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
    return done.stdout, probe.parse(done.stdout.splitlines())


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


#: Names a folder may hold (a migration, a leftover): spaces, two in a row, the separator
#: sha256sum prints (in a folder "x  ."), quotes, a backslash (sha256sum escapes that
#: line), a leading dash.
ODD_NAMES = ("with space.sql", "two  spaces", "x  ./y", "trailing ", "quote's \"double\"", "dollar $HOME `id`",
             "back\\slash", "\\", "star*?[a]", "-dash", "tab\there", "ünïcode")


def test_odd_file_names_are_digested_each_under_its_own_name(tmp_path):
    app = make_app(tmp_path / "app")
    (app / "migrations").mkdir()
    for number, name in enumerate(ODD_NAMES):
        (app / "migrations" / name).parent.mkdir(exist_ok=True)
        (app / "migrations" / name).write_bytes(f"content {number}\n".encode())
    _output, state = run_probe(str(app))
    for number, name in enumerate(ODD_NAMES):
        found = state.paths[f"migrations/{name}"]
        assert (found.kind, found.sha256) == ("f", hashlib.sha256(f"content {number}\n".encode()).hexdigest()), name
    # Every file has its digest, and a keyed one its keyed digest only.
    assert all(p.sha256 for name, p in state.paths.items() if p.kind == "f" and name != ".env")
    assert (state.paths[".env"].sha256, state.paths[".env"].keyed_sha256) == (None, digests.keyed(KEY, FILES[".env"]))


def test_a_symlink_is_no_file_to_digest(tmp_path):
    """Neither digested plainly nor with the key: a symlinked .env is reported as a link."""
    app = make_app(tmp_path / "app")
    (app / "real.env").write_bytes(FILES[".env"])
    (app / ".env").unlink()
    (app / ".env").symlink_to("real.env")
    output, state = run_probe(str(app))
    assert state.paths[".env"] == probe.PathState("l", 0o777, os.getuid(), os.getgid())
    assert "ksha " not in output


def test_one_digest_program_for_all_files(tmp_path):
    """A no-change rerun's probe starts no process per file: 3 files or 40, the same
    programs run (sha256sum once for the plain files, cat and sha256sum per keyed one)."""
    def programs(files: int) -> list[str]:
        app = make_app(tmp_path / f"app-{files}")
        (app / "migrations").mkdir()
        for number in range(files):
            (app / "migrations" / f"{number:04d}.sql").write_text(f"-- {number}\n")
        bin_dir = tmp_path / f"bin-{files}"
        bin_dir.mkdir()
        log = tmp_path / f"log-{files}"
        for tool in ("find", "sha256sum", "cat", "head", "tr", "cut"):
            (bin_dir / tool).write_text(f'#!/bin/sh\necho {tool} >> {log}\nexec {shutil.which(tool)} "$@"\n')
            (bin_dir / tool).chmod(0o755)
        command = probe.command(str(app), "probe-count", 1, secret_files=layout.KEYED_FILES)
        done = subprocess.run(["/bin/sh", "-c", command], capture_output=True, text=True, timeout=60,
                              env={"PATH": f"{bin_dir}:/nonexistent"})
        assert done.returncode == 0 and "sha " in done.stdout, done.stderr
        return sorted(log.read_text().split())

    assert programs(3) == programs(40) == ["cat", "find", "sha256sum", "sha256sum"]
