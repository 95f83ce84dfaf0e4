"""The real Caddy 2.6.2 (Debian 12's ``caddy`` package, which the ``caddy:2.6.2`` stand-in
image is built from) run as a local process on loopback, fed a rendered Caddyfile.

The rendered Caddyfile is used as is, except the lines that point at the container world
(the admin endpoint, /etc/caddy, the ``postgrest`` upstream) and three global options
added so that it listens on the test's own ports, on 127.0.0.1 only. Caddy's storage
(its CA, certificates, autosave) goes under the test's directory, never ~/.local.
"""

from __future__ import annotations

import http.client
import os
import shutil
import socket
import ssl
import subprocess
import time
from pathlib import Path

from tests.harness.processes import stop

RELEASE = "2.6.2"  # what Debian's build prints for `caddy version`


def caddy_binary() -> str:
    """Path of the caddy binary, checked to be release 2.6.2."""
    path = shutil.which("caddy")
    if not path:
        raise FileNotFoundError("caddy is missing: apt-get install caddy (Debian 12's package is 2.6.2)")
    version = subprocess.run([path, "version"], capture_output=True, text=True, timeout=30).stdout.strip()
    if version.split()[:1] not in ([RELEASE], [f"v{RELEASE}"]):  # upstream builds print v2.6.2 h1:...
        raise RuntimeError(f"{path} is caddy {version!r}, not {RELEASE}")
    return path


def adapt(caddyfile: Path) -> subprocess.CompletedProcess:
    """``caddy adapt`` of a Caddyfile to JSON (no validation: its files may be a container's)."""
    return subprocess.run([caddy_binary(), "adapt", "--config", str(caddyfile), "--adapter", "caddyfile"],
                          capture_output=True, text=True, timeout=60)


def _replace_once(text: str, old: str, new: str) -> str:
    assert text.count(old) == 1, f"rendered Caddyfile has no single {old!r}"
    return text.replace(old, new)


def local_caddyfile(rendered: str, *, edge_dir: Path, http_port: int, https_port: int, upstream: str) -> str:
    """The rendered Caddyfile pointed at the test's ports, files and upstream."""
    text = _replace_once(rendered, "\tadmin localhost:2019\n",
                         f"\tadmin off\n\thttp_port {http_port}\n\thttps_port {https_port}\n"
                         "\tdefault_bind 127.0.0.1\n")
    text = _replace_once(text, "reverse_proxy postgrest:3000 {", f"reverse_proxy {upstream} {{")
    return text.replace("/etc/caddy/", f"{edge_dir}/")


class CaddyProcess:
    """``caddy run`` of one Caddyfile, its output in a log file beside it."""

    def __init__(self, caddyfile: Path, *, wait_port: int):
        self.caddyfile = Path(caddyfile)
        self.wait_port = wait_port
        self.home = self.caddyfile.parent / "caddy-home"
        self.log_path = self.caddyfile.with_suffix(".log")
        self.process: subprocess.Popen | None = None

    def __enter__(self) -> CaddyProcess:
        self.start()
        try:
            self.wait_listening()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(self, *exc) -> None:
        self.stop()

    def start(self) -> None:
        self.home.mkdir(exist_ok=True)
        env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(self.home),
               "XDG_DATA_HOME": str(self.home / "data"), "XDG_CONFIG_HOME": str(self.home / "config")}
        with open(self.log_path, "ab") as log:
            self.process = subprocess.Popen(
                [caddy_binary(), "run", "--config", str(self.caddyfile), "--adapter", "caddyfile"],
                stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT, env=env, cwd=self.home)

    def wait_listening(self, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"caddy exited with code {self.process.returncode}{self._log_tail()}")
            try:
                socket.create_connection(("127.0.0.1", self.wait_port), timeout=1).close()
                return
            except OSError:
                time.sleep(0.1)
        raise TimeoutError(f"caddy not listening on 127.0.0.1:{self.wait_port} after {timeout}s{self._log_tail()}")

    def stop(self) -> None:
        """SIGTERM, a bounded wait, then SIGKILL. Safe to call twice."""
        stop(self.process)

    def _log_tail(self, lines: int = 30) -> str:
        try:
            tail = "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except FileNotFoundError:
            tail = ""
        return f"\n--- caddy log tail ({self.log_path}) ---\n{tail}"


def get_with_authorizations(address: str, port: int, hostname: str, ca_file: Path, path: str,
                            authorization: list[str]) -> tuple[int, bytes]:
    """GET ``path`` over HTTPS (HTTP/1.1) at ``address:port`` for ``hostname``, each value
    its own Authorization header (requests would merge repeated headers into one)."""
    context = ssl.create_default_context(cafile=str(ca_file))
    raw = socket.create_connection((address, port), timeout=10)
    connection = http.client.HTTPConnection(hostname, port, timeout=10)
    connection.sock = context.wrap_socket(raw, server_hostname=hostname)
    try:
        connection.putrequest("GET", path)
        for value in authorization:
            connection.putheader("Authorization", value)
        connection.endheaders()
        response = connection.getresponse()
        return response.status, response.read()
    finally:
        connection.close()
