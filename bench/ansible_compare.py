"""Benchmark: a no-change rerun of deploy.py beside Ansible doing the equivalent checks (issue 24).

One host (the e2e harness: sshd on loopback, the stack on this machine's Docker, an
Auth0 stand-in for the JWKS), deployed once. Then the same target over the same SSH:

- pyinfra: ``pyinfra -y INVENTORY deploy.py``, the command the e2e harness runs;
- Ansible: a playbook doing what such a rerun checks: no facts gathered; each directory
  of the app_dir with its mode and owner (``ansible.builtin.file``), each file of
  ``python -m postgrest_stack render`` (and the key file the deploy wrote) with its
  bytes, mode and owner (``ansible.builtin.copy``, as a role would), the containers
  running (``compose ps -q``, ``changed_when: false``) and PostgREST's /ready
  (``ansible.builtin.uri``). Ansible is tuned as it would be in production: pipelining
  on, and OpenSSH's ControlMaster with ControlPersist, so its connection is reused
  across tasks and across the timed runs (pyinfra opens its connection on every run).

The pyinfra rerun also checks what this playbook leaves out (the SQL digest recorded in
the database, the image IDs, the record of what the services loaded): the comparison
leaves Ansible the lighter work. The runs alternate (pyinfra, Ansible, pyinfra, ...)
after one untimed run of each (Ansible's converges: it must change nothing), so a
drift of the machine's speed falls on both. Prints each side's min, median and max,
the ratio of medians and the pairwise ratios, each side's remote commands (sessions in
the target's sshd log) and the machine's load average: on a loaded machine Ansible's
many short processes suffer more than pyinfra's one probe, so quote the ratio with it.
Asserts only that every run changes nothing, never a time.

Ansible (ansible-core from PyPI) lives in its own virtualenv, build/ansible-venv,
made on first use. Needs what the end-to-end tests need (`make images`). Run:
.venv/bin/python bench/ansible_compare.py [--runs N]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shlex
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.reruns import remote_commands  # noqa: E402
from postgrest_stack import layout  # noqa: E402
from tests.e2e.harness import Target, _environment, write_inventory  # noqa: E402
from tests.harness.auth0 import JwksEndpoint, Tenant  # noqa: E402

VENV = ROOT / "build" / "ansible-venv"
PLAYBOOK = VENV / "bin" / "ansible-playbook"
_RECAP = re.compile(r"^(?P<host>\S+)\s+:\s+ok=(?P<ok>\d+)\s+changed=(?P<changed>\d+)\s+unreachable=(?P<unreachable>\d+)"
                    r"\s+failed=(?P<failed>\d+)", re.MULTILINE)


def ensure_ansible() -> str:
    """ansible-core in build/ansible-venv (made when missing); its version line."""
    if not PLAYBOOK.exists():
        print(f"making {VENV} and installing ansible-core from PyPI", flush=True)
        subprocess.run([sys.executable, "-m", "venv", str(VENV)], check=True)
        subprocess.run([str(VENV / "bin" / "pip"), "install", "--quiet", "ansible-core"], check=True)
    done = subprocess.run([str(PLAYBOOK), "--version"], capture_output=True, text=True, check=True)
    return done.stdout.splitlines()[0]


def render_files(target: Target) -> Path:
    """The files ``target`` receives (``python -m postgrest_stack render``), plus the key
    file the deploy wrote from the tenant (render does not fetch the JWKS)."""
    out = target.workdir / "rendered"
    subprocess.run([sys.executable, "-m", "postgrest_stack", "render", str(write_inventory([target])),
                    "--host", target.name, "--out", str(out)], cwd=ROOT, env=_environment([target], None),
                   check=True, capture_output=True, timeout=120)
    (out / layout.JWKS_FILE).write_bytes((target.app_dir / layout.JWKS_FILE).read_bytes())
    return out


def ansible_setup(target: Target, rendered: Path, services: int) -> tuple[Path, Path, Path]:
    """ansible.cfg, inventory and playbook for ``target`` in its workdir (JSON is YAML)."""
    folder = target.workdir / "ansible"
    (folder / "cp").mkdir(parents=True, exist_ok=True)
    conn = target.connection_data()
    app_dir = str(target.app_dir)
    config = folder / "ansible.cfg"
    config.write_text(
        "[defaults]\n"
        "host_key_checking = True\n"
        "interpreter_python = /usr/bin/python3\n"
        "retry_files_enabled = False\n"
        "[ssh_connection]\n"
        "pipelining = True\n"
        "ssh_args = -C -o ControlMaster=auto -o ControlPersist=120s\n"
        f"control_path_dir = {folder / 'cp'}\n")
    inventory = folder / "inventory.json"
    options = ["-F", conn["ssh_config_file"], "-o", f"UserKnownHostsFile={conn['ssh_known_hosts_file']}",
               "-o", "StrictHostKeyChecking=yes", "-o", "IdentitiesOnly=yes"]
    inventory.write_text(json.dumps({"all": {"hosts": {target.name: {
        "ansible_host": "127.0.0.1", "ansible_port": conn["ssh_port"], "ansible_user": conn["ssh_user"],
        "ansible_ssh_private_key_file": conn["ssh_key"],
        "ansible_ssh_common_args": shlex.join(options)}}}}, indent=2))
    files = sorted(str(path.relative_to(rendered)) for path in rendered.rglob("*") if path.is_file())
    directories = sorted({str(Path(name).parent) for name in files} | {"."})
    dir_items = [{"path": os.path.normpath(os.path.join(app_dir, name)), "mode": f"0{mode:o}", "owner": str(uid)}
                 for name, (mode, uid) in layout.DIRECTORIES.items() if name in directories]
    file_items = []
    for name in files:
        row = layout.row(name)
        file_items.append({"src": str(rendered / name), "dest": os.path.join(app_dir, name),
                           "mode": f"0{row.mode:o}", "owner": str(row.owner), "secret": row.secret})
    playbook = folder / "playbook.json"
    playbook.write_text(json.dumps([{
        "name": "PostgREST stack (no-change check)",
        "hosts": "all",
        "gather_facts": False,
        "tasks": [
            {"name": "app_dir directories", "ansible.builtin.file": {
                "path": "{{ item.path }}", "state": "directory", "mode": "{{ item.mode }}",
                "owner": "{{ item.owner }}", "group": "0"},
             "loop": dir_items, "loop_control": {"label": "{{ item.path }}"}},
            {"name": "rendered files", "ansible.builtin.copy": {
                "src": "{{ item.src }}", "dest": "{{ item.dest }}", "mode": "{{ item.mode }}",
                "owner": "{{ item.owner }}", "group": "0"},
             "loop": file_items, "loop_control": {"label": "{{ item.dest }}"},
             "no_log": "{{ item.secret }}"},
            {"name": "containers running", "ansible.builtin.command": f"{shlex.quote(app_dir)}/bin/compose ps -q",
             "register": "ps", "changed_when": False,
             "failed_when": f"ps.rc != 0 or ps.stdout_lines | length != {services}"},
            {"name": "PostgREST ready", "ansible.builtin.uri": {
                "url": f"http://127.0.0.1:{target.data['postgrest_admin_port']}/ready", "status_code": 200}},
        ],
    }], indent=2))
    return config, inventory, playbook


def run_ansible(target: Target, config: Path, inventory: Path, playbook: Path) -> tuple[float, int, int, str]:
    """One ``ansible-playbook`` run: its duration, the changed count of its recap, its
    remote commands (each exec over the shared connection is a session of its own) and its output."""
    offset = len(target.sshd.log())
    env = {**os.environ, "ANSIBLE_CONFIG": str(config), "ANSIBLE_NOCOLOR": "1"}
    started = time.monotonic()
    done = subprocess.run([str(PLAYBOOK), "-i", str(inventory), str(playbook)], env=env, capture_output=True,
                          text=True, timeout=600, stdin=subprocess.DEVNULL)
    duration = time.monotonic() - started
    output = done.stdout + done.stderr
    recap = _RECAP.search(output)
    assert done.returncode == 0 and recap and recap["failed"] == "0" and recap["unreachable"] == "0", output[-6000:]
    return duration, int(recap["changed"]), remote_commands(target, offset), output


def close_connections(target: Target) -> None:
    """End the SSH master connections ControlPersist keeps (they would outlive the target)."""
    for socket in (target.workdir / "ansible" / "cp").glob("*"):
        subprocess.run(["ssh", "-o", f"ControlPath={socket}", "-O", "exit", "127.0.0.1"], capture_output=True,
                       timeout=30, stdin=subprocess.DEVNULL)


def run_pyinfra(target: Target) -> tuple[float, int]:
    """One ``pyinfra -y INVENTORY deploy.py``: its duration and remote commands; it must change nothing."""
    offset = len(target.sshd.log())
    started = time.monotonic()
    run = target.deploy().check()
    duration = time.monotonic() - started
    assert run.changed == [], run.changed
    return duration, remote_commands(target, offset)


def spread(values: list[float]) -> str:
    return f"min {min(values):6.2f}  median {statistics.median(values):6.2f}  max {max(values):6.2f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5, help="timed no-change runs of each (default 5)")
    args = parser.parse_args()
    version = ensure_ansible()
    tenant = Tenant.with_keys(("k1", "k2"), published=("k1", "k2"))
    with JwksEndpoint(tenant) as endpoint:
        target = Target.create("ansiblebench", endpoint.url)
        try:
            target.deploy().check()
            services = len(target.containers())
            config, inventory, playbook = ansible_setup(target, render_files(target), services)
            # Untimed: pyinfra's first rerun, and Ansible's converge (the files already match).
            run_pyinfra(target)
            _, changed, _, output = run_ansible(target, config, inventory, playbook)
            assert changed == 0, f"Ansible's converge changed {changed} (the deploy's files should match):\n{output}"
            ours, theirs, commands, their_commands = [], [], [], []
            load_before = os.getloadavg()[0]
            for _ in range(args.runs):
                duration, count = run_pyinfra(target)
                ours.append(duration)
                commands.append(count)
                duration, changed, count, output = run_ansible(target, config, inventory, playbook)
                assert changed == 0, f"an Ansible no-change run changed {changed}:\n{output}"
                theirs.append(duration)
                their_commands.append(count)
            load_after = os.getloadavg()[0]
            file_count = sum(1 for path in (target.workdir / "rendered").rglob("*") if path.is_file())
        finally:
            close_connections(target)
            target.destroy()
    print(f"{version}; pipelining on, ControlPersist 120s; one loopback SSH target, {services} containers, "
          f"{file_count} files")
    print(f"pyinfra no-change rerun ({len(ours)} runs):       {spread(ours)} s")
    print(f"ansible-playbook no-change run ({len(theirs)} runs): {spread(theirs)} s")
    print(f"ratio of medians pyinfra/Ansible:           {statistics.median(ours) / statistics.median(theirs):.3f}x")
    pairs = [a / b for a, b in zip(ours, theirs, strict=True)]
    print(f"pairwise ratios pyinfra/Ansible:            {spread(pairs)}")
    print(f"remote commands of a run:                   pyinfra {max(commands)} (min {min(commands)}), "
          f"Ansible {max(their_commands)} (min {min(their_commands)})")
    print(f"load average (1 min) before/after the timed runs: {load_before:.2f} / {load_after:.2f} "
          f"on {os.cpu_count()} CPUs")


if __name__ == "__main__":
    main()
