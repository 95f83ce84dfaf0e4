"""The probe's container lines, run for real against a stand-in ``docker`` that answers as
the engine does: ``docker ps -a`` lists the newest container first and honours the label
filters, ``docker inspect -f`` renders the probe's template for each container in the
order given, ``docker image inspect`` reports the ID the host holds under a tag.

What this holds, beyond the parser's own tests:

- an exited leftover of a service, listed *before* the running container (a newer one:
  a recreate that failed, a container created by hand with compose's labels), never
  hides it: otherwise a key change on a running PostgREST becomes a plain upload, with
  no reload and no key proof (plan.py);
- the probe reads the stack its host's settings name (stack_name, app_dir, the admin
  port, image_source = controller): a probe that assumed the defaults would read a
  neighbouring default stack on the same host instead;
- ``status`` reports a container that runs another image than the one the host holds
  under its tag, from what the probe reads.
"""

from __future__ import annotations

import http.server
import json
import shutil
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from postgrest_stack import layout, probe, render, settings, status
from postgrest_stack import plan as planning
from tasks.probe_host import probe_arguments
from tests.harness.ports import free_port
from tests.unit.test_plan import changed, deployed_state

#: A stand-in for the Docker client, state read from $FAKE_DOCKER_STATE (JSON).
FAKE_DOCKER = r'''#!@PYTHON@
import json, os, re, sys

state = json.load(open(os.environ["FAKE_DOCKER_STATE"]))
containers = state.get("containers", [])
args = sys.argv[1:]


def fail(text, code=1):
    print(text, file=sys.stderr)
    sys.exit(code)


def lookup(obj, path):
    for part in path.strip(".").split("."):
        obj = obj.get(part) if isinstance(obj, dict) else None
    return obj


def render(template, obj):
    """The Go template actions the probe uses, and nothing else."""
    template = re.sub(r"\{\{if (\.[\w.]+)\}\}(.*?)\{\{else\}\}(.*?)\{\{end\}\}",
                      lambda m: m[2] if lookup(obj, m[1]) else m[3], template)
    template = re.sub(r'\{\{index (\.[\w.]+) "([^"]+)"\}\}',
                      lambda m: str((lookup(obj, m[1]) or {}).get(m[2], "<no value>")), template)
    template = re.sub(r"\{\{(\.[\w.]+)\}\}", lambda m: str(lookup(obj, m[1])), template)
    if "{{" in template:
        fail("template: unsupported action in " + template, 2)
    return template


def find(prefix):
    for container in containers:
        if container["Id"].startswith(prefix):
            return container
    fail("Error: No such container: " + prefix)


def matches(container, wanted):
    labels = container["Config"]["Labels"]
    key, eq, value = wanted.partition("=")
    return key in labels and (not eq or labels[key] == value)


if args[:1] == ["info"]:
    sys.exit(0)
if args[:1] == ["ps"]:
    every, quiet, labels, rest = False, False, [], args[1:]
    while rest:
        flag = rest.pop(0)
        if flag in ("-a", "-aq", "-qa"):
            every = True
        if flag in ("-q", "-aq", "-qa"):
            quiet = True
        if flag == "--filter":
            kind, _, wanted = rest.pop(0).partition("=")
            if kind != "label":
                fail("unsupported filter " + kind, 2)
            labels.append(wanted)
    if not quiet:
        fail("the stand-in lists IDs only (-q)", 2)
    listed = [c for c in containers if (every or c["State"]["Status"] == "running")
              and all(matches(c, wanted) for wanted in labels)]
    for container in sorted(listed, key=lambda c: c["Created"], reverse=True):  # newest first
        print(container["Id"][:12])
    sys.exit(0)
if args[:2] == ["inspect", "-f"]:
    for prefix in args[3:]:
        print(render(args[2], find(prefix)))
    sys.exit(0)
if args[:3] == ["image", "inspect", "--format"]:
    held = state.get("images", {}).get(args[4])
    if held is None:
        fail("Error: No such image: " + args[4])
    print(render(args[3], {"Id": held}))
    sys.exit(0)
if args[:1] == ["exec"]:
    container = find(args[1])
    if container["State"]["Status"] != "running":
        fail("Error response from daemon: container is not running")
    if "ExecOutput" in container:
        print(container["ExecOutput"])
    sys.exit(container.get("ExecExit", 0))
fail("stand-in docker: unsupported " + " ".join(args), 2)
'''

