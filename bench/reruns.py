"""What the deploy benches share: timing no-change reruns and counting their remote commands."""

from __future__ import annotations

import time

from tests.e2e.harness import Target


def remote_commands(target: Target, since: int) -> int:
    """Commands the sshd ran since log offset ``since`` (one per exec channel)."""
    return target.sshd.log()[since:].count("Starting session: command")


def no_change_reruns(target: Target, count: int) -> tuple[list[float], list[int]]:
    """``count`` deploys that must change nothing: their durations and remote commands."""
    durations, commands = [], []
    for _ in range(count):
        offset = len(target.sshd.log())
        started = time.monotonic()
        run = target.deploy().check()
        durations.append(time.monotonic() - started)
        commands.append(remote_commands(target, offset))
        assert run.changed == [], run.changed
    return durations, commands
