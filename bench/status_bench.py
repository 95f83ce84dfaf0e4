"""Benchmark: `status` on a healthy 3-host fleet against a no-change deploy of the same fleet.

Prints figures for this machine; it asserts nothing beyond a healthy fleet (speed goals
live here, not in tests). Needs what the end-to-end tests need (`make images`): a Docker
engine, the pinned images, sshd. Three loopback sshd targets, each with its own stack.
Run: .venv/bin/python bench/status_bench.py [--runs N]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.e2e.harness import Target, run_pyinfra, run_status, stand_in_backup  # noqa: E402
from tests.harness.auth0 import JwksEndpoint, Tenant  # noqa: E402


def remote_commands(targets: list[Target], since: list[int]) -> int:
    """Commands the targets' sshd ran since the given log offsets (one per exec channel)."""
    return sum(t.sshd.log()[offset:].count("Starting session: command") for t, offset in zip(targets, since, strict=True))


def timed(targets: list[Target], run) -> tuple[float, int]:
    offsets = [len(t.sshd.log()) for t in targets]
    started = time.monotonic()
    run()
    return time.monotonic() - started, remote_commands(targets, offsets)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    tenant = Tenant.with_keys(("k1", "k2"), published=("k1", "k2"))
    with JwksEndpoint(tenant) as endpoint:
        targets = [Target.create(f"bench-st{i}", endpoint.url) for i in range(1, 4)]
        try:
            run_pyinfra(targets, "deploy.py").check()
            for target in targets:
                stand_in_backup(target)  # a db host without a recent backup is drift
            deploys, statuses = [], []
            for _ in range(args.runs):
                deploys.append(timed(targets, lambda: run_pyinfra(targets, "deploy.py").check()))
                statuses.append(timed(targets, lambda: _healthy(run_status(targets))))
        finally:
            for target in targets:
                target.destroy()
    print(f"fleet: {len(targets)} hosts (loopback sshd, one stack each)")
    print(f"no-change deploy (median of {args.runs}): {statistics.median(d for d, _ in deploys):6.2f} s, "
          f"{max(c for _, c in deploys)} remote commands")
    print(f"status           (median of {args.runs}): {statistics.median(d for d, _ in statuses):6.2f} s, "
          f"{max(c for _, c in statuses)} remote commands")


def _healthy(run):
    assert run.returncode == 0, run.output
    return run


if __name__ == "__main__":
    main()
