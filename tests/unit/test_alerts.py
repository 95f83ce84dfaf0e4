"""alert_command: the one line a failing run sends (postgrest_stack/alerts.py), how a run's
failures become it (tasks/alerting.py, read from pyinfra's own state and log), and
ops/alert_webhook.py, the ready-made command that posts it to a chat or pager."""

from __future__ import annotations

import http.server
import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from pyinfra import logger as pyinfra_logger
from pyinfra.api.operation import OperationMeta
from pyinfra.connectors.util import CommandOutput, OutputLine
from pyinfra.context import ctx_state

from postgrest_stack import alerts
from tasks import alerting
from tests.conftest import ROOT
from tests.harness.ports import free_port
from tests.jwks_corpus import refused_cases

# --- the line and the command ---------------------------------------------------------

def test_the_line_is_one_line_without_colours_or_repeats():
    text = alerts.line("rotate_keys.py on inventories/prod.py",
                       ["api-1: \x1b[31msmoke token answered 401\x1b[0m;\nrolled back", "api-1: smoke token answered "
                        "401; rolled back", "", "api-2: unreachable: Could not connect"])
    assert text == ("rotate_keys.py on inventories/prod.py failed: api-1: smoke token answered 401; rolled back; "
                    "api-2: unreachable: Could not connect")
    assert len(alerts.line("x", ["y" * 5000])) == alerts.MAX_CHARACTERS


def test_commands_are_the_distinct_settings_of_the_run_hosts():
    assert alerts.commands([None, "notify a", "", "notify b", "notify a"]) == ["notify a", "notify b"]
    with pytest.raises(alerts.SettingsError, match="setting 'alert_command' must be a shell command string"):
        alerts.commands([["notify"]])


def test_send_writes_the_line_on_stdin(tmp_path):
    out = tmp_path / "alerts.log"
    assert alerts.send(f"cat >> {out}", "deploy.py failed: x") is None
    assert out.read_text() == "deploy.py failed: x\n"
    assert alerts.send("cat >/dev/null; exit 3", "x") == "alert_command failed (exit 3)"
    assert alerts.send("sleep 5", "x", timeout=0.5) == "alert_command did not finish within 0.5 s"



def test_a_hung_alert_command_is_stopped_with_what_it_started(tmp_path):
    """The bound holds where the alert runs: in pyinfra's command line, whose stdlib is
    patched for gevent (as this test process is). There, the shell alone was killed and
    the run then waited for the command's children (a hung curl, a mail) to let go of
    its pipes, for as long as they hung."""
    started = time.monotonic()
    alive = tmp_path / "alive"
    problem = alerts.send(f"(sleep 30; touch {alive}) & sleep 30; true", "x", timeout=0.5)
    assert problem == "alert_command did not finish within 0.5 s"
    assert time.monotonic() - started < 5
    time.sleep(0.2)
    assert not any(f"touch {alive}" in cmdline for cmdline in _command_lines())  # nothing it started lives on


