"""The one declaration of every setting, and each place derived from it.

group_data/all.py, docs/settings.md's table, the Settings dataclass, resolve() and the
`settings` command must all agree with postgrest_stack.settings.SETTINGS.
"""

from __future__ import annotations

import dataclasses
import json
import os
import subprocess
import sys
import typing

import pytest

from postgrest_stack import settings, settings_doc
from postgrest_stack.settings import SETTINGS, SETTINGS_BY_NAME, SecretRef, resolution
from tests.conftest import ROOT
from tests.unit.conftest import group_defaults

#: The Settings fields other code relied on before the declaration: names and types stay.
FIELDS_BEFORE = {
    "stack_name": str, "app_dir": str, "auth0_domain": str, "jwks_url": str, "jwt_audience": str,
    "jwt_issuer": str, "jwt_role_claim": str, "postgrest_image": str, "postgres_image": str,
    "swagger_image": str, "swagger_enabled": bool, "swagger_bind": str, "swagger_port": int,
    "public_api_url": str, "postgrest_bind": str, "postgrest_port": int, "postgrest_admin_port": int,
    "db_bind": str, "db_port": int, "db_name": str, "db_superuser": str, "db_schema": str,
    "db_anon_role": str, "db_user_role": str, "docker_install": str, "health_timeout": int,
    "jwks_fetch_timeout": int, "smoke_token_command": str | None, "stack_role": str, "db_host": str | None,
    "external_db_uri": str | None, "image_source": str, "apt_proxy": str | None,
}


def test_declaration_is_well_formed():
    names = [s.name for s in SETTINGS]
    assert len(names) == len(set(names))
    for setting in SETTINGS:
        assert setting.doc and "\n" not in setting.doc and setting.doc.endswith("."), setting.name
        assert setting.accepts and "\n" not in setting.accepts, setting.name
        assert setting.section, setting.name
        if setting.required:
            assert setting.default is None, setting.name
        if setting.secret:
            assert not setting.field and setting.secret.startswith("STACK_"), setting.name
        if setting.default is not None:
            # Every declared default passes its own check, unchanged.
            assert setting.check(setting.name, setting.default) == setting.default, setting.name


def test_setting_names_is_gone():
    assert not hasattr(settings, "SETTING_NAMES")


def test_group_data_all_is_generated_from_the_declaration():
    assert (ROOT / "group_data" / "all.py").read_text() == settings_doc.group_data_all(), (
        "group_data/all.py differs from the declaration: run python -m postgrest_stack settings-doc --write")


def test_group_data_all_values_are_the_declared_defaults():
    defaults = group_defaults()
    assert list(defaults) == [s.name for s in SETTINGS]
    for setting in SETTINGS:
        value = defaults[setting.name]
        assert value == setting.default and type(value) is type(setting.default), setting.name
        if setting.secret:
            assert isinstance(value, SecretRef) and value.variable == setting.secret


def doc_table_rows() -> list[tuple[str, ...]]:
    text = (ROOT / "docs" / "settings.md").read_text()
    begin, end = text.index(settings_doc.TABLE_BEGIN), text.index(settings_doc.TABLE_END)
    lines = text[begin:end].splitlines()[1:]
    assert lines[0] == "| setting | default | accepts | what |" and lines[1] == "|---|---|---|---|"
    rows = []
    for line in lines[2:]:
        cells = [cell.strip() for cell in line.strip().strip("|").replace("\\|", "\0").split("|")]
        rows.append(tuple(cell.replace("\0", "\\|") for cell in cells))
    return rows


def test_settings_doc_table_rows_match_the_declaration():
    rows = doc_table_rows()
    assert [row[0] for row in rows] == [f"`{s.name}`" for s in SETTINGS]
    assert rows == settings_doc.doc_rows(), "run python -m postgrest_stack settings-doc --write"
    for row, setting in zip(rows, SETTINGS, strict=True):
        assert row[3] == setting.doc
        if setting.required:
            assert row[1] == "required"


def test_settings_doc_check_passes_and_detects_drift(tmp_path):
    assert settings_doc.stale() == []
    doc = tmp_path / "settings.md"
    doc.write_text((ROOT / "docs" / "settings.md").read_text().replace("| `db_port` | `5432` |", "| `db_port` | `5433` |"))
    all_py = tmp_path / "all.py"
    all_py.write_text(settings_doc.group_data_all().replace('db_name = "app"', 'db_name = "shop"'))
    assert settings_doc.stale(doc, all_py) == [str(doc), str(all_py)]
    assert settings_doc.write(doc, all_py) == [doc, all_py]
    assert settings_doc.stale(doc, all_py) == []


def test_settings_dataclass_fields_are_the_declared_ones():
    fields = {f.name: f.type for f in dataclasses.fields(settings.Settings)}
    declared = {s.name: s.type for s in SETTINGS if s.field}
    assert fields == declared
    for name, type_ in FIELDS_BEFORE.items():
        assert fields[name] == type_, name
    assert all(f.kw_only for f in dataclasses.fields(settings.Settings))


