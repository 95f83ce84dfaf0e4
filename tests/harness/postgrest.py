"""The real PostgREST binary run as a local process for contract tests.

The caller writes a PostgREST config file (server-host, server-port,
admin-server-port, db-uri, ...) and passes its path and the two ports here.
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path

import requests

from tests.harness.processes import stop

PROJECT_ROOT = Path(__file__).resolve().parents[2]


def postgrest_binary() -> Path:
    """Path of the PostgREST binary that scripts/install-postgrest.sh installs."""
    path = PROJECT_ROOT / "build" / "bin" / "postgrest"
    if not os.access(path, os.X_OK):
        raise FileNotFoundError(
            f"{path} is missing: run scripts/install-postgrest.sh first"
        )
    return path


class PostgrestProcess:
    """`postgrest CONFIG` as a subprocess, its output going to a log file."""

    def __init__(self, config_path: str | os.PathLike, *, server_port: int,
                 admin_port: int, host: str = "127.0.0.1",
                 log_path: str | os.PathLike | None = None,
                 env: dict[str, str] | None = None):
        self.config_path = Path(config_path)
        self.server_port = server_port
        self.admin_port = admin_port
        self.host = host
        self.log_path = Path(log_path) if log_path else self.config_path.with_suffix(".log")
        self.extra_env = env or {}
        self.process: subprocess.Popen | None = None

    def __enter__(self) -> PostgrestProcess:
        self.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop()

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.server_port}"

    @property
    def admin_url(self) -> str:
        return f"http://{self.host}:{self.admin_port}"

    def start(self) -> None:
        # PGRST_* variables override the config file: keep the caller's shell
        # environment from changing what the test configured.
        env = {k: v for k, v in os.environ.items() if not k.startswith("PGRST_")}
        env.update(self.extra_env)
        with open(self.log_path, "ab") as log:
            self.process = subprocess.Popen(
                [postgrest_binary(), self.config_path],
                stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                env=env,
            )

    def wait_ready(self, timeout: float = 30) -> None:
        """Poll the admin /ready until it answers 200; raise with the log tail otherwise."""
        deadline = time.monotonic() + timeout
        last = "no answer"
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(
                    f"postgrest exited with code {self.process.returncode} "
                    f"before it was ready{self._log_tail()}"
                )
            try:
                # Short timeout: while the database is unreachable the admin
                # port accepts connections but never answers.
                response = requests.get(f"{self.admin_url}/ready", timeout=1)
                if response.status_code == 200:
                    return
                last = f"HTTP {response.status_code}"
            except requests.RequestException as exc:
                last = type(exc).__name__
            time.sleep(0.1)
        raise TimeoutError(
            f"postgrest not ready on {self.admin_url}/ready after {timeout}s "
            f"(last: {last}){self._log_tail()}"
        )

    def reload(self) -> None:
        """Ask PostgREST to re-read its config (and @files) and schema cache."""
        self.process.send_signal(signal.SIGUSR2)

    def log_text(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")
        except FileNotFoundError:
            return ""

    def stop(self) -> None:
        """SIGTERM, a bounded wait, then SIGKILL. Safe to call twice."""
        stop(self.process)

    def _log_tail(self, lines: int = 40) -> str:
        tail = "\n".join(self.log_text().splitlines()[-lines:])
        return f"\n--- postgrest log tail ({self.log_path}) ---\n{tail}"
