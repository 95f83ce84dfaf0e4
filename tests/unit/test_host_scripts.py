"""The rendered bin/reload-postgrest run in sh against a stand-in ``docker`` that does what
PostgREST does with each signal: SIGUSR2 re-reads postgrest.conf and the key file (and
logs "Config reloaded"), SIGUSR1 reloads the schema cache only, SIGKILL (``docker kill``
without ``-s``) and any other signal end it. So a reload that sends anything but SIGUSR2
leaves the old keys loaded, and this test sees it. Both readiness branches: the admin
port's /ready (12.x, 13) and ``postgrest --ready`` in the container (14+).
"""

from __future__ import annotations

import os
import subprocess

import pytest

from postgrest_stack import render, settings
from tests.harness.local_pyinfra import DOCKER_KILL_SIGNAL, stand_ins

STUB_DOCKER = "#!/bin/sh" + DOCKER_KILL_SIGNAL + """
echo "docker $*" >> "$STUB_STATE/log"
alive() { [ ! -e "$STUB_STATE/dead" ]; }
case "$1" in
  kill)
    shift
    signal=$(docker_kill_signal "$@")
    echo "$signal" >> "$STUB_STATE/signals"
    case "$signal" in
      USR2) alive && { echo reloaded >> "$STUB_STATE/config-loads"; echo "Config reloaded" >> "$STUB_STATE/logs"; } ;;
      USR1) alive && echo "Schema cache loaded" >> "$STUB_STATE/logs" ;;
      *) touch "$STUB_STATE/dead" ;;
    esac ;;
  logs) cat "$STUB_STATE/logs" 2>/dev/null ;;
  exec) alive && [ "$(cat "$STUB_STATE/ready")" = 200 ] ;;   # exec ID /bin/postgrest --ready CONF
esac
"""
STUB_CURL = """#!/bin/sh
echo "curl $*" >> "$STUB_STATE/log"
case "$*" in
  */ready*) if [ -e "$STUB_STATE/dead" ]; then printf 000; exit 7; fi; cat "$STUB_STATE/ready" ;;
  *) printf 000; exit 7 ;;
esac
"""
STUB_COMPOSE = """#!/bin/sh
echo "compose $*" >> "$STUB_STATE/log"
case "$1 $2 $3" in
  "ps -q postgrest") echo pg1 ;;
  "logs --no-color --tail") echo "last log line of $5" ;;
esac
"""
RELEASES = {"12.0.2 (/ready on the admin port)": "v12.0.2", "14.17 (postgrest --ready)": "v14.17"}


@pytest.fixture
def host(data, secrets, tmp_path):
    stub_bin = stand_ins(tmp_path / "stub-bin", {"docker": STUB_DOCKER, "curl": STUB_CURL})
    state = tmp_path / "state"
    state.mkdir()
    env = {**os.environ, "PATH": f"{stub_bin}:{os.environ['PATH']}", "STUB_STATE": str(state)}

    def reload(tag: str, ready: str = "200") -> subprocess.CompletedProcess:
        app = tmp_path / "app"
        resolved = settings.resolve(dict(data, app_dir=str(app), health_timeout=2,
                                         postgrest_image=f"postgrest/postgrest:{tag}"))
        render.write_tree(render.render(resolved, secrets), app)
        (app / "bin" / "compose").write_text(STUB_COMPOSE)
        (app / "bin" / "compose").chmod(0o755)
        (state / "ready").write_text(ready)
        return subprocess.run([str(app / "bin" / "reload-postgrest")], capture_output=True, text=True, timeout=60,
                              env=env)

    def read(name: str) -> list[str]:
        path = state / name
        return path.read_text().splitlines() if path.exists() else []

    reload.read = read  # type: ignore[attr-defined]
    return reload


@pytest.mark.parametrize("tag", list(RELEASES.values()), ids=list(RELEASES))
def test_the_reload_makes_postgrest_reread_its_config_and_keys(host, tag):
    done = host(tag)
    assert done.returncode == 0, done.stderr
    assert (done.stdout, done.stderr) == ("reload: SIGUSR2 sent to postgrest, ready again\n", "")
    # PostgREST re-read postgrest.conf and the key file, once, and still runs.
    assert host.read("config-loads") == ["reloaded"]
    assert host.read("signals") == ["USR2"]
    assert not host.read("dead")


@pytest.mark.parametrize("tag", list(RELEASES.values()), ids=list(RELEASES))
def test_a_postgrest_that_is_not_ready_is_never_signalled(host, tag):
    done = host(tag, ready="503")
    assert done.returncode == 1
    assert done.stderr.splitlines()[0].startswith("reload: PostgREST ")
    assert done.stderr.splitlines()[0].endswith("within 2 s; not signalling")
    assert host.read("signals") == [] and host.read("config-loads") == []


@pytest.mark.parametrize(("argv", "signal"), [
    (["-s", "SIGUSR2", "pg1"], "USR2"), (["-s", "USR2", "pg1"], "USR2"), (["--signal=usr2", "pg1"], "USR2"),
    (["--signal", "12", "pg1"], "USR2"), (["-sSIGUSR1", "pg1"], "USR1"), (["pg1"], "KILL"), (["-s", "HUP", "pg1"], "HUP"),
])
def test_the_stand_in_reads_the_signal_as_docker_kill_does(argv, signal):
    """The stand-in's own check: what `docker kill` would send for each spelling."""
    done = subprocess.run(["sh", "-c", DOCKER_KILL_SIGNAL + 'docker_kill_signal "$@"', "sh", *argv],
                          capture_output=True, text=True, timeout=10)
    assert done.stdout == f"{signal}\n"
