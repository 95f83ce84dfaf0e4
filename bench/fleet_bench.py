"""Benchmark: a no-change rerun over a fleet of production-shaped hosts, 1 to 10 api hosts.

One db host plus N api hosts (systemd Debian 12 containers, `deploy` login with sudo,
Docker installed by the first deploy, images carried from the controller). The fleet
grows 1 -> 5 -> 10 api hosts; after each first deploy it times no-change reruns of the
whole inventory and counts the remote commands they run (pyinfra -vvv prints each one).
Prints figures; asserts nothing but that the reruns change nothing. Aim: at most 1.5x
from 1 to 10 api hosts.

Needs what `make test` installs. Takes several minutes (Docker is installed on each
new host). Run: .venv/bin/python bench/fleet_bench.py [--reruns N] [--sizes 1,5,10]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.e2e.harness import run_pyinfra  # noqa: E402
from tests.fleet.test_production_hosts import FleetTarget  # noqa: E402
from tests.harness.auth0 import JwksEndpoint, Tenant  # noqa: E402
from tests.harness.testhosts import TestHostFleet, ensure_image  # noqa: E402


def target(fleet, name: str, group: str, endpoint) -> FleetTarget:
    host = fleet[name]
    return FleetTarget(name, host, group, data={
        "auth0_domain": "tenant.eu.auth0.com", "jwt_audience": "https://api.example.com",
        "jwks_url": endpoint.url, "docker_install": "distro", "apt_proxy": fleet.apt_proxy,
        "image_source": "controller", "db_bind": fleet["db1"].address, "db_host": fleet["db1"].address,
        "postgrest_bind": host.address,
    })


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reruns", type=int, default=3)
    parser.add_argument("--sizes", default="1,5,10")
    args = parser.parse_args()
    sizes = [int(n) for n in args.sizes.split(",")]
    tenant = Tenant.with_keys(("k1",), published=("k1",))
    figures: dict[int, tuple[float, int, float]] = {}
    with JwksEndpoint(tenant) as endpoint, TestHostFleet(image=ensure_image()) as fleet:
        fleet.add_host("db1")
        targets = [target(fleet, "db1", "db", endpoint)]
        for size in sizes:
            names = [f"api{i}" for i in range(len(targets), size + 1)]
            fleet.add_hosts(names)
            targets += [target(fleet, name, "api", endpoint) for name in names]
            started = time.monotonic()
            run_pyinfra(targets, "deploy.py").check()
            first = time.monotonic() - started
            walls, commands = [], []
            for _ in range(args.reruns):
                started = time.monotonic()
                run = run_pyinfra(targets, "deploy.py", "-vvv").check()
                walls.append(time.monotonic() - started)
                assert run.changed == [], run.changed
                commands.append(sum(1 for line in run.output.splitlines() if ">>> " in line))
            figures[size] = (statistics.median(walls), max(commands), first)
            print(f"{size:2d} api hosts (+1 db): first deploy of the new hosts {first:6.1f} s; no-change rerun "
                  f"median {figures[size][0]:5.2f} s over {args.reruns}, remote commands {figures[size][1]} "
                  f"({figures[size][1] / (size + 1):.1f} per host)", flush=True)
    if 1 in figures and 10 in figures:
        print(f"no-change rerun, 10 api hosts / 1 api host: {figures[10][0] / figures[1][0]:.2f}x wall time "
              f"(aim: at most 1.5x)")


if __name__ == "__main__":
    main()
