"""Drive the real `pyinfra` command line against sshd test hosts, and inspect the result.

A :class:`Target` is one SSH host (a real sshd on loopback) with its own stack name,
app_dir and ports, so several targets share this machine's Docker engine without
clashing. Runs go through `pyinfra INVENTORY deploy.py` exactly as an operator types it.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import docker
import requests

from postgrest_stack import runs
from tests.conftest import ROOT
from tests.harness.ports import free_port
from tests.harness.sshd import SshdHost

PYINFRA = str(Path(sys.executable).with_name("pyinfra"))
_ROW = re.compile(r"^\s{4}(?P<name>\S.*?)\s{2,}(?P<hosts>[\d-]+)\s+(?P<success>[\d-]+)\s+(?P<error>[\d-]+)\s+(?P<nochange>[\d-]+)\s*$")


def _count(text: str) -> int:
    return 0 if text == "-" else int(text)


@dataclass
class Run:
    returncode: int
    output: str

    @property
    def results(self) -> dict[str, tuple[int, int, int]]:
        """``{operation: (success, error, no change)}`` from pyinfra's results table."""
        rows = {}
        in_table = False
        for line in self.output.splitlines():
            if line.startswith("--> Results:"):
                in_table = True
                continue
            if in_table:
                match = _ROW.match(line)
                if match and match["name"] not in ("Operation", "Grand total"):
                    rows[match["name"]] = (_count(match["success"]), _count(match["error"]), _count(match["nochange"]))
        return rows

    @property
    def changed(self) -> list[str]:
        return [name for name, (success, _err, nochange) in self.results.items() if success - nochange > 0]

    def check(self) -> "Run":
        assert self.returncode == 0, self.output[-6000:]
        return self


@dataclass
class Target:
    """One SSH target host with its own stack."""

    name: str
    sshd: SshdHost
    data: dict = field(default_factory=dict)
    secrets: dict = field(default_factory=dict)
    workdir: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="e2e-")))
    #: inventory group (group_data/<group>.py applies when it exists, e.g. db, api)
    group: str = "targets"

    @classmethod
    def create(cls, name: str, jwks_url: str, **sshd_args) -> "Target":
        sshd = SshdHost(**sshd_args)
        workdir = Path(tempfile.mkdtemp(prefix=f"e2e-{name}-"))
        data = {
            "stack_name": f"e2e-{name}-{os.getpid()}",
            "app_dir": str(workdir / "app"),
            "auth0_domain": "tenant.eu.auth0.com",
            "jwt_audience": "https://api.example.com",
            "jwks_url": jwks_url,
            "docker_install": "skip",
            "postgrest_port": free_port(),
            "postgrest_admin_port": free_port(),
            "db_port": free_port(),
            # Backups stay in the target's workdir (removed with it). A backup before
            # migrations costs a dump and a restore check per deploy: only
            # tests/e2e/test_backup.py turns it on.
            "backup_dir": str(workdir / "backups"),
            "backup_before_migrations": False,
        }
        secrets = {"STACK_POSTGRES_PASSWORD": "e2e-superuser-password-0001",
                   "STACK_AUTHENTICATOR_PASSWORD": "e2e-authenticator-password-0001"}
        return cls(name, sshd, data, secrets, workdir)

    def connection_data(self) -> dict:
        """How pyinfra reaches this target (ssh_* and, where needed, _sudo)."""
        return self.sshd.pyinfra_host_data()

    @property
    def app_dir(self) -> Path:
        return Path(self.data["app_dir"])

    @property
    def api(self) -> str:
        return f"http://127.0.0.1:{self.data['postgrest_port']}"

    def deploy(self, *extra: str, script: str = "deploy.py", env: dict | None = None, **overrides) -> Run:
        return run_pyinfra([self], script, *extra, env=self.secrets if env is None else env, **overrides)

    def containers(self) -> dict[str, tuple[str, str]]:
        """``{service: (container id, started at)}`` of this target's stack."""
        client = docker.from_env()
        found = {}
        for container in client.containers.list(all=True, filters={"label": f"com.docker.compose.project={self.data['stack_name']}"}):
            service = container.labels["com.docker.compose.service"]
            found[service] = (container.id, container.attrs["State"]["StartedAt"])
        return found

    def ready(self) -> int:
        return requests.get(f"http://127.0.0.1:{self.data['postgrest_admin_port']}/ready", timeout=5).status_code

    def destroy(self) -> None:
        compose = self.app_dir / "bin" / "compose"
        if compose.exists():
            subprocess.run([str(compose), "down", "-v", "--remove-orphans"], capture_output=True, timeout=300)
        self.sshd.stop()
        shutil.rmtree(self.workdir, ignore_errors=True)


