"""The PostgREST 14+ readiness plumbing on real Docker and Compose: the compose healthcheck,
the health gate waiting for container health, the probe's and the reload's
`postgrest --ready` through `docker exec`.

No PostgREST 14 can be fetched here. The image deployed below is **not PostgREST 14**:
it is the real 12.0.2 binary behind a small shim answering `postgrest --ready` the way
PostgREST 14 documents it (GET /ready on the admin server, exit 0 on 200), tagged
v14.17-e2e-readyshim so the stack renders its 14 configuration. 12.0.2 ignores the 14-only
keys (tests/contract/test_version_config.py) and reads the JSPath role claim 14 still
uses, so the stack serves; what is proven is this project's side of the 14 branch.
"""

from __future__ import annotations

import io
import subprocess
import tarfile
import time

import docker
import pytest
import requests

from postgrest_stack import probe, settings
from tests.e2e.harness import Target, bearer
from tests.harness.postgrest import postgrest_binary
from tests.unit.conftest import group_defaults

SHIM_TAG = "postgrest/postgrest:v14.17-e2e-readyshim"
# bash's /dev/tcp stands in for PostgREST 14's HTTP client (src/PostgREST/Client.hs).
SHIM = b"""#!/bin/bash
if [ "${1:-}" = --ready ]; then
  exec 3<>/dev/tcp/127.0.0.1/3001 || exit 1
  printf 'GET /ready HTTP/1.0\\r\\nHost: localhost\\r\\n\\r\\n' >&3
  read -r _ code _ <&3
  [ "$code" = 200 ] && echo "OK: http://127.0.0.1:3001/ready" && exit 0
  echo "ERROR: http://127.0.0.1:3001/ready answered ${code:-nothing}" >&2
  exit 1
fi
exec /bin/postgrest-12.0.2 "$@"
"""


@pytest.fixture(scope="module")
def shim_image(docker_engine):
    context = io.BytesIO()
    with tarfile.open(fileobj=context, mode="w") as tar:
        for name, data, mode in (
            ("Dockerfile", b"FROM postgres:15.14-bookworm\nCOPY postgrest /bin/postgrest\n"
                           b"COPY postgrest-12.0.2 /bin/postgrest-12.0.2\nUSER 1000\n", 0o644),
            ("postgrest", SHIM, 0o755),
            ("postgrest-12.0.2", postgrest_binary().read_bytes(), 0o755),
        ):
            info = tarfile.TarInfo(name)
            info.size, info.mode = len(data), mode
            tar.addfile(info, io.BytesIO(data))
    context.seek(0)
    docker_engine.images.build(fileobj=context, custom_context=True, tag=SHIM_TAG, rm=True)
    yield SHIM_TAG
    docker_engine.images.remove(SHIM_TAG, force=True)


@pytest.fixture(scope="module")
def target(jwks_endpoint, shim_image):
    t = Target.create("ready14", jwks_endpoint.url)
    t.data["postgrest_image"] = shim_image
    yield t
    t.destroy()


def health(target) -> str:
    container = docker.from_env().containers.get(target.containers()["postgrest"][0])
    return container.attrs["State"]["Health"]["Status"]


def test_deploy_gates_on_the_container_health(target, tenant):
    run = target.deploy().check()
    assert "PostgREST stack | Health gate" in run.changed
    compose = (target.app_dir / "compose.yaml").read_text()
    assert 'test: ["CMD", "/bin/postgrest", "--ready", "/etc/postgrest/postgrest.conf"]' in compose
    assert "jwt-cache-max-entries = 1000\n" in (target.app_dir / "postgrest/postgrest.conf").read_text()
    assert health(target) == "healthy"
    token = tenant.token("k1", audience=target.data["jwt_audience"], issuer="https://tenant.eu.auth0.com/",
                         role_claim="https://postgrest-demo.de/role", role="api_user")
    created = requests.post(f"{target.api}/todos", json={"task": "v14 plumbing"}, headers=bearer(token), timeout=10)
    assert created.status_code == 201, created.text


def test_rerun_probes_ready_in_the_container_and_changes_nothing(target):
    # The probe's ready line (docker exec ... --ready) must say 200, or the gate would run.
    assert target.deploy().check().changed == []


def test_reload_waits_on_postgrest_ready_in_the_container(target):
    done = subprocess.run([str(target.app_dir / "bin/reload-postgrest")], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().endswith("ready again")


def probe_state(target) -> probe.HostState:
    version = settings.resolve(dict(group_defaults(), **target.data)).postgrest_version
    script = probe.command(str(target.app_dir), target.data["stack_name"], target.data["postgrest_admin_port"],
                           postgrest_version=version)
    done = subprocess.run(["sh", "-c", script], capture_output=True, text=True, timeout=120)
    return probe.parse(done.stdout.splitlines())


def probe_ready(target) -> int | None:
    return probe_state(target).ready


def settled(target) -> bool:
    """PostgREST ready and the database's healthcheck passed again (a deploy gates otherwise)."""
    state = probe_state(target)
    return state.ready == 200 and getattr(state.services.get("db"), "health", "") == "healthy"


def test_the_probe_sees_postgrest_not_ready_and_ready_again(target):
    assert probe_ready(target) == 200
    compose = str(target.app_dir / "bin/compose")
    subprocess.run([compose, "stop", "db"], check=True, capture_output=True, timeout=120)
    try:
        # Without its database PostgREST answers /ready 503, so `postgrest --ready` fails.
        deadline = time.monotonic() + 60
        while probe_ready(target) != 503:
            assert time.monotonic() < deadline, "the probe never saw PostgREST unready"
            time.sleep(1)
    finally:
        subprocess.run([compose, "start", "db"], capture_output=True, timeout=120)
    deadline = time.monotonic() + 120
    while not settled(target):
        assert time.monotonic() < deadline, "PostgREST (or the database) never became ready again"
        time.sleep(1)
    assert target.deploy().check().changed == []
