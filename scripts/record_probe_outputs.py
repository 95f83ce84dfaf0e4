#!/usr/bin/env python3
"""Record what the host probe prints, run for real, as tests/unit/probe_outputs/*.json.

Each file is one case, as pyinfra's tests/facts/*/*.json are: the probe's arguments,
the lines it printed (``output``) and what ``probe.parse`` makes of them (``state``,
HostState as a dict, modes in octal). tests/unit/test_probe_outputs.py parses every
``output`` again and compares; so a parser change shows as a diff of these files, and
a new probe line or field is recorded here first.

The probe runs here with sh, against app_dirs rendered as a deploy writes them (owners
set as the deploy sets them), and against this machine's Docker engine with containers
this script starts (compose's labels, a real postgres and PostgREST 12.0.2, both on
host networking at free loopback ports) and removes at the end. Where a host state cannot
be made here (no Docker, an engine that does not answer), PATH holds the shell's tools
and, for the latter, a ``docker`` client that fails. Review the diff before committing:
the states are meant to be right, not only recorded.

Needs root (chown), Docker and the images postgres:15.14-bookworm and
postgrest/postgrest:v12.0.2 (`make images`). Run: .venv/bin/python scripts/record_probe_outputs.py
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from postgrest_stack import layout, migrations, plan, probe, render, settings  # noqa: E402
from postgrest_stack.compare import sql_digest  # noqa: E402
from tests.conftest import ROOT  # noqa: E402
from tests.unit.conftest import SECRETS, group_defaults  # noqa: E402
from tests.unit.test_probe_outputs import state_dict  # noqa: E402

OUT = ROOT / "tests" / "unit" / "probe_outputs"
DB_IMAGE, PGRST_IMAGE = "postgres:15.14-bookworm", "postgrest/postgrest:v12.0.2"
STACK = f"probe-rec-{os.getpid()}"
KEY_FILE = (b'{"keys":[{"kty":"RSA","kid":"k-2026-01","use":"sig","alg":"RS256","n":"AQAB","e":"AQAB"},'
            b'{"kty":"RSA","kid":"k-2025-07","use":"sig","alg":"RS256","n":"AQAB","e":"AQAB"}]}\n')
#: The ledger's rows in the deployed case: (version, name, sha256).
LEDGER = ((1, "0001_todos.sql", "1" * 64), (2, "0002_notes.sql", "2" * 64))
#: Names in an app_dir of their own.
ODD_NAMES = ("back\\slash.sql", "two  spaces  .sql", "quote's \"double\" $HOME.sql", "tab\tand ünïcode")
#: The shell's tools, for a PATH without docker.
TOOLS = ("sh", "cat", "find", "sha256sum", "tr", "head", "timeout", "curl", "ls", "grep", "sort")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def resolved(**overrides) -> settings.Settings:
    return settings.resolve({**group_defaults(), "auth0_domain": "tenant.eu.auth0.com",
                             "jwt_audience": "https://api.example.com", "stack_name": STACK, **overrides})


def deploy_files(app: Path, values: settings.Settings) -> dict:
    """app_dir as a deploy leaves it: the rendered files, the key file, the owners."""
    files = plan.with_jwks(render.render(values, dict(SECRETS)), KEY_FILE)
    render.write_tree(files, app)
    for relative, (_mode, uid) in layout.DIRECTORIES.items():
        if (app / relative).exists():
            os.chown(app / relative, uid, 0)
    for relative, rendered in files.items():
        os.chown(app / relative, rendered.owner_uid, 0)
    return files


def only_tools(root: Path, extra: dict[str, str] | None = None) -> dict:
    """An environment whose PATH holds the shell's tools, and ``extra`` stand-ins."""
    bin_dir = root / "bin"
    bin_dir.mkdir(parents=True, exist_ok=True)
    for tool in TOOLS:
        if not (bin_dir / tool).exists():
            (bin_dir / tool).symlink_to(shutil.which(tool))
    for name, text in (extra or {}).items():
        (bin_dir / name).write_text(text)
        (bin_dir / name).chmod(0o755)
    return {"PATH": str(bin_dir)}


def run(arguments: dict, env: dict | None = None) -> list[str]:
    done = subprocess.run(["sh", "-c", probe.command(**arguments)], capture_output=True, text=True, timeout=180,
                          env=env)
    if done.returncode != 0:
        sys.exit(f"the probe failed: {done.stderr}")
    return done.stdout.splitlines()


