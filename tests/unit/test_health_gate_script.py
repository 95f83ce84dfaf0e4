"""The rendered bin/health-gate of PostgREST 12.0.2 (the release the stack deploys by
default) run for real in sh, in seconds, against stand-in ``bin/compose``, ``docker`` and
``curl``: it passes a healthy stack only, and fails every other with one line naming the
reason, then the failing container's logs.

The stand-ins answer what a state directory says: the database container's health,
PostgREST's answers to /ready and GET / (OpenAPI: no table of the operator's), whether
PostgREST takes the schema cache reload signal, and, with the
TLS edge on, the edge's answers on its plain-HTTP port (a redirect) and its HTTPS port. The gate
against a PostgREST that never starts runs end to end in tests/e2e/test_health_gate.py;
the 14+ branch in test_version_scripts.py.
"""

from __future__ import annotations

import os
import subprocess

import pytest

from postgrest_stack import edge, render, settings
from tests.harness.local_pyinfra import stand_ins

STUB_DOCKER = """#!/bin/sh
echo "docker $*" >> "$STUB_LOG"
case "$1" in
  inspect) cat "$STUB_STATE/health-$4" 2>/dev/null ;;  # inspect -f FORMAT ID
esac
"""
STUB_CURL = """#!/bin/sh
echo "curl $*" >> "$STUB_LOG"
case "$*" in
  */ready*) cat "$STUB_STATE/ready" ;;
  *"-X GET"*) cat "$STUB_STATE/get" ;;
  *" http://$STUB_EDGE_HTTP/") cat "$STUB_STATE/edge-http" ;;         # the edge's plain port
  *" -k --resolve $STUB_EDGE_RESOLVE https://$STUB_EDGE_HTTPS/") cat "$STUB_STATE/edge-https" ;;
  *) printf 000 ;;
esac
"""
STUB_COMPOSE = """#!/bin/sh
echo "compose $*" >> "$STUB_LOG"
case "$1 $2 $3" in
  "ps -q db") echo db1 ;;
  "ps -q postgrest") echo pg1 ;;
  "kill -s SIGUSR1") exit "$(cat "$STUB_STATE/kill")" ;;
  "logs --no-color --tail") echo "last log line of $5" ;;
esac
"""
HEALTHY = {"health-db1": "healthy", "ready": "200", "get": "200", "kill": "0", "edge_http": "308",
           "edge_https": "200"}
TIMEOUT = 1


def make_gate(data, secrets, tmp_path, **overrides):
    app = tmp_path / "app"
    resolved = settings.resolve(dict(data, app_dir=str(app), health_timeout=TIMEOUT, **overrides))
    assert resolved.postgrest_version.startswith("12.0")
    render.write_tree(render.render(resolved, secrets), app)
    (app / "bin" / "compose").write_text(STUB_COMPOSE)
    stub_bin = stand_ins(tmp_path / "stub-bin", {"docker": STUB_DOCKER, "curl": STUB_CURL})
    state = tmp_path / "state"
    state.mkdir()
    log = tmp_path / "log"
    env = {**os.environ, "PATH": f"{stub_bin}:{os.environ['PATH']}", "STUB_STATE": str(state), "STUB_LOG": str(log)}
    if resolved.runs_edge:
        # Where the edge listens for this host's settings: the stand-in answers there only.
        address = edge.local_address(resolved)
        env.update(STUB_EDGE_HTTP=f"{address}:{resolved.edge_http_port}",
                   STUB_EDGE_HTTPS=f"{resolved.public_hostname}:{resolved.edge_https_port}",
                   STUB_EDGE_RESOLVE=f"{resolved.public_hostname}:{resolved.edge_https_port}:{address}")

    def run(*args: str, **answers: str) -> subprocess.CompletedProcess:
        for name, value in {**HEALTHY, **answers}.items():
            (state / name.replace("_", "-")).write_text(value)
        log.write_text("")
        return subprocess.run([str(app / "bin" / "health-gate"), *args], capture_output=True, text=True, timeout=60,
                              env=env)

    run.log = log  # type: ignore[attr-defined]
    return run


@pytest.fixture
def gate(data, secrets, tmp_path):
    return make_gate(data, secrets, tmp_path)


def test_a_healthy_stack_passes(gate):
    done = gate()
    assert done.returncode == 0, done.stderr
    assert (done.stdout, done.stderr) == ("health gate: ok\n", "")


