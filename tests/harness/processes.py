"""Helpers for the local servers the tests start (PostgREST, Caddy)."""

from __future__ import annotations

import subprocess

STOP_TIMEOUT = 10  # seconds


def stop(process: subprocess.Popen | None, timeout: float = STOP_TIMEOUT) -> None:
    """SIGTERM, a bounded wait, then SIGKILL. Safe to call twice, or before a start."""
    if process is None or process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
