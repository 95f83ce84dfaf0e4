"""``python -m postgrest_stack logs`` without a host (issue 23): the arguments it refuses
(one line, exit 2, before any host is connected), the command a host runs (run here in
sh against a stand-in bin/compose that prints its arguments: quoting, the missing-stack
line and exit status), its sudo wrapping from host data as pyinfra wraps a fact's
command, and which services a host's compose.yaml declares.
"""

from __future__ import annotations

import shlex
import subprocess
import time
from pathlib import Path

import pytest
import yaml

from postgrest_stack import logs, render, settings
from stackctl import main as cli
from tasks import fleet_logs
from tasks.fleet_status import _session

# --- the arguments -----------------------------------------------------------------------


@pytest.mark.parametrize("since", ["10m", "2h", "1h30m", "90s", "1.5h", "2026-01-31", "2026-01-31T12:00:00Z",
                                   "2026-01-31T12:00:00.5+02:00", "1767182400"])
def test_since_takes_what_compose_takes(since):
    assert logs.check(None, since, None, False).since == since


@pytest.mark.parametrize(("service", "since", "tail", "message"), [
    ("web", None, None, "--service 'web': expected one of postgrest, db, edge, swagger"),
    ("PostgREST", None, None, "--service 'PostgREST': expected one of"),
    (None, "yesterday", None, "--since 'yesterday': expected a duration such as 10m"),
    (None, "10", None, "--since '10': expected a duration"),
    (None, "10m; rm -rf /", None, "--since '10m; rm -rf /': expected"),
    (None, "-10m", None, "--since '-10m': expected"),
    (None, None, "-5", "--tail '-5': expected a number of lines or 'all'"),
    (None, None, "ten", "--tail 'ten': expected"),
])
def test_a_bad_argument_is_one_line_naming_it(service, since, tail, message):
    with pytest.raises(logs.LogsError) as error:
        logs.check(service, since, tail, False)
    assert str(error.value) == message if message.endswith(("swagger", "'all'")) else message in str(error.value)
    assert "\n" not in str(error.value)


# --- the command a host runs ----------------------------------------------------------------


def _app_dir(tmp_path, name="my app's dir"):
    """An app_dir whose bin/compose prints each argument it gets on a line of its own."""
    app_dir = tmp_path / name
    (app_dir / "bin").mkdir(parents=True)
    compose = app_dir / "bin" / "compose"
    compose.write_text('#!/bin/sh\nfor a in "$@"; do printf "<%s>\\n" "$a"; done\n')
    compose.chmod(0o755)
    return app_dir


@pytest.mark.parametrize(("request_", "argv"), [
    (logs.Request(), ["logs", "--no-color"]),
    (logs.Request("postgrest", "10m", "20", True), ["logs", "--no-color", "--since", "10m", "--tail", "20", "-f",
                                                    "postgrest"]),
    (logs.Request("db", "2026-01-31T12:00:00Z", None, False), ["logs", "--no-color", "--since",
                                                               "2026-01-31T12:00:00Z", "db"]),
    (logs.Request(None, None, "all", False), ["logs", "--no-color", "--tail", "all"]),
], ids=["all", "every-option", "timestamp", "tail-all"])
def test_the_host_runs_its_compose_logs_with_the_arguments_quoted(tmp_path, request_, argv):
    app_dir = _app_dir(tmp_path)
    command = logs.remote_command(str(app_dir), request_)
    # stdin held open while it runs, as an SSH session's is (--follow stops at its end).
    process = subprocess.Popen(["sh", "-c", command], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True)
    try:
        out = process.stdout.read()
        assert (process.wait(timeout=10), process.stderr.read()) == (0, "")
    finally:
        process.stdin.close()
        process.kill()
    assert out.splitlines() == [f"<{part}>" for part in argv]


def test_every_argument_is_quoted_even_past_the_checks(tmp_path):
    """check() lets no shell text through; remote_command quotes each part regardless."""
    app_dir = _app_dir(tmp_path, "dir; $(touch pwned)")
    hostile = logs.Request("postgrest' $(touch pwned)", "10m; touch pwned", "1 `touch pwned`", False)
    done = subprocess.run(["sh", "-c", logs.remote_command(str(app_dir), hostile)], capture_output=True, text=True,
                          timeout=10, cwd=tmp_path)
    assert (done.returncode, done.stderr) == (0, "")
    assert done.stdout.splitlines() == ["<logs>", "<--no-color>", "<--since>", "<10m; touch pwned>", "<--tail>",
                                        "<1 `touch pwned`>", "<postgrest' $(touch pwned)>"]
    assert not (tmp_path / "pwned").exists()


