"""Keys that are neither settings nor pyinfra's own are refused, naming where they came from."""

from __future__ import annotations

import inspect
import os
import subprocess
import sys

import pytest

from postgrest_stack import settings
from tasks.host_data import CONNECTOR_HOST_KEYS, pyinfra_keys
from tests.conftest import ROOT


def cli(*args):
    env = {k: v for k, v in os.environ.items() if not k.startswith("STACK_")}
    env.update(STACK_POSTGRES_PASSWORD="cli-superuser-password-01", STACK_AUTHENTICATOR_PASSWORD="cli-authenticator-pw-01")
    return subprocess.run([sys.executable, "-m", "postgrest_stack", *args], cwd=ROOT, capture_output=True, text=True,
                          env=env, timeout=60)


def test_typo_is_refused_with_the_closest_setting(data):
    with pytest.raises(settings.SettingsError) as error:
        settings.resolve(dict(data, jwt_audiance="https://api.example.com"))
    assert str(error.value) == "unknown setting 'jwt_audiance'; did you mean 'jwt_audience'?"


def test_origin_is_named(data):
    with pytest.raises(settings.SettingsError) as error:
        settings.resolve(dict(data, postgrest_prot=3000), origin=lambda key: "--data")
    assert str(error.value) == "unknown setting 'postgrest_prot' (--data); did you mean 'postgrest_port'?"


def test_key_close_to_nothing_says_so(data):
    with pytest.raises(settings.SettingsError, match="unknown setting 'zzz': not a setting nor a pyinfra data key"):
        settings.resolve(dict(data, zzz=1))


def test_unknown_keys_are_reported_before_bad_values(data):
    with pytest.raises(settings.SettingsError, match="^unknown setting 'swager_port'"):
        settings.resolve(dict(data, swager_port=1, postgrest_port="x"))


@pytest.mark.parametrize("key", ["ssh_user", "ssh_port", "ssh_key", "ssh_hostname", "ssh_known_hosts_file",
                                 "ssh_strict_host_key_checking", "ssh_config_file", "ssh_allow_agent",
                                 "ssh_look_for_keys", "ssh_password", "_sudo", "_sudo_user", "_su_user",
                                 "_use_sudo_login", "_temp_dir", "_env", "_shell_executable", "_doas",
                                 "docker_identifier", "chroot_directory", "docker_container_id"])
def test_pyinfra_keys_are_not_settings_but_allowed(data, key):
    assert key in pyinfra_keys()
    value = {"ssh_port": 22, "ssh_allow_agent": True, "ssh_look_for_keys": False, "_sudo": True,
             "_use_sudo_login": True, "_doas": False}.get(key, "x")
    settings.resolve(dict(data, **{key: value}), runner_keys=pyinfra_keys())
    with pytest.raises(settings.SettingsError, match=f"unknown setting '{key}'"):
        settings.resolve(dict(data, **{key: value}))  # the core knows no runner's keys of its own



def test_pyinfra_keys_come_from_pyinfra():
    from pyinfra.api.arguments import all_global_arguments
    from pyinfra.connectors.ssh import SSHConnector

    assert {name for name, _ in all_global_arguments()} <= pyinfra_keys()
    assert set(SSHConnector.data_meta) <= pyinfra_keys()
    assert not set(settings.SETTINGS_BY_NAME) & pyinfra_keys()


@pytest.mark.parametrize("key", CONNECTOR_HOST_KEYS)
def test_connector_host_keys_still_exist_in_pyinfra(key):
    import pyinfra.connectors.chroot
    import pyinfra.connectors.dockerssh

    sources = inspect.getsource(pyinfra.connectors.chroot) + inspect.getsource(pyinfra.connectors.dockerssh)
    assert f'"{key}"' in sources


def test_test_only_keys_are_not_allowed_in_production_code():
    for key in ("plan_out", "assume_init", "unchecked_key_file"):
        assert key not in pyinfra_keys() and key not in settings.SETTINGS_BY_NAME


