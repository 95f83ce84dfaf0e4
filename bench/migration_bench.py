"""Benchmark: the operator's migrations through real deploys (issue 20).

One host (the e2e harness: sshd on loopback, the stack on this machine's Docker). Times
a deploy applying 1 small migration, then one applying 50 more, then no-change reruns
with 200 applied (after a deploy applying the remaining 149), and counts the remote
commands of such a rerun (the probe reads one digest of the ledger: one command).
Prints figures; asserts only that the reruns change nothing.

Needs what the end-to-end tests need (`make images`). Run:
.venv/bin/python bench/migration_bench.py [--reruns N]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.reruns import no_change_reruns  # noqa: E402
from tests.e2e.harness import Target  # noqa: E402
from tests.harness.auth0 import JwksEndpoint, Tenant  # noqa: E402


def add(folder: Path, first: int, count: int) -> None:
    for version in range(first, first + count):
        (folder / f"{version:04d}_t{version}.sql").write_text(
            f"CREATE TABLE t{version} (id bigint PRIMARY KEY, note text);\nGRANT SELECT ON t{version} TO api_anon;\n")


def timed(target: Target) -> float:
    started = time.monotonic()
    target.deploy().check()
    return time.monotonic() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reruns", type=int, default=3)
    args = parser.parse_args()
    tenant = Tenant.with_keys(("k1",), published=("k1",))
    folder = Path(tempfile.mkdtemp(prefix="migration-bench-"))
    with JwksEndpoint(tenant) as endpoint:
        target = Target.create("migbench", endpoint.url)
        target.data["migrations_dir"] = str(folder)
        try:
            baseline = timed(target)  # the stack, no migration
            add(folder, 1, 1)
            one = timed(target)
            add(folder, 2, 50)
            fifty = timed(target)
            add(folder, 52, 149)
            timed(target)
            reruns, commands = no_change_reruns(target, args.reruns)
        finally:
            target.destroy()
    print(f"first deploy, no migration:            {baseline:6.2f} s")
    print(f"deploy applying 1 migration:           {one:6.2f} s")
    print(f"deploy applying 50 migrations:         {fifty:6.2f} s")
    print(f"no-change rerun, 200 applied (median of {len(reruns)}): {statistics.median(reruns):6.2f} s")
    print(f"remote commands of that rerun:         {max(commands)}")


if __name__ == "__main__":
    main()
