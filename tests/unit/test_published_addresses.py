"""Where each service is published and where the host's own scripts reach it, with
addresses and ports other than the defaults: with every bind on 127.0.0.1, a compose file
or a script that takes one setting for another renders the same bytes (issue 25).

compose.yaml is read as compose reads it (YAML), and the rendered health gate runs in sh
against a stand-in curl that answers only at the addresses the settings name."""

from __future__ import annotations

import os
import subprocess

import pytest
import yaml

from postgrest_stack import render, settings


def published(files) -> dict[str, list[str]]:
    """Each service's port mappings in the rendered compose.yaml."""
    compose = yaml.safe_load(files["compose.yaml"].content)
    return {name: service.get("ports", []) for name, service in compose["services"].items()}


def render_with(data, secrets, **overrides):
    resolved = settings.resolve(dict(data, **overrides))
    return resolved, render.render(resolved, secrets)


# --- issue 25, 2: the admin server (/live, /ready) stays on loopback ----------------------------


@pytest.mark.parametrize("overrides", [
    {"postgrest_bind": "0.0.0.0"},
    {"postgrest_bind": "10.0.0.5"},
    {"postgrest_bind": "10.0.0.5", "postgrest_port": 8000, "postgrest_admin_port": 9001},
    {"postgrest_bind": "0.0.0.0", "stack_role": "api", "db_host": "10.0.0.7"},
], ids=["all-interfaces", "private", "private-other-ports", "api-host"])
def test_the_admin_server_stays_on_loopback_whatever_postgrest_bind(data, secrets, overrides):
    resolved, files = render_with(data, secrets, **overrides)
    assert published(files)["postgrest"] == [
        f"{resolved.postgrest_bind}:{resolved.postgrest_port}:3000",
        f"127.0.0.1:{resolved.postgrest_admin_port}:3001",
    ]


def test_the_port_clash_check_knows_the_admin_server_is_on_loopback(data):
    """The settings check compares what compose publishes: the admin port on 127.0.0.1
    clashes with a loopback database port, not with one on another address."""
    with pytest.raises(settings.SettingsError, match="settings 'db_port' and 'postgrest_admin_port' must differ"):
        settings.resolve(dict(data, postgrest_bind="10.0.0.5", db_port=3001))
    assert settings.resolve(dict(data, postgrest_bind="10.0.0.5", db_bind="10.0.0.7", db_port=3001))
    assert ("postgrest_admin_port", "127.0.0.1", 3001) in settings.published_ports(
        settings.resolve(dict(data, postgrest_bind="0.0.0.0")))


# --- Each service on its own address and port --------------------------------------------------


def test_each_service_is_published_on_its_own_setting(data, secrets):
    _resolved, files = render_with(
        data, secrets, postgrest_bind="10.0.0.5", postgrest_port=8000, postgrest_admin_port=9001,
        db_bind="10.0.0.7", db_port=6543, swagger_enabled=True, public_api_url="https://api.example.com",
        swagger_bind="10.0.0.9", swagger_port=8081)
    assert published(files) == {
        "db": ["10.0.0.7:6543:5432"],
        "postgrest": ["10.0.0.5:8000:3000", "127.0.0.1:9001:3001"],
        "swagger": ["10.0.0.9:8081:8080"],
    }


def test_a_db_and_swagger_left_at_their_defaults_do_not_follow_postgrest_bind(data, secrets):
    _resolved, files = render_with(data, secrets, postgrest_bind="0.0.0.0", swagger_enabled=True,
                                   public_api_url="https://api.example.com")
    ports = published(files)
    assert ports["db"] == ["127.0.0.1:5432:5432"] and ports["swagger"] == ["127.0.0.1:8080:8080"]


# --- Where the host's scripts reach PostgREST ---------------------------------------------------


@pytest.mark.parametrize(("bind", "port", "url"), [
    ("10.0.0.5", 8000, "http://10.0.0.5:8000"),
    ("0.0.0.0", 8000, "http://127.0.0.1:8000"),  # all interfaces: reached on loopback
    ("::", 3000, "http://127.0.0.1:3000"),
    ("fd00::5", 8000, "http://[fd00::5]:8000"),
    ("::1", 3000, "http://[::1]:3000"),
])
def test_the_scripts_reach_postgrest_where_it_is_published(data, bind, port, url):
    assert render.smoke_url(settings.resolve(dict(data, postgrest_bind=bind, postgrest_port=port))) == url
    assert settings.resolve(dict(data, postgrest_bind=bind, postgrest_port=port)).public_api_url == \
        f"http://{'[' + bind + ']' if ':' in bind else bind}:{port}"


STUB_CURL = """#!/bin/sh
for url; do :; done
case "$*" in *"-X POST"*) method=POST ;; *"-X GET"*) method=GET ;; *) method=GET ;; esac
case "$method $url" in
  "GET http://127.0.0.1:9001/ready") printf 200 ;;
  "GET http://10.0.0.5:8000/") printf 200 ;;
  "POST http://10.0.0.5:8000/todos") printf 401 ;;
  *) echo "curl: nothing at $method $url" >&2; printf 000 ;;
esac
"""
STUB_DOCKER = """#!/bin/sh
[ "$1" = inspect ] && echo healthy
"""
STUB_COMPOSE = """#!/bin/sh
case "$1 $2" in "ps -q") echo "$3-1" ;; esac
"""


def test_the_health_gate_asks_the_published_address_and_the_loopback_admin_port(data, secrets, tmp_path):
    """postgrest_bind 10.0.0.5:8000, admin port 9001: the rendered gate passes against a curl
    that answers only there (/ready on 127.0.0.1:9001, the API on 10.0.0.5:8000)."""
    app = tmp_path / "app"
    resolved = settings.resolve(dict(data, app_dir=str(app), health_timeout=1, postgrest_bind="10.0.0.5",
                                     postgrest_port=8000, postgrest_admin_port=9001))
    render.write_tree(render.render(resolved, secrets), app)
    (app / "bin" / "compose").write_text(STUB_COMPOSE)
    stubs = tmp_path / "stubs"
    stubs.mkdir()
    for name, text in (("curl", STUB_CURL), ("docker", STUB_DOCKER)):
        (stubs / name).write_text(text)
        (stubs / name).chmod(0o755)
    done = subprocess.run([str(app / "bin" / "health-gate")], capture_output=True, text=True, timeout=60,
                          env={**os.environ, "PATH": f"{stubs}:{os.environ['PATH']}"})
    assert done.returncode == 0, done.stderr
    assert done.stdout == "health gate: ok\n" and "nothing at" not in done.stderr