# --- Where it came from: the CLI loads the inventory as pyinfra does -----------------------


def test_cli_names_data_overrides():
    done = cli("render", "inventories/prod.py", "--data", "jwt_audiance=client-1", "--out", "/nonexistent")
    assert done.returncode == 1
    assert done.stderr == "error: unknown setting 'jwt_audiance' (--data); did you mean 'jwt_audience'?\n"


def test_cli_names_the_inventory_host_and_the_group_data_file(tmp_path):
    (tmp_path / "group_data").mkdir()
    (tmp_path / "group_data" / "web.py").write_text("from os import path\nswager_enabled = True\n")
    inventory = tmp_path / "inventory.py"
    inventory.write_text('web = [("h1", {"ssh_user": "deploy", "_sudo": True, "postgrest_prot": 1})]\n')
    done = cli("settings", str(inventory), "--data", "auth0_domain=t.example.com", "--data", "jwt_audience=x")
    assert done.returncode == 1
    assert done.stderr.count("\n") == 1
    assert f"unknown setting 'swager_enabled' ({tmp_path}/group_data/web.py); did you mean 'swagger_enabled'?" in done.stderr
    assert f"unknown setting 'postgrest_prot' ({inventory}, host 'h1'); did you mean 'postgrest_port'?" in done.stderr


def test_cli_names_group_data_of_the_project_and_group_data_in_the_inventory(tmp_path):
    inventory = tmp_path / "inventory.py"
    inventory.write_text('api = ([("h1", {})], {"db_hots": "10.0.0.5"})\n')
    done = cli("token", str(inventory), "--data", "auth0_domain=t.example.com", "--data", "jwt_audience=x")
    assert done.returncode == 1
    assert done.stderr == (f"error: unknown setting 'db_hots' ({inventory}, group 'api'); did you mean 'db_host'?\n")


def test_cli_names_every_place_a_key_is_set(tmp_path):
    (tmp_path / "group_data").mkdir()
    (tmp_path / "group_data" / "all.py").write_text("helth_timeout = 10\n")
    inventory = tmp_path / "inventory.py"
    inventory.write_text('hosts = [("h1", {"helth_timeout": 5})]\n')
    done = cli("settings", str(inventory), "--data", "helth_timeout=1", "--data", "auth0_domain=t.example.com",
               "--data", "jwt_audience=x")
    assert done.stderr == (f"error: unknown setting 'helth_timeout' (--data, {inventory}, host 'h1', "
                           f"{tmp_path}/group_data/all.py); did you mean 'health_timeout'?\n")


def test_data_strings_for_numbers_and_booleans_are_accepted():
    done = cli("settings", "inventories/prod.py", "--data", "postgrest_port=8000", "--data", "swagger_enabled=TRUE",
               "--data", 'health_timeout="30"')
    assert done.returncode == 0, done.stderr
    assert '"postgrest_port": 8000' in done.stdout and '"health_timeout": 30' in done.stdout
    assert '"swagger_enabled": true' in done.stdout


def test_helpers_defined_in_a_group_data_file_are_not_settings(tmp_path):
    """Issue 23.7: pyinfra keeps a group_data file's `def helper()` (and classes) as group
    data; they are code, not data, and were refused as unknown settings of the inventory."""
    (tmp_path / "group_data").mkdir()
    (tmp_path / "group_data" / "web.py").write_text(
        "def helper(port):\n    return port + 1\n\nclass Ports:\n    api = 3000\n\npostgrest_port = helper(2999)\n")
    inventory = tmp_path / "inventory.py"
    inventory.write_text('web = [("h1", {"ssh_user": "deploy"})]\n')
    done = cli("settings", str(inventory), "--data", "auth0_domain=t.example.com", "--data", "jwt_audience=x")
    assert done.returncode == 0, done.stderr
    assert '"postgrest_port": 3000' in done.stdout
    # A data typo beside them is still refused, and only it.
    (tmp_path / "group_data" / "web.py").write_text("def helper():\n    return 1\n\nswager_enabled = True\n")
    done = cli("settings", str(inventory), "--data", "auth0_domain=t.example.com", "--data", "jwt_audience=x")
    assert (done.returncode, done.stderr) == (1, f"error: unknown setting 'swager_enabled' ({tmp_path}/group_data/"
                                                 "web.py); did you mean 'swagger_enabled'?\n")


