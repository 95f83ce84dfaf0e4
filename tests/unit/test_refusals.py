"""Issue 23.7: the small refusals that used to read wrong or crash, each one line that names
the fix, with no traceback and nothing done before it."""

from __future__ import annotations

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