def _command_lines() -> list[str]:
    lines = []
    for entry in Path("/proc").iterdir():
        try:
            lines.append((entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace"))
        except OSError:
            continue
    return lines

# --- a run's failures, read from pyinfra --------------------------------------------------

@pytest.fixture
def collector():
    handler = alerting.Collector()
    pyinfra_logger.addHandler(handler)
    yield handler
    pyinfra_logger.removeHandler(handler)


def in_pyinfra_cli(code: str):
    """Run ``code`` where pyinfra's command line is imported (it patches the stdlib for
    gevent on import: never in this test process) and return what it prints as JSON."""
    done = subprocess.run([sys.executable, "-c", "import json, sys\n" + code], cwd=ROOT, capture_output=True,
                          text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.splitlines()[-1])


def test_the_error_that_stops_a_run_is_read_from_pyinfra_s_own_report():
    # What pyinfra's command line shows for a PyinfraError raised while preparing (an
    # invalid JWKS in deploy.py) and for "No hosts remaining!", exactly as it logs them.
    assert in_pyinfra_cli(
        "from pyinfra import logger\n"
        "from pyinfra.api.exceptions import PyinfraError\n"
        "from pyinfra_cli.exceptions import CliError, WrappedError\n"
        "from tasks import alerting\n"
        "collector = alerting.Collector(); logger.addHandler(collector)\n"
        "WrappedError(PyinfraError('api-1: https://t/jwks.json: key 0: a symmetric (oct) key')).show()\n"
        "CliError('No hosts remaining!').show()\n"
        "print(json.dumps(collector.fatal))\n"
    ) == ["api-1: https://t/jwks.json: key 0: a symmetric (oct) key", "No hosts remaining!"]


def test_host_error_lines_are_kept_without_pyinfra_s_generic_summary(collector):
    pyinfra_logger.error("[\x1b[1mapi-2\x1b[0m] \x1b[31mCould not connect (timed out)\x1b[0m")
    pyinfra_logger.error("[\x1b[1mapi-2\x1b[0m] \x1b[31mError: executed 0 commands\x1b[0m")
    pyinfra_logger.info("[api-3] Success")
    assert collector.host_errors == {"api-2": ["Could not connect (timed out)"]}


class Host:
    def __init__(self, name, alert_command=None):
        self.name = name
        self.data = {"alert_command": alert_command}


class FakeState:
    """The parts of pyinfra's State the alert reads, with real OperationMeta objects."""

    def __init__(self, hosts, failed=(), activated=None, failed_ops=None):
        self.inventory = hosts
        self.failed_hosts = set(failed)
        self.activated_hosts = set(hosts if activated is None else activated)
        self.ops = {}
        for host, (name, stderr) in (failed_ops or {}).items():
            meta = OperationMeta("op1", None)
            meta.set_complete(False, ["cmd"], CommandOutput([OutputLine("stderr", line) for line in stderr]))
            self.ops[host] = {"op1": type("OpData", (), {"operation_meta": meta})()}
            self._names = {name}

    def get_op_order(self):
        return ["op1"]

    def get_op_data_for_host(self, host, op_hash):
        return self.ops[host][op_hash]

    def get_op_meta(self, op_hash):
        return type("Meta", (), {"names": self._names})()

    def is_host_in_limit(self, host):
        return True


def test_a_rollback_s_own_line_is_the_reason(collector):
    a, b = Host("rot-a"), Host("rot-b")
    state = FakeState([a, b], failed=[a, b], failed_ops={
        a: ("Key rotation outcome", ["rot-a: smoke token answered 401 after the reload, expected 200; rolled back "
                                     "to the previous keys [k1, k2]"]),
        b: ("Key rotation outcome", ["rot-b: not rotated: the run stopped after rot-a failed"])})
    assert alerting.failure_reasons(state, collector) == [
        "rot-a: smoke token answered 401 after the reload, expected 200; rolled back to the previous keys [k1, k2]",
        "rot-b: not rotated: the run stopped after rot-a failed"]


def test_an_operation_failure_names_the_operation_and_its_last_error_line(collector):
    a = Host("api-1")
    state = FakeState([a], failed=[a], failed_ops={a: ("Health gate", ["waiting", "PostgREST /ready not 200 in 5 s"])})
    assert alerting.failure_reasons(state, collector) == ["api-1: Health gate failed: PostgREST /ready not 200 in 5 s"]


def test_an_unreachable_host_and_a_run_that_succeeded(collector):
    a, b = Host("api-1"), Host("api-2")
    pyinfra_logger.error("[api-2] Could not connect (timed out)")
    assert alerting.failure_reasons(FakeState([a, b], failed=[b], activated=[a]), collector) == [
        "api-2: unreachable: Could not connect (timed out)"]
    assert alerting.failure_reasons(FakeState([a, b]), alerting.Collector()) == []


def test_the_alert_goes_once_per_distinct_command_and_never_on_success(collector, tmp_path, capsys):
    out = tmp_path / "alerts.log"
    hosts = [Host("api-1", f"cat >> {out}"), Host("api-2", f"cat >> {out}"), Host("db-1")]
    with ctx_state.use(FakeState(hosts)):
        alerting.alert_if_failed(collector, "rotate_keys.py on prod.py")
    assert not out.exists()
    with ctx_state.use(FakeState(hosts, failed=[hosts[1]], activated=hosts[:1])):
        alerting.alert_if_failed(collector, "rotate_keys.py on prod.py")
    assert out.read_text() == "rotate_keys.py on prod.py failed: api-2: unreachable: could not connect\n"
    assert "alert sent through alert_command" in capsys.readouterr().err



def test_a_run_stopped_before_any_host_ran_alerts_with_its_error(collector, tmp_path):
    """An invalid JWKS stops deploy.py while pyinfra prepares it: no host failed, no
    operation ran, and the error pyinfra reports is the whole reason."""
    out = tmp_path / "alerts.log"
    hosts = [Host("api-1", f"cat >> {out}"), Host("api-2", f"cat >> {out}")]
    pyinfra_logger.warning("--> \x1b[31;1mpyinfra error\x1b[0m in deploy.py line 26: api-1: https://t/jwks.json: "
                           "key 0 (kid 's'): a symmetric (oct) key; only RSA public keys are accepted")
    with ctx_state.use(FakeState(hosts)):
        alerting.alert_if_failed(collector, "deploy.py on inventories/prod.py")
    assert out.read_text() == ("deploy.py on inventories/prod.py failed: api-1: https://t/jwks.json: key 0 (kid 's'): "
                               "a symmetric (oct) key; only RSA public keys are accepted\n")


def pyinfra_run(tmp_path, hosts: list[tuple[str, dict]], script: str, *extra: str):
    """The real `pyinfra INVENTORY SCRIPT` from the project folder (its config.py installs
    the alert), with no SSH server and no Docker: fails before any host runs."""
    inventory = tmp_path / "inventory.py"
    inventory.write_text(f"alert_unit = {hosts!r}\n")
    env = {k: v for k, v in os.environ.items() if not k.startswith("STACK_")}
    env.update(HOME=str(tmp_path), STACK_POSTGRES_PASSWORD="superuser-secret-0123456789",
               STACK_AUTHENTICATOR_PASSWORD="authenticator-secret-0123456789")
    done = subprocess.run([str(Path(sys.executable).with_name("pyinfra")), *extra, str(inventory), script], cwd=ROOT,
                          env=env, capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL)
    return done, inventory


def test_a_real_run_stopped_by_an_invalid_jwks_sends_one_line(tmp_path):
    out, key_set = tmp_path / "alerts.log", tmp_path / "jwks.json"
    raw, fragment = refused_cases()["x5c of another key"]
    key_set.write_bytes(raw)
    # --dry: were the JWKS let through, the deploy would still change nothing on this machine.
    done, inventory = pyinfra_run(tmp_path, [("@local", {
        "auth0_domain": "tenant.eu.auth0.com", "jwt_audience": "https://api.example.com", "jwks_url": str(key_set),
        "app_dir": str(tmp_path / "app"), "alert_command": f"cat >> {out}"})], "deploy.py", "--dry")
    assert done.returncode != 0 and "alert sent through alert_command" in done.stderr + done.stdout
    [line] = out.read_text().splitlines()
    assert line.startswith(f"deploy.py on {inventory} failed: @local: {key_set}: ") and fragment in line, line


def test_a_real_run_with_every_host_unreachable_sends_one_line(tmp_path):
    out, port = tmp_path / "alerts.log", free_port()  # nothing listens there
    hosts = [(name, {"ssh_hostname": "127.0.0.1", "ssh_port": port, "alert_command": f"cat >> {out}"})
             for name in ("gone-1", "gone-2")]
    done, inventory = pyinfra_run(tmp_path, hosts, "rotate_keys.py", "-y")
    assert done.returncode != 0
    [line] = out.read_text().splitlines()
    assert line.startswith(f"rotate_keys.py on {inventory} failed: ") and line.endswith("No hosts remaining!"), line
    assert "gone-1: unreachable: Could not connect" in line and "gone-2: unreachable: Could not connect" in line, line

@pytest.mark.parametrize("argv, what", [
    (["-y", "inventories/prod.py", "rotate_keys.py"], "rotate_keys.py on inventories/prod.py"),
    (["inventories/prod.py", "deploy.py", "--dry", "--limit", "db"], "deploy.py on inventories/prod.py"),
    (["inventories/prod.py", "fact", "server.Os"], None),
    (["inventories/prod.py", "exec", "--", "uptime"], None),
    (["inventories/prod.py", "tests/e2e/deploys/other.py"], None),
])
def test_only_deploy_and_rotation_runs_are_watched(argv, what):
    installed, registered = in_pyinfra_cli(
        "import atexit\n"
        "from tasks import alerting\n"
        "registered = []\n"
        "atexit.register = lambda *args: registered.append(args[2])\n"
        f"collector = alerting.install({argv!r})\n"
        "print(json.dumps([collector is not None, registered]))\n")
    assert installed == (what is not None) and registered == ([what] if what else [])


def test_the_project_config_installs_it():
    config = (ROOT / "config.py").read_text()
    assert "alerting.install()" in config


# --- ops/alert_webhook.py -----------------------------------------------------------------

class _Receiver(http.server.BaseHTTPRequestHandler):
    status = 200
    seen: list = []

    def do_POST(self):  # noqa: N802
        body = self.rfile.read(int(self.headers["Content-Length"]))
        _Receiver.seen.append((self.headers["Content-Type"], body))
        self.send_response(_Receiver.status)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args):
        pass


@pytest.fixture
def receiver():
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Receiver)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    _Receiver.seen, _Receiver.status = [], 200
    yield f"http://127.0.0.1:{server.server_address[1]}/hook/SECRET-TOKEN"
    server.shutdown()
    server.server_close()


