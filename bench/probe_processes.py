"""Benchmark: how many processes one run of the host probe starts on a deployed host.

A no-change rerun runs the probe once per host (postgrest_stack/probe.py); every
process it starts is a fork and usually an exec on that host. This renders a deployed
host's app_dir (the default settings, plus the key file), puts stand-ins for ``docker``
and ``curl`` first on PATH that answer as a running, healthy stack does (shell
builtins only: one stand-in call is one process, as one real client call is), and
runs the probe under ``strace -ff`` (one log per process; nothing here starts threads)
twice: the probe of ``--before`` (a git revision, its postgrest_stack/probe.py) and the
working tree's. For each, it prints the processes created, subshells included, and the
programs run (execve), by name. Asserts nothing.

Needs strace (``apt-get install -y strace``). Run:
    .venv/bin/python bench/probe_processes.py [--before REV] [--postgrest 14.17]
"""

from __future__ import annotations

import argparse
import collections
import importlib.util
import inspect
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from postgrest_stack import layout, plan, probe, render, settings, versions  # noqa: E402
from tests.conftest import ROOT  # noqa: E402
from tests.unit.conftest import SECRETS, group_defaults  # noqa: E402

#: The probe before issue 24.9 (one sha256sum and one cut per file).
BEFORE = "4027dd5"
STACK = "bench"
KEY_FILE = b'{"keys":[{"kty":"RSA","kid":"k1","use":"sig","alg":"RS256","n":"AQAB","e":"AQAB"}]}\n'

#: `docker` as a running stack answers the probe (db and postgrest healthy, the SQL and
#: the ledger recorded), with builtins only.
DOCKER = """#!/bin/sh
case "$*" in
  info) exit 0 ;;
  "version --format"*) echo 24.0.7 ;;
  "compose version"*) echo 2.24.6 ;;
  "image inspect"*) echo "sha256:1111111111111111111111111111111111111111111111111111111111111111" ;;
  *"-aq "*) printf '%s\\n' db0000000001 pg0000000002 ;;
  "ps "*service=db*) echo db0000000001 ;;
  "ps "*service=postgrest*) echo pg0000000002 ;;
  "inspect "*)
    echo "service db running healthy 2026-01-01T00:00:00Z postgres:15.14-bookworm sha256:d"
    echo "service postgrest running - 2026-01-01T00:00:01Z postgrest/postgrest:v12.0.2 sha256:a" ;;
  "exec db"*) echo "sqldigest sql-digest:ff"; echo "ledger ee" ;;
  "exec "*) exit 0 ;;
esac
"""
CURL = """#!/bin/sh
printf 200
"""
#: A program run, in strace's log of one process.
EXECUTED = re.compile(r'^execve\("([^"]+)".* = 0$', re.MULTILINE)


def deployed_app(root: Path, resolved: settings.Settings) -> Path:
    app = root / "app"
    render.write_tree(plan.with_jwks(render.render(resolved, dict(SECRETS)), KEY_FILE), app)
    return app


def probe_of(revision: str):
    """postgrest_stack/probe.py as of ``revision``, imported beside the working tree's."""
    source = subprocess.run(["git", "show", f"{revision}:postgrest_stack/probe.py"], cwd=ROOT, check=True,
                            capture_output=True, text=True).stdout
    spec = importlib.util.spec_from_loader(f"postgrest_stack._probe_{revision}", loader=None)
    module = importlib.util.module_from_spec(spec)
    module.__package__ = "postgrest_stack"
    sys.modules[spec.name] = module  # dataclasses look their module up there
    exec(compile(source, f"{revision}:postgrest_stack/probe.py", "exec"), module.__dict__)  # noqa: S102
    return module


def script(module, app: Path, resolved: settings.Settings) -> str:
    """The probe a deploy runs for these settings, whichever arguments ``module`` takes."""
    arguments = dict(app_dir=str(app), stack_name=STACK, admin_port=resolved.postgrest_admin_port,
                     secret_files=layout.KEYED_FILES)
    pgrst = versions.profile(resolved.postgrest_version)
    if "postgrest_version" in inspect.signature(module.command).parameters:
        arguments["postgrest_version"] = resolved.postgrest_version
    elif pgrst.ready_check == "container":
        arguments["ready_in_container"] = pgrst.ready_argv
    return module.command(**arguments)


def count(command: str, stand_ins: Path, logs: Path) -> tuple[int, collections.Counter, list[str]]:
    """Run ``command`` under strace: the processes it created (one log file each, the
    probe's own shell aside), the programs they ran by name, and the probe's output."""
    logs.mkdir()
    env = {**os.environ, "PATH": f"{stand_ins}:{os.environ['PATH']}"}
    done = subprocess.run(["strace", "-f", "-ff", "-qq", "-e", "trace=execve", "-o", str(logs / "pid"),
                           "sh", "-c", command], env=env, capture_output=True, text=True, timeout=120)
    if done.returncode != 0:
        sys.exit(f"the probe failed: {done.stderr}")
    per_process = [path.read_text() for path in logs.iterdir()]
    programs = collections.Counter(Path(name).name for text in per_process for name in EXECUTED.findall(text))
    programs["sh"] -= 1  # the probe's own shell
    return len(per_process) - 1, +programs, done.stdout.splitlines()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--before", default=BEFORE, help=f"the revision to compare with (default {BEFORE})")
    parser.add_argument("--postgrest", default=versions.TESTED_RELEASE,
                        help="the PostgREST release (14+: readiness by `postgrest --ready` in the container)")
    args = parser.parse_args()
    if not shutil.which("strace"):
        sys.exit("strace is needed: apt-get install -y strace")
    resolved = settings.resolve(dict(group_defaults(), auth0_domain="tenant.eu.auth0.com",
                                     jwt_audience="https://api.example.com", stack_name=STACK,
                                     postgrest_image=f"postgrest/postgrest:v{args.postgrest}"))
    with tempfile.TemporaryDirectory(prefix="probe-processes-") as tmp:
        root = Path(tmp)
        app = deployed_app(root, resolved)
        stand_ins = root / "stand-ins"
        stand_ins.mkdir()
        for name, text in (("docker", DOCKER), ("curl", CURL)):
            (stand_ins / name).write_text(text)
            (stand_ins / name).chmod(0o755)
        files = sum(1 for path in app.rglob("*") if path.is_file())
        print(f"app_dir: {files} files (PostgREST {args.postgrest}, docker and curl: stand-ins)")
        for label, module in ((args.before, probe_of(args.before)), ("working tree", probe)):
            created, programs, output = count(script(module, app, resolved), stand_ins, root / f"strace-{label.replace(' ', '-')}")
            assert any(line.startswith("ready ") for line in output), output
            run = ", ".join(f"{name} {n}" for name, n in sorted(programs.items(), key=lambda item: (-item[1], item[0])))
            print(f"{label:>13}: {created:3d} processes created, {sum(programs.values()):3d} programs run ({run})")


if __name__ == "__main__":
    main()