def test_a_function_is_not_an_unknown_key_but_a_setting_given_one_is_refused(data):
    def helper():
        return 1
    settings.resolve(dict(data, helper=helper, Helper=type("Helper", (), {}), os=os))
    with pytest.raises(settings.SettingsError, match="setting 'postgrest_port'"):
        settings.resolve(dict(data, postgrest_port=helper))


@pytest.mark.parametrize(("key", "value", "message"), [
    ("_sudo", "maybe", "pyinfra's '_sudo' (--data) must be True or False, got 'maybe'"),
    ("_sudo", 1, "pyinfra's '_sudo' (--data) must be True or False, got 1"),
    ("ssh_port", "abc", "pyinfra's 'ssh_port' (--data) must be a whole number, got 'abc'"),
    ("ssh_port", True, "pyinfra's 'ssh_port' (--data) must be a whole number, got True"),
    ("ssh_port", 22.5, "pyinfra's 'ssh_port' (--data) must be a whole number, got 22.5"),
    ("ssh_connect_retry_min_delay", "soon", "pyinfra's 'ssh_connect_retry_min_delay' (--data) must be a number"),
    ("_timeout", "1m", "pyinfra's '_timeout' (--data) must be a whole number, got '1m'"),
])
def test_pyinfra_keys_with_a_value_of_the_wrong_type_are_refused(data, key, value, message):
    """Issue 23.7: pyinfra's own keys take the type pyinfra declares (all_global_arguments,
    the connectors' data classes); `_sudo=maybe` was accepted (and a str is truthy: sudo)."""
    with pytest.raises(settings.SettingsError) as error:
        settings.resolve(dict(data, **{key: value}), origin=lambda key: "--data", runner_keys=pyinfra_keys())
    assert str(error.value).startswith(message) and "\n" not in str(error.value)


@pytest.mark.parametrize(("key", "value"), [("_sudo", False), ("ssh_port", 2222), ("ssh_connect_retry_min_delay", 1),
                                            ("ssh_connect_retry_min_delay", 0.5), ("_sudo", None)])
def test_pyinfra_keys_of_their_type_are_accepted(data, key, value):
    settings.resolve(dict(data, **{key: value}), runner_keys=pyinfra_keys())


def test_the_cli_refuses_a_bad_pyinfra_value_in_one_line_naming_where(tmp_path):
    inventory = tmp_path / "inventory.py"
    inventory.write_text('web = [("h1", {"ssh_user": "deploy", "ssh_port": "abc"})]\n')
    given = ("--data", "auth0_domain=t.example.com", "--data", "jwt_audience=x")
    done = cli("settings", str(inventory), *given)
    assert (done.returncode, done.stdout, done.stderr) == (
        1, "", f"error: pyinfra's 'ssh_port' ({inventory}, host 'h1') must be a whole number, got 'abc'\n")
    inventory.write_text('web = [("h1", {"ssh_user": "deploy", "ssh_port": 2222})]\n')
    done = cli("settings", str(inventory), *given, "--data", "_sudo=maybe")
    assert (done.returncode, done.stdout, done.stderr) == (
        1, "", "error: pyinfra's '_sudo' (--data) must be True or False, got 'maybe'\n")
    assert cli("settings", str(inventory), *given, "--data", "_sudo=true").returncode == 0
