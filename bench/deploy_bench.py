"""Benchmark: first deploy, no-change rerun, and remote commands of a no-change rerun.

Prints figures for this machine; it asserts nothing (speed goals live here, not in tests).
Needs what the end-to-end tests need (`make images`): a Docker engine, the pinned
images, sshd. Run: .venv/bin/python bench/deploy_bench.py [--reruns N]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.reruns import no_change_reruns, remote_commands  # noqa: E402
from tests.e2e.harness import Target  # noqa: E402
from tests.harness.auth0 import JwksEndpoint, Tenant  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reruns", type=int, default=3)
    args = parser.parse_args()
    tenant = Tenant.with_keys(("k1",), published=("k1",))
    with JwksEndpoint(tenant) as endpoint:
        target = Target.create("bench", endpoint.url)
        try:
            started = time.monotonic()
            target.deploy().check()
            first = time.monotonic() - started
            first_commands = remote_commands(target, 0)
            reruns, commands = no_change_reruns(target, args.reruns)
        finally:
            target.destroy()
    print(f"first deploy (images present):   {first:6.2f} s")
    print(f"no-change rerun (median of {len(reruns)}):  {statistics.median(reruns):6.2f} s")
    print(f"remote commands, first deploy:    {first_commands}")
    print(f"remote commands, no-change rerun: {max(commands)}")


if __name__ == "__main__":
    main()
