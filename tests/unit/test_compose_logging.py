"""Compose's ``logging:`` on every service (issue 23): json-file, rotated by the
``log_max_size`` and ``log_max_files`` settings (defaults 10m and 5), read as compose
reads compose.yaml (YAML; the options as strings, as Docker takes them); and
``postgrest_log_level`` rendered as postgrest.conf's ``log-level`` (default error) and
as PostgREST's ``PGRST_LOG_LEVEL`` in compose.yaml.
"""

from __future__ import annotations

import pytest
import yaml

from postgrest_stack import render, settings

EVERY_SERVICE = {"tls_mode": "internal", "public_hostname": "api.example.com", "swagger_enabled": True,
                 "public_api_url": "https://api.example.com"}


def _compose(data, secrets, **overrides) -> dict:
    return yaml.safe_load(render.render(settings.resolve(dict(data, **overrides)), secrets)["compose.yaml"].content)


@pytest.mark.parametrize(("overrides", "size", "files"), [
    ({}, "10m", "5"),
    ({"log_max_size": "512k", "log_max_files": 1}, "512k", "1"),
    ({"log_max_size": "1g", "log_max_files": "100"}, "1g", "100"),
], ids=["defaults", "small", "large"])
def test_every_service_logs_to_json_file_with_the_settings_rotation(data, secrets, overrides, size, files):
    compose = _compose(data, secrets, **EVERY_SERVICE, **overrides)
    assert set(compose["services"]) == {"db", "postgrest", "swagger", "edge"}
    for name, service in compose["services"].items():
        assert service["logging"] == {"driver": "json-file", "options": {"max-size": size, "max-file": files}}, name


@pytest.mark.parametrize("overrides", [{"stack_role": "db"}, {"stack_role": "api", "db_host": "10.0.0.5"}])
def test_each_role_s_services_have_it_too(data, secrets, overrides):
    compose = _compose(data, secrets, **overrides)
    assert compose["services"] and all(s["logging"]["driver"] == "json-file" for s in compose["services"].values())


def test_the_defaults_are_10m_and_5_and_error():
    assert settings.SETTINGS_BY_NAME["log_max_size"].default == "10m"
    assert settings.SETTINGS_BY_NAME["log_max_files"].default == 5
    assert settings.SETTINGS_BY_NAME["postgrest_log_level"].default == "error"


@pytest.mark.parametrize("level", ["crit", "error", "warn", "info"])
def test_postgrest_log_level_is_rendered(data, secrets, level):
    conf = render.render(settings.resolve(dict(data, postgrest_log_level=level)), secrets)
    lines = conf["postgrest/postgrest.conf"].content.decode().splitlines()
    assert [line for line in lines if line.startswith("log-level")] == [f'log-level = "{level}"']
    # And in compose.yaml, so that a change recreates PostgREST (a reload does not apply it).
    compose = yaml.safe_load(conf["compose.yaml"].content)
    assert compose["services"]["postgrest"]["environment"]["PGRST_LOG_LEVEL"] == level
