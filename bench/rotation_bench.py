"""Benchmark: a key rotation's wall time, and failed requests during it, reload vs restart.

Under the same client loop (authenticated GETs with a key present before and after),
it rotates {k1, k2} -> {k2, k3} with `rotate_keys.py` (write + SIGUSR2), then
{k2, k3} -> {k3, k4} the way the original tutorial setup did: replace the file and
`restart` the PostgREST container. Prints figures; asserts nothing.
Needs what the end-to-end tests need (`make images`).
Run: .venv/bin/python bench/rotation_bench.py
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import requests

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from postgrest_stack import key_proof, settings  # noqa: E402
from postgrest_stack.atomic_write import write_atomic  # noqa: E402
from tests.e2e.harness import Target, bearer, run_pyinfra  # noqa: E402
from tests.harness.auth0 import JwksEndpoint, Tenant  # noqa: E402
from tests.harness.load import RequestLoop  # noqa: E402
from tests.unit.conftest import group_defaults  # noqa: E402

AUDIENCE, ISSUER = "https://api.example.com", "https://tenant.eu.auth0.com/"


def main() -> None:
    tenant = Tenant.with_keys(("k1", "k2", "k3", "k4"), published=("k1", "k2"))

    def tok(key):
        return tenant.token(key, audience=AUDIENCE, issuer=ISSUER, role_claim="https://postgrest-demo.de/role",
                            role="api_user")

    with JwksEndpoint(tenant) as endpoint:
        target = Target.create("bench-rot", endpoint.url)
        try:
            print("deploying...", file=sys.stderr)
            target.deploy().check()
            url = f"{target.api}/todos"

            # Where a rotation's time goes: pyinfra itself (start, connect, the one probe,
            # the JWKS fetch: a run with nothing to rotate), then the host-side steps.
            breakdown = {}
            started = time.monotonic()
            run_pyinfra([target], "rotate_keys.py").check()
            breakdown["pyinfra start + connect + probe + JWKS (no-op run)"] = time.monotonic() - started
            resolved = settings.resolve({**group_defaults(), **target.data})
            proof = key_proof.stdin_for(key_proof.forged_tokens(
                (target.app_dir / "postgrest/jwks.json").read_bytes(), resolved))
            for label, argv, stdin in (("bin/reload-postgrest (SIGUSR2, Config reloaded, /ready)",
                                        [str(target.app_dir / "bin/reload-postgrest")], None),
                                       ("bin/prove-keys (2 rounds)", ["sh", str(target.app_dir / "bin/prove-keys")], proof),
                                       ("one SSH command", target.sshd.ssh_command("true"), None)):
                started = time.monotonic()
                subprocess.run(argv, input=stdin, text=True, check=True, capture_output=True)
                breakdown[label] = time.monotonic() - started

            tenant.publish("k2", "k3")
            with RequestLoop([url], bearer(tok("k2"))) as reload_loop:
                time.sleep(0.5)
                started = time.monotonic()
                run_pyinfra([target], "rotate_keys.py").check()
                reload_seconds = time.monotonic() - started
            print(f"rotated by reload in {reload_seconds:.2f} s", file=sys.stderr)

            tenant.publish("k3", "k4")
            with RequestLoop([url], bearer(tok("k3"))) as restart_loop:
                time.sleep(0.5)
                started = time.monotonic()
                key_file = target.app_dir / "postgrest/jwks.json"
                write_atomic(key_file, tenant.key_file(), mode=0o600)
                os.chown(key_file, 1000, 0)  # PostgREST runs as uid 1000
                subprocess.run([str(target.app_dir / "bin/compose"), "restart", "postgrest"], check=True,
                               capture_output=True)
                deadline = time.monotonic() + 120
                while time.monotonic() < deadline:
                    try:
                        if target.ready() == 200:
                            break
                    except requests.RequestException:
                        pass
                    time.sleep(0.2)
                restart_seconds = time.monotonic() - started
        finally:
            target.destroy()

    print("where a rotation's time goes (one host):")
    for label, seconds in breakdown.items():
        print(f"  {label:<58}{seconds:>6.2f}s")
    print(f"{'method':<28}{'wall time':>10}{'requests':>10}{'failed':>8}")
    for label, seconds, loop in (("rotate_keys.py (SIGUSR2)", reload_seconds, reload_loop),
                                 ("file + container restart", restart_seconds, restart_loop)):
        print(f"{label:<28}{seconds:>9.2f}s{len(loop.answers):>10}{len(loop.failures()):>8}")


if __name__ == "__main__":
    main()