def test_the_written_out_settings_class_follows_the_declaration():
    """Settings is written out for type checkers (postgrest_stack/settings/declared.py):
    its fields are the declared ones, in the declaration's order, of the declared types
    as real types (what get_type_hints and a type checker read), with no default of
    their own, and it is frozen."""
    fields = dataclasses.fields(settings.Settings)
    assert [f.name for f in fields] == [s.name for s in SETTINGS if s.field] == list(settings.FIELD_NAMES)
    hints = typing.get_type_hints(settings.Settings)
    for f in fields:
        assert f.type == SETTINGS_BY_NAME[f.name].type == hints[f.name], f.name
        assert f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING, f.name
    assert settings.Settings.__dataclass_params__.frozen
    assert set(hints) == set(settings.FIELD_NAMES)  # no annotated attribute besides the fields


def test_resolve_checks_every_given_setting_with_its_declared_checker(data, monkeypatch):
    seen = {}

    def spy(setting):
        def check(name, value):
            seen[name] = value
            return setting.check(name, value)
        return dataclasses.replace(setting, check=check)

    # Patched where resolve() reads it.
    monkeypatch.setattr(resolution, "SETTINGS", tuple(spy(s) for s in SETTINGS))
    given = {**data, "jwks_url": "/srv/jwks.json", "jwt_issuer": "https://i.example/",
             "public_api_url": "https://api.example.com", "smoke_token_command": "true",
             "alert_command": "cat > /dev/null",
             "apt_proxy": "http://10.0.0.1:3142", "secrets_file": "s.env", "dev_signing_key": "k.pem",
             "secrets_command": "sops -d s.sops.env",
             "db_host": "10.0.0.5", "external_db_uri": "postgres://db.example.com/app", "stack_role": "api",
             "postgrest_version": "12.0.2",
             "caddy_image": "caddy:2.6.2", "tls_mode": "files", "public_hostname": "api.example.com",
             "acme_email": "ops@example.com", "acme_ca": settings.LETS_ENCRYPT_STAGING, "tls_cert_file": "c.pem",
             "tls_key_file": "k.pem", "edge_bind": "0.0.0.0", "edge_http_port": 80, "edge_https_port": 443,
             "edge_max_body_mb": 10,
             "db_owner_role": "schema_owner", "migrations_dir": "/srv/schema/migrations",
             "backup_dir": "/srv/backups", "backup_offsite": "controller:backups", "postgres_upgrade": "dump-restore",
             "postgres_password": SecretRef("STACK_POSTGRES_PASSWORD"),
             "authenticator_password": SecretRef("STACK_AUTHENTICATOR_PASSWORD")}
    settings.resolve(given)
    assert seen == {s.name: given[s.name] for s in SETTINGS}


def test_settings_command_prints_every_declared_setting():
    env = {k: v for k, v in os.environ.items() if not k.startswith("STACK_")}
    done = subprocess.run([sys.executable, "-m", "postgrest_stack", "settings", "inventories/prod.py"], cwd=ROOT,
                          capture_output=True, text=True, timeout=60, env=env)
    assert done.returncode == 0, done.stderr
    for host, values in json.loads(done.stdout).items():
        assert set(values) == {s.name for s in SETTINGS} | {"runs_db", "runs_api"}, host
        for setting in SETTINGS:
            if setting.secret:
                assert values[setting.name] == f"<secret from ${setting.secret} or secrets_file>"


@pytest.mark.parametrize("setting", [s for s in SETTINGS if s.required], ids=lambda s: s.name)
def test_required_settings_are_required(data, setting):
    with pytest.raises(settings.SettingsError, match=f"setting '{setting.name}' is not set"):
        settings.resolve({k: v for k, v in data.items() if k != setting.name})


def test_missing_keys_take_the_declared_defaults(data):
    minimal = {"auth0_domain": "tenant.eu.auth0.com", "jwt_audience": "https://api.example.com"}
    assert settings.resolve(minimal) == settings.resolve(data)


def test_secret_variables_come_from_the_declaration():
    from postgrest_stack import secrets

    assert secrets.SECRET_VARIABLES == {s.name: s.secret for s in SETTINGS if s.secret}
    assert SETTINGS_BY_NAME["postgres_password"].secret == "STACK_POSTGRES_PASSWORD"


def test_settings_doc_command_prints_the_settings_table_and_checks_it():
    env = {k: v for k, v in os.environ.items() if not k.startswith("STACK_")}
    shown = subprocess.run([sys.executable, "-m", "postgrest_stack", "settings-doc"], cwd=ROOT, capture_output=True,
                           text=True, timeout=60, env=env)
    assert shown.returncode == 0 and shown.stdout == settings_doc.doc_table()
    checked = subprocess.run([sys.executable, "-m", "postgrest_stack", "settings-doc", "--check"], cwd=ROOT,
                             capture_output=True, text=True, timeout=60, env=env)
    assert checked.returncode == 0, checked.stderr
