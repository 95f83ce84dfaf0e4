"""Issue 23.7: the small refusals that used to read wrong or crash, each one line that names
the fix, with no traceback and nothing done before it."""

from __future__ import annotations

import pytest

from tests.jwks_corpus import auth0_jwks, dumps
from tests.unit.test_cli import ENV, cli


def one_line(stderr: str) -> str:
    assert "Traceback" not in stderr
    lines = stderr.strip().splitlines()
    assert len(lines) == 1, stderr
    return lines[0]


def test_render_to_an_unwritable_out_is_one_line():
    done = cli("render", "inventories/prod.py", "--host", "api-2.prod.example.com", "--out", "/proc/nope", env=ENV)
    assert done.returncode == 1
    assert one_line(done.stderr) == ("error: --out /proc/nope: cannot write /proc/nope: No such file or directory; "
                                     "give a path in a directory you can write to")
    assert done.stdout == ""


def test_jwks_fetch_to_an_unwritable_out_is_one_line(tmp_path):
    source = tmp_path / "jwks.json"
    source.write_bytes(dumps(auth0_jwks("k1")))
    done = cli("jwks", "fetch", str(source), "--out", "/proc/nope/jwks.json")
    assert done.returncode == 1
    line = one_line(done.stderr)
    assert line.startswith("error: --out /proc/nope/jwks.json: cannot write /proc/nope")
    assert line.endswith("give a path in a directory you can write to")


def _token(tmp_path, *args):
    """`token` for the local inventory with its dev key (and key set) under ``tmp_path``."""
    keys = tmp_path / "keys"
    return cli("token", "inventories/local.py", "--data", f"dev_signing_key={keys / 'dev-signing-key.pem'}",
               "--data", f"jwks_url={keys / 'dev-jwks.json'}", *args)


@pytest.mark.parametrize(("args", "message"), [
    (["--ttl", "5y"], "error: --ttl '5y': expected a lifetime of at least one second, e.g. 3600, 30m, 1h, 1d"),
    (["--ttl", "0"], "error: --ttl '0': expected a lifetime of at least one second, e.g. 3600, 30m, 1h, 1d"),
    (["--ttl", "0h"], "error: --ttl '0h': expected a lifetime of at least one second, e.g. 3600, 30m, 1h, 1d"),
    (["--role", "bad role!"], "error: --role 'bad role!': expected a database role such as api_user "
                              "(lower-case letters, digits and _, not a reserved word)"),
    (["--role", "select"], "error: --role 'select': expected a database role such as api_user"),
])
def test_token_refuses_bad_arguments_before_creating_the_dev_key(tmp_path, args, message):
    done = _token(tmp_path, *args)
    assert done.returncode == 1 and done.stdout == ""
    assert one_line(done.stderr).startswith(message)
    assert not (tmp_path / "keys").exists()  # nothing created before the refusal


def test_token_with_good_arguments_creates_the_dev_key(tmp_path):
    done = _token(tmp_path, "--role", "api_user", "--ttl", "1m")
    assert done.returncode == 0, done.stderr
    assert sorted(p.name for p in (tmp_path / "keys").iterdir()) == ["dev-jwks.json", "dev-signing-key.pem"]