def test_follow_stops_compose_when_the_session_s_stdin_closes(tmp_path):
    """Ctrl-C or a lost connection closes the SSH channel, so the command's stdin: the
    host's compose logs -f must end then, not linger until its next line."""
    app_dir = tmp_path / "app"
    (app_dir / "bin").mkdir(parents=True)
    marker = tmp_path / "compose.pid"
    (app_dir / "bin" / "compose").write_text(f'#!/bin/sh\necho "$$" > {marker}\necho following "$@"\nexec sleep 300\n')
    (app_dir / "bin" / "compose").chmod(0o755)
    command = logs.remote_command(str(app_dir), logs.Request("postgrest", None, "0", True))
    process = subprocess.Popen(["sh", "-c", command], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert process.stdout.readline() == "following logs --no-color --tail 0 -f postgrest\n"
        compose_pid = int(marker.read_text())
        assert process.poll() is None  # following
        process.stdin.close()
        process.wait(timeout=10)
    finally:
        process.kill()
    assert process.returncode != 0
    time.sleep(0.2)
    assert not Path(f"/proc/{compose_pid}").exists() or "sleep" not in Path(f"/proc/{compose_pid}/cmdline").read_text(
        errors="replace")


def test_a_host_without_the_stack_says_so_in_one_line_and_exits_3(tmp_path):
    command = logs.remote_command(str(tmp_path / "no stack"), logs.Request("postgrest"))
    done = subprocess.run(["sh", "-c", command], capture_output=True, text=True, timeout=10)
    assert done.returncode == logs.NO_STACK == 3
    assert done.stdout == ""
    assert done.stderr == f"no stack here: {tmp_path}/no stack/bin/compose is missing\n"


def _inventory(tmp_path, hosts: dict[str, dict]) -> str:
    path = tmp_path / "inventory.py"
    path.write_text("targets = [\n" + "".join(f"    ({name!r}, {data!r}),\n" for name, data in hosts.items()) + "]\n")
    return str(path)


HOST = {"ssh_hostname": "127.0.0.1", "ssh_port": 1, "auth0_domain": "tenant.eu.auth0.com",
        "jwt_audience": "https://api.example.com", "jwks_url": "https://tenant.eu.auth0.com/.well-known/jwks.json"}


def test_sudo_wraps_the_command_where_host_data_sets_it_as_pyinfra_does(tmp_path):
    inventory = _inventory(tmp_path, {"plain": HOST, "root": dict(HOST, _sudo=True),
                                      "other": dict(HOST, _sudo=True, _sudo_user="ops")})
    text = logs.remote_command("/opt/postgrest", logs.Request("postgrest", "10m"))
    with _session(inventory, {}, []) as (state, chosen, _errors, _quiet):
        built = {host.name: shlex.split(fleet_logs.command_for(state, host, text)) for host in chosen}
    assert built["plain"] == ["sh", "-c", text]
    assert built["root"] == ["sudo", "-H", "-n", "sh", "-c", text]
    assert built["other"] == ["sudo", "-H", "-n", "-u", "ops", "sh", "-c", text]


# --- the command line: refusals before connecting ---------------------------------------------


@pytest.fixture
def never_connect(monkeypatch):
    def connect(host):
        raise AssertionError("connected")
    monkeypatch.setattr(fleet_logs, "_connect", connect)


@pytest.mark.parametrize(("hosts", "args", "line"), [
    ({"a": HOST}, ["--service", "web"], "error: --service 'web': expected one of postgrest, db, edge, swagger"),
    ({"a": HOST}, ["--since", "yesterday"], "error: --since 'yesterday': expected a duration such as 10m, 2h or "
                                             "1h30m, or a time such as 2026-01-31T12:00:00Z"),
    ({"a": HOST}, ["--tail", "x"], "error: --tail 'x': expected a number of lines or 'all'"),
    ({"a": HOST}, ["--host", "nosuch"], "error: --host 'nosuch': no group or host of the inventory matches it"),
    ({"a": HOST}, ["--service", "edge"], "error: --service 'edge': no selected host runs it"),
    ({"a": HOST, "b": dict(HOST, stack_role="api", db_host="10.0.0.5")}, ["--host", "b", "--service", "db"],
     "error: --service 'db': no selected host runs it"),
    ({"@local": {k: v for k, v in HOST.items() if not k.startswith("ssh_")}}, ["--follow"],
     "error: --follow needs SSH hosts: @local is reached otherwise (its output would only come when the "
     "command ends)"),
], ids=["service", "since", "tail", "host", "service-nowhere", "service-not-on-the-host", "follow-local"])
def test_a_refused_argument_is_one_line_exit_2_and_no_host_is_connected(tmp_path, capsys, never_connect,
                                                                         hosts, args, line):
    code = cli.main(["logs", _inventory(tmp_path, hosts), *args])
    out, err = capsys.readouterr()
    assert (code, out, err.splitlines()) == (2, "", [line])


# --- which services a host runs ------------------------------------------------------------------


@pytest.mark.parametrize(("overrides", "services"), [
    ({}, ("postgrest", "db")),
    ({"swagger_enabled": True, "public_api_url": "https://api.example.com"}, ("postgrest", "db", "swagger")),
    ({"tls_mode": "internal", "public_hostname": "api.example.com"}, ("postgrest", "db", "edge")),
    ({"stack_role": "db"}, ("db",)),
    ({"stack_role": "api", "db_host": "10.0.0.5", "swagger_enabled": True, "public_api_url": "https://a.example"},
     ("postgrest", "swagger")),
])
def test_services_are_those_the_host_compose_file_declares(data, secrets, overrides, services):
    resolved = settings.resolve(dict(data, **overrides))
    assert logs.services_of(resolved) == services
    compose = yaml.safe_load(render.render(resolved, secrets)["compose.yaml"].content)
    assert set(compose["services"]) == set(services)


# --- hosts that cannot be reached ------------------------------------------------------------------


def test_each_unreachable_host_is_one_line_and_exit_1(tmp_path, capsys):
    """Connection refused (nothing listens on port 1) and a missing key file (pyinfra raises
    a PyinfraError, not a ConnectError, for it): each host named once, no traceback."""
    inventory = _inventory(tmp_path, {"refused": HOST, "nokey": dict(HOST, ssh_key=str(tmp_path / "nosuch_key"))})
    code = cli.main(["logs", inventory, "--tail", "5"])
    out, err = capsys.readouterr()
    assert (code, out) == (1, "")
    lines = err.splitlines()
    assert len(lines) == 2, err
    assert lines[0].startswith("[refused] no logs: unreachable: ") and "Unable to connect to port 1" in lines[0]
    assert lines[1] == f"[nokey] no logs: unreachable: No such private key file: {tmp_path}/nosuch_key"
