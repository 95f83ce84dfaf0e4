"""A typo in host data, group data or --data stops `pyinfra … deploy.py` before any host
changes, with one line naming the key, where it came from and the setting meant."""

from __future__ import annotations

import pytest

from tests.e2e.harness import Target


@pytest.fixture(scope="module")
def target(jwks_endpoint):
    t = Target.create("typo", jwks_endpoint.url)
    yield t
    t.destroy()


def refusal_lines(run) -> list[str]:
    return [line for line in run.output.splitlines() if "unknown setting" in line]


def assert_untouched(target):
    assert not target.app_dir.exists()
    assert target.containers() == {}


def test_typo_in_the_inventorys_host_data_stops_the_deploy(target):
    target.data["jwt_audiance"] = "https://api.example.com"
    try:
        run = target.deploy()
    finally:
        del target.data["jwt_audiance"]
    assert run.returncode != 0, run.output[-3000:]
    inventory = target.workdir / "inventory.py"
    expected = (f"{target.name}: unknown setting 'jwt_audiance' ({inventory}, host '{target.name}'); "
                "did you mean 'jwt_audience'?")
    lines = refusal_lines(run)
    assert len(lines) == 1 and lines[0].endswith(expected), run.output[-3000:]
    assert "Traceback" not in run.output
    assert_untouched(target)


def test_typo_in_data_stops_the_deploy(target):
    run = target.deploy(postgrest_prot=8000)
    assert run.returncode != 0
    assert any(line.strip().endswith("unknown setting 'postgrest_prot' (--data); did you mean 'postgrest_port'?")
               for line in refusal_lines(run)), run.output[-3000:]
    assert_untouched(target)


def test_typo_in_group_data_stops_key_rotation_too(target):
    group_data = target.workdir / "group_data"
    group_data.mkdir(exist_ok=True)
    (group_data / f"{target.group}.py").write_text("swager_enabled = True\n")
    try:
        run = target.deploy(script="rotate_keys.py")
    finally:
        (group_data / f"{target.group}.py").unlink()
    assert run.returncode != 0
    assert any(f"unknown setting 'swager_enabled' ({group_data / (target.group + '.py')}); did you mean "
               "'swagger_enabled'?" in line for line in refusal_lines(run)), run.output[-3000:]
    assert_untouched(target)


def test_connection_keys_and_sudo_are_not_settings_but_pass(target):
    # The inventory carries ssh_* keys; --data _sudo=false is pyinfra's own global argument.
    run = target.deploy("--dry", _sudo="false")
    assert not refusal_lines(run), run.output[-3000:]
