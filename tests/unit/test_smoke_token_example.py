"""The `smoke_token_command` example of docs/runbooks.md keeps the Auth0 client secret off every
command line (where `ps` shows it to each user of the controller), and still works: run
for real by the shell rotate_keys.py uses, with the real curl, against a local token
endpoint."""

from __future__ import annotations

import ast
import json
import os
import re
import shlex
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs

import pytest

from tests.conftest import ROOT

#: A secret with every character form-encoding must escape.
SECRET = "s3cr3t+/=&% tail-Ωq"
#: Commands the shell runs itself (no new process, nothing in ps).
BUILTINS = {"printf", "echo", "read", "export"}


def example() -> str:
    """The command of the runbook's example, as the Python string group_data would hold."""
    found = re.findall(r'`smoke_token_command = ("(?:[^"\\]|\\.)*")`', (ROOT / "docs" / "runbooks.md").read_text())
    assert len(found) == 1, found
    return ast.literal_eval(found[0])


def test_no_program_gets_the_secret_as_an_argument():
    command = example()
    stages = [shlex.split(stage) for stage in command.split("|")]
    assert len(stages) >= 2
    for argv in stages:
        if argv[0] in BUILTINS:
            continue
        assert not any("SMOKE_SECRET" in arg or "client_secret=" in arg for arg in argv), argv
    curl = next(argv for argv in stages if argv[0] == "curl")
    secret_arguments = [arg for arg in curl if arg.startswith("client_secret")]
    assert secret_arguments and all(re.fullmatch(r"client_secret@(-|/\S+)", arg) for arg in secret_arguments)


class TokenEndpoint(BaseHTTPRequestHandler):
    forms: list[dict] = []

    def do_POST(self):  # noqa: N802 (http.server's name)
        body = self.rfile.read(int(self.headers["Content-Length"])).decode()
        TokenEndpoint.forms.append(parse_qs(body, keep_blank_values=True))
        answer = json.dumps({"access_token": "token-for-the-smoke-test", "token_type": "Bearer"}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(answer)))
        self.end_headers()
        self.wfile.write(answer)

    def log_message(self, *args):
        pass


@pytest.fixture
def endpoint():
    server = ThreadingHTTPServer(("127.0.0.1", 0), TokenEndpoint)
    TokenEndpoint.forms = []
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def recording(bin_dir, name, then):
    """A stand-in ``name`` that writes its argv (NUL-separated) to a file of its own under
    bin_dir/argv (the stages of a pipeline run at once), then runs ``then``."""
    path = bin_dir / name
    log = shlex.quote(str(bin_dir / "argv"))
    path.write_text(f'#!/bin/sh\nfor a in "$0" "$@"; do printf \'%s\\0\' "$a"; done > {log}/$$\n{then}\n')
    path.chmod(0o755)


def test_the_example_sends_the_secret_on_stdin_and_prints_the_token(tmp_path, endpoint):
    curl = subprocess.run(["sh", "-c", "command -v curl"], capture_output=True, text=True).stdout.strip()
    assert curl, "curl is one of the suite's packages"
    bin_dir = tmp_path / "bin"
    (bin_dir / "argv").mkdir(parents=True)
    recording(bin_dir, "curl", f'exec {shlex.quote(curl)} "$@"')
    # jq: a stand-in for `jq -r .access_token` (jq is not among the suite's packages).
    recording(bin_dir, "jq", f"exec {shlex.quote(sys.executable)} -c "
                             "'import json, sys; print(json.load(sys.stdin)[\"access_token\"])'")
    for name in BUILTINS:  # if one of them ran as a program, it is recorded too
        recording(bin_dir, name, "exit 1")
    command = example().replace("https://TENANT", endpoint)
    # rotate_keys.py runs it with subprocess.run(shell=True): /bin/sh, the secret in the environment.
    env = dict(os.environ, PATH=f"{bin_dir}:{os.environ['PATH']}", SMOKE_SECRET=SECRET)
    done = subprocess.run(command, shell=True, capture_output=True, text=True, env=env, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout == "token-for-the-smoke-test\n"
    [form] = TokenEndpoint.forms
    assert form["client_secret"] == [SECRET]  # exact, form-encoded, no newline added
    assert form["grant_type"] == ["client_credentials"] and form["audience"] == ["API"]
    runs = [log.read_text() for log in (bin_dir / "argv").iterdir()]
    assert {run.split("\0")[0].rsplit("/", 1)[-1] for run in runs} == {"curl", "jq"}
    assert not any(SECRET in run or "client_secret=" in run for run in runs), runs
