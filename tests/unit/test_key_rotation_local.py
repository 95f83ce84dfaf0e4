"""One host's key rotation (tasks/keys.py) run for real on @local, in seconds: the key
file written with its previous one kept as jwks.json.prev, the reload, the key proof
(the rendered bin/prove-keys), the smoke token, and the rollback when any of them fails.

The host's directory is the rendered one; only what it calls stands in: ``bin/compose``
and ``docker`` (SIGUSR2, and no other signal, makes the stand-in PostgREST "load" the key
file on disk then), and ``curl`` (the stand-in PostgREST: /ready 200; a forged HS256
token 200 when the loaded file is one it reads as a shared secret, marked READ-AS-SECRET,
else 401 for its signature as 12.0.2 words it; a smoke token 200 when it is ``smoke-ok``).
The end-to-end tests run the same steps on real Docker.
"""

from __future__ import annotations

import os
import stat
import subprocess
from pathlib import Path

import pytest

from postgrest_stack import key_proof, layout, render, settings
from postgrest_stack import plan as planning
from tasks import keys, stack
from tests.harness.local_pyinfra import CURL_ANSWER, DOCKER_KILL_SIGNAL, in_context, local_host

STUB_DOCKER = "#!/bin/sh" + DOCKER_KILL_SIGNAL + """
echo "docker $*" >> "$STUB_STATE/log"
case "$1" in
  kill)  # PostgREST re-reads its config and key file on SIGUSR2 only
    shift
    if [ "$(docker_kill_signal "$@")" = USR2 ]; then cp "$STUB_APP/postgrest/jwks.json" "$STUB_STATE/loaded"; fi ;;
  logs) echo "Config reloaded" ;;
esac
"""
STUB_CURL = "#!/bin/sh" + CURL_ANSWER + """
echo "curl $*" >> "$STUB_STATE/log"
case "$*" in
  */ready*) printf 200; exit 0 ;;
esac
token=$(sed -n 's/^Authorization: Bearer //p')
case "$token" in
  smoke-ok) printf 200 ;;
  smoke-*) printf 401 ;;
  *) if grep -q READ-AS-SECRET "$STUB_STATE/loaded"; then curl_answer 200 "" "$@"
     else curl_answer 401 "JWSError JWSInvalidSignature" "$@"; fi ;;
esac
"""
STUB_COMPOSE = """#!/bin/sh
echo "compose $*" >> "$STUB_STATE/log"
case "$1 $2" in
  "ps -q") echo pg1 ;;
esac
"""

OLD = b'{"keys":[{"kty":"RSA","kid":"k-old"}]}\n'
NEW = b'{"keys":[{"kty":"RSA","kid":"k-new"}]}\n'
NEWER = b'{"keys":[{"kty":"RSA","kid":"k-newer"}]}\n'
#: A key file the stand-in PostgREST reads as a shared secret (as 12.0.2 does with many forms).
MISREAD = b'{"keys":[{"kty":"RSA","kid":"k-bad"}],"READ-AS-SECRET":1}\n'


def write_script(path: Path, text: str) -> None:
    path.write_text(text)
    path.chmod(0o755)