def stand_in_backup(target: Target) -> Path:
    """A folder as status counts a verified backup (a backup's name, taken now, holding
    SHA256SUMS) for tests about other things: status reports a db host without a recent
    one as drift. Real backups: tests/e2e/test_backup.py."""
    folder = Path(target.data["backup_dir"]) / time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    (folder / "SHA256SUMS").write_text("")
    return folder


def write_inventory(targets: list) -> Path:
    """The inventory file of ``targets`` (one group per Target.group), in the first one's workdir."""
    inventory = targets[0].workdir / "inventory.py"
    groups: dict[str, list[str]] = {}
    for t in targets:
        groups.setdefault(t.group, []).append(f"    ({t.name!r}, {dict(t.connection_data(), **t.data)!r}),")
    inventory.write_text("".join(f"{group} = [\n" + "\n".join(lines) + "\n]\n" for group, lines in groups.items()))
    return inventory


def _environment(targets: list, env: dict | None) -> dict:
    run_env = {k: v for k, v in os.environ.items() if not k.startswith("STACK_")}
    run_env.update(env if env is not None else targets[0].secrets)
    return run_env


def run_status(targets: list, *extra: str, env: dict | None = None) -> Run:
    """`python -m postgrest_stack status INVENTORY ...` against ``targets``."""
    inventory = write_inventory(targets)
    done = subprocess.run([sys.executable, "-m", "postgrest_stack", "status", str(inventory), *extra], cwd=ROOT,
                          env=_environment(targets, env), capture_output=True, text=True, timeout=600,
                          stdin=subprocess.DEVNULL)
    return Run(done.returncode, done.stdout + done.stderr)


@contextmanager
def deployed(jwks_url: str, *names: str, **data):
    """Targets named ``names`` (with extra host ``data``), deployed together, destroyed after."""
    targets = [Target.create(name, jwks_url) for name in names]
    for target in targets:
        target.data.update(data)
    try:
        run_pyinfra(targets, "deploy.py").check()
        yield targets
    finally:
        for target in targets:
            target.destroy()


def run_pyinfra(targets: list, script: str, *extra: str, env: dict | None = None, **overrides) -> Run:
    """`pyinfra INVENTORY SCRIPT` over SSH against ``targets``, as an operator types it."""
    inventory = write_inventory(targets)
    # --dry shows its "Detected changes" table only without -y.
    yes = [] if "--dry" in extra else ["-y"]
    args = [PYINFRA, *yes, str(inventory), script, *extra]
    for key, value in overrides.items():
        args += ["--data", f"{key}={value}"]
    done = subprocess.run(args, cwd=ROOT, env=_environment(targets, env), capture_output=True, text=True, timeout=600,
                          stdin=subprocess.DEVNULL)
    wait_for_run_end(targets)
    return Run(done.returncode, done.stdout + done.stderr)


def wait_for_run_end(targets: list, seconds: float = 10) -> None:
    """Each host's run lock is let go, and the run's audit line written, by a holder that
    sees the run's SSH session end (tasks/runlock.py): shortly after pyinfra exits. Wait
    for it, so what a test looks at next is the finished host."""
    deadline = time.monotonic() + seconds
    for target in targets:
        app_dir = getattr(target, "data", {}).get("app_dir")
        lock = Path(runs.lock_file(app_dir)) if app_dir else None
        while (lock is not None and lock.exists() and time.monotonic() < deadline
               and subprocess.run(["flock", "-n", str(lock), "true"]).returncode != 0):
            time.sleep(0.1)


def bearer(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}