def record(name: str, case: str, arguments: dict, output: list[str]) -> None:
    shown = {key: value for key, value in arguments.items() if key != "app_dir"}
    document = {"case": case, "arguments": shown, "output": output, "state": state_dict(probe.parse(output))}
    (OUT / f"{name}.json").write_text(json.dumps(document, indent=2, ensure_ascii=False) + "\n")
    print(f"{name}: {len(output)} lines")


def make_backups(folder: Path) -> Path:
    """A backups_path as bin/backup leaves it, with what must never count as a verified backup."""
    for name, sums in (("20261201T020000Z", True), ("20261202T020000Z-pre-migrations", True),
                       ("20261202T030000Z", False), ("20261202T040000Z.partial", True), ("notes", True),
                       ("20261202T050000Z-Upper", True)):
        (folder / name).mkdir(parents=True, mode=0o700)
        if sums:
            (folder / name / "SHA256SUMS").write_text("")
    return folder


def docker(*args: str, check: bool = True) -> str:
    return subprocess.run(["docker", *args], capture_output=True, text=True, check=check).stdout.strip()


def psql(container: str, sql: str) -> None:
    docker("exec", container, "psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-U", "postgres", "-d", "app", "-c", sql)


def wait(what: str, ready) -> None:
    limit = time.monotonic() + 90
    while not ready():
        if time.monotonic() > limit:
            sys.exit(f"{what}: not ready within 90 s")
        time.sleep(0.5)


def labels(service: str, stack: str = STACK) -> list[str]:
    return ["--label", f"com.docker.compose.project={stack}", "--label", f"com.docker.compose.service={service}",
            "--label", "com.docker.compose.oneoff=False"]


def start_db(db_port: int) -> str:
    """A running, healthy postgres, the stack's db service by compose's labels."""
    # The data on the volume compose would give the db service (the probe reads its PG_VERSION).
    db = docker("run", "-d", "--name", f"{STACK}-db-1", *labels("db"), "--network", "host",
                "-v", f"{layout.data_volume(STACK)}:/var/lib/postgresql/data",
                "-e", "POSTGRES_USER=postgres", "-e", "POSTGRES_DB=app",
                "-e", f"POSTGRES_PASSWORD={SECRETS['postgres_password']}", "-e", f"PGPORT={db_port}",
                "--health-cmd", "pg_isready -h 127.0.0.1 -U postgres -d app", "--health-interval", "1s",
                DB_IMAGE, "postgres", "-c", "listen_addresses=127.0.0.1")
    wait("db", lambda: docker("inspect", "-f", "{{.State.Health.Status}}", db) == "healthy")
    return db


def start_postgrest(stack: str, db_port: int, admin_port: int) -> str:
    """A PostgREST 12.0.2 answering 200 on /ready, the postgrest service of ``stack``."""
    pgrst = docker("run", "-d", "--name", f"{stack}-postgrest-1", *labels("postgrest", stack), "--network", "host",
                   "-e", f"PGRST_DB_URI=postgres://postgres:{SECRETS['postgres_password']}@127.0.0.1:{db_port}/app",
                   "-e", "PGRST_DB_ANON_ROLE=postgres", "-e", f"PGRST_SERVER_PORT={free_port()}",
                   "-e", "PGRST_SERVER_HOST=127.0.0.1", "-e", f"PGRST_ADMIN_SERVER_PORT={admin_port}", PGRST_IMAGE)
    wait("PostgREST", lambda: subprocess.run(["curl", "-s", "-o", "/dev/null", "-w", "%{http_code}",
                                              f"http://127.0.0.1:{admin_port}/ready"],
                                             capture_output=True, text=True).stdout == "200")
    return pgrst