def webhook(fmt, url, line="rotate_keys.py on prod.py failed: api-1: rolled back", **env):
    return subprocess.run([sys.executable, str(ROOT / "ops/alert_webhook.py"), "--format", fmt], input=line + "\n",
                          capture_output=True, text=True, timeout=30,
                          env={"ALERT_WEBHOOK_URL": url, "PATH": "/usr/bin:/bin", **env})


def test_webhook_formats(receiver):
    assert webhook("slack", receiver).returncode == 0
    assert webhook("text", receiver).returncode == 0
    assert webhook("pagerduty", receiver, PAGERDUTY_ROUTING_KEY="R0UTING").returncode == 0
    (slack_type, slack), (text_type, text), (_pd_type, pd) = _Receiver.seen
    assert slack_type == "application/json"
    assert json.loads(slack) == {"text": "rotate_keys.py on prod.py failed: api-1: rolled back"}
    assert text_type.startswith("text/plain") and text == b"rotate_keys.py on prod.py failed: api-1: rolled back\n"
    event = json.loads(pd)
    assert (event["routing_key"], event["event_action"], event["payload"]["severity"]) == ("R0UTING", "trigger", "error")
    assert event["payload"]["summary"] == "rotate_keys.py on prod.py failed: api-1: rolled back"


def test_webhook_failure_is_an_exit_status_and_never_shows_the_url(receiver):
    _Receiver.status = 500
    done = webhook("slack", receiver)
    assert done.returncode == 1 and done.stderr.strip() == "alert_webhook: the webhook answered HTTP 500"
    unset = webhook("text", "")
    assert unset.returncode == 1 and "ALERT_WEBHOOK_URL is not set" in unset.stderr
    assert "SECRET-TOKEN" not in done.stdout + done.stderr