class Host:
    """The rendered app_dir plus the stand-ins, and what the tests read back."""

    def __init__(self, tmp_path: Path, data: dict, secrets: dict):
        self.data = data
        self.settings = resolved = settings.resolve(data)
        self.app = Path(resolved.app_dir)
        self.state_dir = tmp_path / "stub-state"
        self.state_dir.mkdir()
        files = planning.with_jwks(render.render(resolved, secrets), OLD)
        render.write_tree(files, self.app)
        write_script(self.app / "bin" / "compose", STUB_COMPOSE)
        (self.state_dir / "loaded").write_bytes(OLD)
        (self.state_dir / "log").write_text("")
        self.stub_bin = tmp_path / "stub-bin"
        self.stub_bin.mkdir()
        write_script(self.stub_bin / "docker", STUB_DOCKER)
        write_script(self.stub_bin / "curl", STUB_CURL)

    def env(self) -> dict:
        return {"PATH": f"{self.stub_bin}:{os.environ['PATH']}", "STUB_STATE": str(self.state_dir),
                "STUB_APP": str(self.app)}

    @property
    def key_file(self) -> bytes:
        return (self.app / "postgrest/jwks.json").read_bytes()

    @property
    def prev(self) -> bytes:
        return (self.app / "postgrest/jwks.json.prev").read_bytes()

    @property
    def loaded(self) -> bytes:
        """The key file the stand-in PostgREST last (re)loaded."""
        return (self.state_dir / "loaded").read_bytes()

    def signals(self) -> int:
        return (self.state_dir / "log").read_text().count("docker kill -s SIGUSR2 pg1")

    def rotate(self, key_file: bytes, before: list[str], **overrides) -> str:
        resolved = settings.resolve({**self.data, **overrides})
        with local_host() as (state, host), in_context(state, host):
            return keys.rotate_host(host, resolved, key_file, before)


@pytest.fixture
def host(data, secrets, tmp_path, monkeypatch):
    target = Host(tmp_path, dict(data, app_dir=str(tmp_path / "app"), health_timeout=2), secrets)
    for name, value in target.env().items():
        monkeypatch.setenv(name, value)
    monkeypatch.setattr(keys, "SMOKE_ATTEMPTS", 2)
    return target


def test_a_rotation_writes_reloads_and_keeps_the_previous_file(host):
    assert host.rotate(NEW, ["k-old"]) == ""
    assert (host.key_file, host.prev, host.loaded) == (NEW, OLD, NEW)
    info = os.stat(host.app / "postgrest/jwks.json")
    assert (stat.S_IMODE(info.st_mode), info.st_uid) == (0o600, layout.POSTGREST_UID)
    assert host.signals() == 1
    # The next rotation keeps the file it replaces, not an older one.
    assert host.rotate(NEWER, ["k-new"]) == ""
    assert (host.key_file, host.prev, host.loaded) == (NEWER, NEW, NEWER)


def test_a_key_file_read_as_a_secret_is_rolled_back_and_reloaded(host):
    outcome = host.rotate(MISREAD, ["k-old"])
    # The previous file is back on disk and loaded: a rollback is a write and a reload.
    assert (host.key_file, host.loaded) == (OLD, OLD)
    assert host.signals() == 2
    assert outcome == ("@local: PostgREST read the key file as a shared secret: an HS256 token signed with its bytes "
                       "answered 200, expected 401; rolled back to the previous keys [k-old]")


def test_a_refused_smoke_token_rolls_back(host):
    outcome = host.rotate(NEW, ["k-old"], smoke_token_command="echo smoke-bad")
    assert (host.key_file, host.loaded) == (OLD, OLD)
    assert outcome == ("@local: smoke token answered 401 after the reload, expected 200; "
                       "rolled back to the previous keys [k-old]")


def test_an_accepted_smoke_token_keeps_the_new_keys(host):
    assert host.rotate(NEW, ["k-old"], smoke_token_command="echo smoke-ok") == ""
    assert (host.key_file, host.prev, host.loaded) == (NEW, OLD, NEW)


@pytest.mark.parametrize(("loaded", "status", "removed"), [(OLD, 0, False), (MISREAD, 3, True)])
def test_the_deploys_key_proof_removes_a_postgrest_that_read_a_secret(host, loaded, status, removed):
    """deploy.py's proof after the health gate (tasks/stack.py): bin/prove-keys, and the
    PostgREST container removed when it fails, so nothing keeps accepting forgeries."""
    (host.state_dir / "loaded").write_bytes(loaded)
    done = subprocess.run(["sh", "-c", stack.prove_or_remove_command(str(host.app))],
                          input=key_proof.stdin_for(key_proof.forged_tokens(loaded, host.settings)),
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == status, done.stderr
    assert ("compose rm -fs postgrest" in (host.state_dir / "log").read_text()) is removed