@pytest.mark.parametrize(("answers", "service", "reason"), [
    ({"health_db1": "starting"}, "db", f"database not healthy within {TIMEOUT} s"),
    ({"health_db1": "unhealthy"}, "db", f"database not healthy within {TIMEOUT} s"),
    ({"ready": "503"}, "postgrest", f"PostgREST /ready not 200 within {TIMEOUT} s"),
    ({"ready": "000"}, "postgrest", f"PostgREST /ready not 200 within {TIMEOUT} s"),
    ({"get": "500"}, "postgrest", "GET / (OpenAPI) answered 500, expected 200"),
    # A role PostgREST may not switch to, or a guard it may not run (measured on 12.0.2 in
    # tests/contract/test_postgrest_contract.py), and a schema cache that did not load.
    ({"get": "401"}, "postgrest", "GET / (OpenAPI) answered 401, expected 200"),
    ({"get": "503"}, "postgrest", "GET / (OpenAPI) answered 503, expected 200"),
    ({"kill": "1"}, "postgrest", "could not signal PostgREST to reload its schema cache"),
])
def test_anything_else_fails_with_the_reason_and_the_logs(gate, answers, service, reason):
    done = gate(**answers)
    assert done.returncode == 1
    assert done.stderr.splitlines() == [f"health gate: {reason}", f"last log line of {service}"]
    assert done.stdout == ""


def test_the_schema_cache_is_reloaded_once_then_the_root_is_asked(gate):
    """A NOTIFY the listener missed cannot leave a stale schema cache: one SIGUSR1, then
    PostgREST ready again, then GET /; no request to any table."""
    assert gate().returncode == 0
    calls = [line.split()[0] + (" kill" if " kill " in line else " ready" if "/ready" in line
                                else " GET" if "-X GET" in line else "")
             for line in gate.log.read_text().splitlines() if "ps -q" not in line and "inspect" not in line]
    assert calls == ["curl ready", "compose kill", "curl ready", "curl GET"]
    assert "compose kill -s SIGUSR1 postgrest" in gate.log.read_text()
    assert "/todos" not in gate.log.read_text()


def test_the_database_gate_waits_for_the_database_only(gate):
    assert gate("db", ready="503").returncode == 0
    done = gate("db", health_db1="starting")
    assert done.returncode == 1 and done.stderr.startswith(f"health gate: database not healthy within {TIMEOUT} s\n")


# --- With the TLS edge (tls_mode not off) ---------------------------------------------------
EDGE_HOST = "api.example.test"
#: Not the defaults (80, 443, 0.0.0.0): a gate that asked the default ports would render the
#: same bytes for a default host.
EDGE_PORTS = {"edge_http_port": 8080, "edge_https_port": 8443, "edge_bind": "127.0.0.2"}


@pytest.fixture(params=["internal", "acme"])
def edge_gate(request, data, secrets, tmp_path):
    extra = {"acme_email": "ops@example.com"} if request.param == "acme" else {}
    run = make_gate(data, secrets, tmp_path, tls_mode=request.param, public_hostname=EDGE_HOST, **EDGE_PORTS, **extra)
    run.tls_mode = request.param  # type: ignore[attr-defined]
    return run


def test_an_edge_that_redirects_plain_http_passes(edge_gate):
    done = edge_gate()
    assert done.returncode == 0, done.stderr
    assert (done.stdout, done.stderr) == ("health gate: ok\n", "")


@pytest.mark.parametrize("answer", ["200", "404", "301", "502", "000"])
def test_an_edge_whose_plain_port_answers_anything_but_the_redirect_fails(edge_gate, answer):
    """With the edge on, plain HTTP must redirect to HTTPS (Caddy: 308): a plain port that
    serves the API (200), answers 404, or is not there fails the gate, naming the port."""
    done = edge_gate(edge_http=answer)
    assert done.returncode == 1
    assert done.stderr.splitlines() == [
        f"health gate: edge: plain HTTP on port 8080 did not answer a redirect (308) within {TIMEOUT} s",
        "last log line of edge"]


def test_an_edge_that_does_not_serve_https_fails_except_while_acme_issues(edge_gate):
    done = edge_gate(edge_https="502")
    if edge_gate.tls_mode == "acme":
        # The certificate comes from the CA in the background: HTTPS is not waited for.
        assert done.returncode == 0, done.stderr
    else:
        assert done.returncode == 1
        assert done.stderr.splitlines() == [
            f"health gate: edge: https://{EDGE_HOST}:8443/ did not answer 200 within {TIMEOUT} s",
            "last log line of edge"]
