"""postgrest_log_level against the real PostgREST 12.0.2 (issue 23).

PostgREST is started as the container starts it: the rendered postgrest.conf (its
``log-level``) and the environment compose.yaml gives the postgrest service
(``PGRST_LOG_LEVEL``). A token refused for its signature (401) is logged from ``warn``
on (with every 4xx answer), never at the default ``error`` (5xx only); ``info`` logs
every request, 200s too. docs/operations.md's "Logs" section says so from this test.

A reload (SIGUSR2, what a postgrest.conf change triggers) does not apply a new
``log-level``: that is why compose.yaml carries the level too, so that a change
recreates the container.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest
import requests
import yaml

from postgrest_stack import render
from tests.contract.conftest import AUDIENCE, ISSUER, SECRETS, stack_settings, start_postgrest
from tests.harness.postgrest import PostgrestProcess


def start_as_the_container(cluster, tenant, tmp_dir: Path, level: str) -> PostgrestProcess:
    """PostgREST with the rendered config and the rendered compose environment's PGRST_* values."""
    resolved = stack_settings(postgrest_log_level=level)
    files = render.render(resolved, dict(SECRETS))
    environment = yaml.safe_load(files["compose.yaml"].content)["services"]["postgrest"]["environment"]
    pgrst = {key: value for key, value in environment.items() if key.startswith("PGRST_")}
    assert pgrst == {"PGRST_LOG_LEVEL": level}
    assert f'\nlog-level = "{level}"\n' in files["postgrest/postgrest.conf"].content.decode()
    return start_postgrest(cluster, tenant, tmp_dir, files, {"PGPASSWORD": SECRETS["authenticator_password"], **pgrst})


def _logged(process, fragment: str, within: float) -> bool:
    """Whether ``fragment`` shows in the process's log within ``within`` seconds."""
    deadline = time.monotonic() + within
    while True:
        if fragment in process.log_text():
            return True
        if time.monotonic() > deadline:
            return False
        time.sleep(0.1)


def _forged(tenant) -> str:
    """Signed by k3, which the tenant's JWKS does not publish: refused for its signature."""
    return tenant.token("k3", audience=AUDIENCE, issuer=ISSUER, role_claim=stack_settings().jwt_role_claim,
                        role="api_user")


@pytest.mark.parametrize(("level", "refused_logged", "ok_logged"), [
    ("error", False, False),
    ("warn", True, False),
    ("info", True, True),
])
def test_a_token_refused_for_its_signature_is_logged_from_warn_on(cluster, applied, tenant, tmp_path, level,
                                                                   refused_logged, ok_logged):
    process = start_as_the_container(cluster, tenant, tmp_path, level)
    try:
        refused = requests.get(f"{process.base_url}/todos?refused",
                               headers={"Authorization": f"Bearer {_forged(tenant)}"}, timeout=10)
        assert refused.status_code == 401, refused.text
        assert "JWSInvalidSignature" in refused.text, refused.text
        ok = requests.get(f"{process.base_url}/todos?fine", timeout=10)
        assert ok.status_code == 200, ok.text
        assert _logged(process, '"GET /todos?refused HTTP/1.1" 401', 3 if refused_logged else 1.5) \
            is refused_logged, process.log_text()
        assert _logged(process, '"GET /todos?fine HTTP/1.1" 200', 3 if ok_logged else 0.5) is ok_logged
    finally:
        process.stop()


def test_a_reload_does_not_apply_a_new_log_level(cluster, applied, tenant, tmp_path):
    """Why compose.yaml names the level: postgrest.conf's log-level changed and reloaded
    is not in effect (12.0.2); the container must start again with it."""
    process = start_as_the_container(cluster, tenant, tmp_path, "error")
    try:
        process.config_path.write_text(process.config_path.read_text().replace('log-level = "error"',
                                                                               'log-level = "warn"'))
        process.reload()
        time.sleep(2)
        refused = requests.get(f"{process.base_url}/todos?after_reload",
                               headers={"Authorization": f"Bearer {_forged(tenant)}"}, timeout=10)
        assert refused.status_code == 401
        assert not _logged(process, "after_reload", 1.5)
    finally:
        process.stop()