TOOLS = ("sh", "cat", "find", "sha256sum", "tr", "head", "timeout", "curl")


def image_id(digit: str) -> str:
    return "sha256:" + digit * 64


def container(number: int, service: str, status: str, created: str, image: str, image_digit: str, *,
              project: str = "blue", oneoff: str = "False", health: str | None = None, **extra) -> dict:
    """One container as `docker inspect` describes it (the fields the probe reads)."""
    return {
        "Id": f"{number:02d}" * 32, "Created": created, "Image": image_id(image_digit),
        "Config": {"Image": image, "Labels": {"com.docker.compose.project": project,
                                             "com.docker.compose.service": service,
                                             "com.docker.compose.oneoff": oneoff}},
        "State": {"Status": status, "StartedAt": created, "Health": {"Status": health} if health else None},
        **extra,
    }


def run_probe(tmp_path: Path, command: str, containers: list[dict],
              images: dict[str, str] | None = None) -> tuple[str, probe.HostState]:
    """Run the probe script with the stand-in docker (and the shell's tools) alone on PATH."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir(exist_ok=True)
    docker = bin_dir / "docker"
    docker.write_text(FAKE_DOCKER.replace("@PYTHON@", sys.executable))
    docker.chmod(0o755)
    for tool in TOOLS:
        found = shutil.which(tool)
        if found and not (bin_dir / tool).exists():
            (bin_dir / tool).symlink_to(found)
    state_file = tmp_path / "docker-state.json"
    state_file.write_text(json.dumps({"containers": containers, "images": images or {}}))
    done = subprocess.run(["sh", "-c", command], capture_output=True, text=True, timeout=60,
                          env={"PATH": str(bin_dir), "FAKE_DOCKER_STATE": str(state_file)})
    assert done.returncode == 0 and "stand-in docker" not in done.stderr, done.stderr
    return done.stdout, probe.parse(done.stdout.splitlines())


PGRST = "postgrest/postgrest:v12.0.2"


# --- a leftover container listed first ---------------------------------------------------

@pytest.mark.parametrize("leftover_created, listed", [
    ("2026-01-02T00:00:00Z", "first"),   # newer than the running one: `docker ps -a` lists it first
    ("2025-12-31T00:00:00Z", "second"),
])
def test_the_running_container_wins_wherever_the_leftover_is_listed(tmp_path, leftover_created, listed):
    containers = [
        container(1, "db", "running", "2026-01-01T00:00:00Z", "postgres:15.14-bookworm", "d", health="healthy"),
        container(2, "postgrest", "running", "2026-01-01T00:00:01Z", PGRST, "a"),
        container(3, "postgrest", "exited", leftover_created, PGRST, "e"),
    ]
    output, state = run_probe(tmp_path, probe.command("/nonexistent", "blue", 1), containers)
    lines = [line for line in output.splitlines() if line.startswith("service postgrest ")]
    # The premise: docker lists the leftover where the case says.
    assert [line.split()[2] for line in lines] == (["exited", "running"] if listed == "first" else ["running", "exited"])
    assert state.services["postgrest"].status == "running"
    assert state.services["postgrest"].image_id == image_id("a")


def test_a_key_change_with_a_leftover_listed_first_is_still_a_rotation(tmp_path, data, secrets):
    """What the leftover would cost: the rotation steps (reload, key proof) skipped."""
    containers = [
        container(1, "db", "running", "2026-01-01T00:00:00Z", "postgres:15.14-bookworm", "d", health="healthy"),
        container(2, "postgrest", "running", "2026-01-01T00:00:01Z", PGRST, "a"),
        container(3, "postgrest", "exited", "2026-01-02T00:00:00Z", PGRST, "e"),
    ]
    _output, probed = run_probe(tmp_path, probe.command("/nonexistent", "blue", 1), containers)
    files = planning.with_jwks(render.render(settings.resolve(data), secrets), b'{"keys": []}')
    state = deployed_state(files)
    state.services = probed.services
    plan = planning.make_plan(changed(files, layout.JWKS_FILE, b'{"keys":[1]}\n'), state)
    assert plan.rotate_keys and not plan.up and layout.JWKS_FILE not in plan.files


# --- the probe reads the stack its settings name ---------------------------------------------

class _Ready(http.server.BaseHTTPRequestHandler):
    paths: list[str] = []

    def do_GET(self):  # noqa: N802
        _Ready.paths.append(self.path)
        self.send_response(200 if self.path == "/ready" else 404)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args):
        pass


@pytest.fixture
def admin_port():
    """A stand-in PostgREST admin server on a port other than the default 3001."""
    server = http.server.ThreadingHTTPServer(("127.0.0.1", free_port()), _Ready)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    _Ready.paths = []
    yield server.server_address[1]
    server.shutdown()
    server.server_close()


def two_stacks() -> list[dict]:
    """This host runs the stack 'blue' and, beside it, one under the default name."""
    return [
        container(1, "db", "running", "2026-01-01T00:00:00Z", "postgres:15.14-bookworm", "1", health="healthy",
                  ExecOutput="sqldigest sql-digest:blue"),
        container(2, "postgrest", "running", "2026-01-01T00:00:01Z", PGRST, "2"),
        container(3, "db", "running", "2026-01-01T00:00:00Z", "postgres:15.14-bookworm", "3", health="healthy",
                  project="postgrest", ExecOutput="sqldigest sql-digest:default"),
        container(4, "postgrest", "exited", "2026-01-01T00:00:01Z", PGRST, "4", project="postgrest"),
        # compose's one-off `run` container of blue: never a service.
        container(5, "postgrest", "running", "2026-01-03T00:00:00Z", PGRST, "5", oneoff="True"),
    ]


def blue_settings(data, tmp_path: Path, admin_port: int, **more) -> settings.Settings:
    assert admin_port != 3001
    return settings.resolve(dict(data, stack_name="blue", app_dir=str(tmp_path / "srv" / "blue stack"),
                                 postgrest_admin_port=admin_port, **more))


def test_the_probe_reads_the_stack_its_settings_name(tmp_path, data, secrets, admin_port):
    resolved = blue_settings(data, tmp_path, admin_port)
    files = planning.with_jwks(render.render(resolved, secrets), b'{"keys": []}')
    render.write_tree(files, Path(resolved.app_dir))
    # The project compose runs the stack under: .env's COMPOSE_PROJECT_NAME.
    assert "COMPOSE_PROJECT_NAME=blue\n" in files[".env"].content.decode()
    _output, state = run_probe(tmp_path, probe.command(**probe_arguments(resolved)), two_stacks())
    assert {name: (s.status, s.image_id) for name, s in state.services.items()} == {
        "db": ("running", image_id("1")), "postgrest": ("running", image_id("2"))}
    assert state.sql_digest == "sql-digest:blue"
    assert state.ready == 200 and _Ready.paths == ["/ready"]
    # The files are read where app_dir points (a secret one by its keyed digest only).
    assert state.paths["compose.yaml"].kind == "f" and state.paths[".env"].keyed_sha256


# --- image_source = controller: the image a container runs against the host's tag ---------

@pytest.mark.parametrize("held, drift", [
    ("2", []),
    ("9", [f"image postgrest: runs image sha256:{'2' * 12}, the host holds sha256:{'9' * 12} under {PGRST} "
           "(fix: deploy.py)"]),
])
def test_status_reports_a_container_running_another_image_than_the_tag(tmp_path, data, secrets, admin_port, held,
                                                                       drift):
    resolved = blue_settings(data, tmp_path, admin_port, image_source="controller")
    arguments = probe_arguments(resolved, details=True)
    assert PGRST in arguments["images"]  # the probe asks which image the host holds under each tag
    host_images = {"postgres:15.14-bookworm": image_id("1"), PGRST: image_id(held)}
    _output, state = run_probe(tmp_path, probe.command(**arguments), two_stacks(), images=host_images)
    assert state.images == host_images
    files = planning.with_jwks(render.render(resolved, secrets), b'{"keys": []}')
    tenant = status.TenantKeys("https://tenant.example/.well-known/jwks.json", error="not read in this test")
    report = status.host_report("api-1", resolved, files, state, tenant)
    assert [d.line for d in report.drift if d.kind == "image"] == drift