def main() -> None:
    if os.geteuid() != 0:
        sys.exit("run as root: the app_dirs get the owners a deploy gives them")
    OUT.mkdir(exist_ok=True)
    for old in OUT.glob("*.json"):
        old.unlink()
    db_port, admin_port = free_port(), free_port()
    started: list[str] = []
    with tempfile.TemporaryDirectory(prefix="probe-rec-") as tmp:
        root = Path(tmp)
        try:
            values = resolved(postgrest_admin_port=admin_port)
            app = root / "app"
            files = deploy_files(app, values)
            base = dict(stack_name=STACK, admin_port=admin_port, postgrest_version=values.postgrest_version,
                        secret_files=layout.KEYED_FILES)

            arguments = dict(base, app_dir=str(root / "none"))
            record("bare-host", "a host the stack never reached: no app_dir, no docker", arguments,
                   run(arguments, only_tools(root / "bare")))
            arguments = dict(base, app_dir=str(root / "none"), backups_path=str(make_backups(root / "backups")))
            record("backups", "a db host's backups_path: the newest verified backup (a backup's name holding "
                   "SHA256SUMS), never a newer .partial, a newer folder without SHA256SUMS or another name",
                   arguments, run(arguments, only_tools(root / "bare")))
            arguments = dict(base, app_dir=str(app))
            record("docker-missing", "the stack's files in place (owners as deployed: db/ 999, postgrest/ 1000), "
                   "no docker client on PATH", arguments, run(arguments, only_tools(root / "no-docker")))
            record("docker-stopped", "a docker client whose engine does not answer, its service installed "
                   "(this machine's /etc/init.d/docker)", arguments,
                   run(arguments, only_tools(root / "stopped", {"docker": "#!/bin/sh\nexit 1\n"})))

            started.append(start_db(db_port))
            started.append(start_postgrest(STACK, db_port, admin_port))
            psql(started[0], f"CREATE SCHEMA {layout.GUARD_SCHEMA}; "
                             f"COMMENT ON SCHEMA {layout.GUARD_SCHEMA} IS 'sql-digest:{sql_digest(files)}'")
            record("deployed-no-ledger", "a healthy stack whose SQL is applied, before any migration: no ledger "
                   "(no ledger line)", arguments, run(arguments))
            psql(started[0], f"CREATE SCHEMA {migrations.LEDGER_SCHEMA}; CREATE TABLE {migrations.LEDGER_TABLE} "
                             "(version bigint PRIMARY KEY, name text NOT NULL, sha256 text NOT NULL); "
                             + " ".join(f"INSERT INTO {migrations.LEDGER_TABLE} VALUES ({v}, '{n}', '{s}');"
                                        for v, n, s in LEDGER))
            output = run(arguments)
            assert f"ledger {migrations.ledger_digest((v, s) for v, _n, s in LEDGER)}" in output, output
            record("deployed-healthy", "a healthy deployed stack: files with plain and keyed digests, owners, the "
                   "key file's kids, both services, /ready 200, the SQL's digest and the ledger's", arguments, output)
            with_images = dict(arguments, images=(DB_IMAGE, PGRST_IMAGE, "localhost:5000/not-held:1"))
            record("images", "image_source = controller: the ID the host holds under each reference, none for one "
                   "it lacks", with_images, run(with_images))
            detailed = dict(arguments, details=True)
            record("details", "the status command's probe: engine and compose versions", detailed, run(detailed))

            docker("stop", "-t", "5", started[1])
            docker("stop", "-t", "5", started[0])
            record("stack-down", "the stack's containers exited: no answer on /ready (000), no database to ask; "
                   "the data's major version still read from its volume",
                   arguments, run(arguments))

            docker("start", started[0])
            wait("db", lambda: docker("inspect", "-f", "{{.State.Health.Status}}", started[0]) == "healthy")
            api_stack, api_admin_port = f"{STACK}-api", free_port()
            started.append(start_postgrest(api_stack, db_port, api_admin_port))
            external_values = resolved(
                stack_name=api_stack, stack_role="api", postgrest_admin_port=api_admin_port,
                external_db_uri=f"postgres://127.0.0.1:{db_port}/app?sslmode=disable")
            external_app = root / "external"
            deploy_files(external_app, external_values)
            external = dict(base, app_dir=str(external_app), stack_name=api_stack, admin_port=api_admin_port,
                            postgrest_version=external_values.postgrest_version,
                            external=(DB_IMAGE, render.external_conninfo(external_values)))
            record("external-database", "an api host on an external database: its PostgREST alone, the SQL's and "
                   "the ledger's digests read with psql from a one-off container", external, run(external))

            odd = root / "odd"
            odd.mkdir()
            for name in ODD_NAMES:
                (odd / name).write_text(f"{name}\n")
            arguments = dict(base, app_dir=str(odd))
            output = run(arguments, only_tools(root / "odd-bin"))
            assert {name: probe.parse(output).paths[name].sha256 for name in ODD_NAMES} == {
                name: hashlib.sha256(f"{name}\n".encode()).hexdigest() for name in ODD_NAMES}, output
            record("odd-names", "file names sha256sum escapes (a backslash: its line starts with \\) or that hold "
                   "its separator, spaces and quotes; no docker client", arguments, output)
        finally:
            for container in started:
                docker("rm", "-f", container, check=False)
            docker("volume", "rm", "-f", layout.data_volume(STACK), check=False)


if __name__ == "__main__":
    main()
