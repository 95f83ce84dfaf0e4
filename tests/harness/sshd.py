"""A real OpenSSH server for tests: ``SshdHost``.

Each instance runs its own ``/usr/sbin/sshd -D -e -f <tmp>/sshd_config`` with a
fresh ed25519 host key and a fresh ed25519 client key, both generated into a
private temporary directory. Login is by that key only (``PermitRootLogin
prohibit-password``, ``PasswordAuthentication no``, ``UsePAM no``). The host
key is written to a private known_hosts file, so pyinfra can verify it with
strict checking instead of switching checking off (and ~/.ssh/known_hosts is
never touched).

    with SshdHost() as h:
        data = h.pyinfra_host_data()       # ssh_hostname, ssh_port, ssh_key, ...
        subprocess.run(h.ssh_command("echo", "hi"), check=True)

``SshdHost(netns="h1", address="10.99.0.2")`` runs the server inside an
existing network namespace (``ip netns exec``), listening on that address on
port 22 by default; creating the namespace and its links is the caller's job.

Plain stdlib; no pytest needed. Needs openssh-server (sshd, ssh-keygen,
sftp-server) and, for ``ssh_command``, openssh-client.
"""

from __future__ import annotations

import atexit
import getpass
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path

from tests.harness.ports import free_port

SSHD = "/usr/sbin/sshd"
SFTP_SERVER = "/usr/lib/openssh/sftp-server"
PRIVSEP_DIR = "/run/sshd"  # sshd refuses to start without it


def _keygen(path: Path, comment: str) -> None:
    subprocess.run(
        ["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", comment, "-f", str(path)],
        check=True,
        stdin=subprocess.DEVNULL,
    )


class SshdError(RuntimeError):
    pass


class SshdHost:
    """A running sshd on ``host``:``port`` that accepts ``user`` with ``key_path``.

    Args:
        address: address to listen on (default 127.0.0.1).
        port: port to listen on (default: a free port; 22 inside a netns).
        user: the login user (default: the current user, i.e. root in CI).
            Without root, sshd can only log in the user it runs as.
        netns: name of an existing network namespace to run sshd in.
        start: start at construction (default True).
        startup_timeout: seconds to wait for sshd to listen.
        extra_config: more sshd_config lines (e.g. ``SetEnv PATH=...``).
    """

    def __init__(
        self,
        address: str = "127.0.0.1",
        port: int | None = None,
        user: str | None = None,
        netns: str | None = None,
        start: bool = True,
        startup_timeout: float = 15.0,
        extra_config: list[str] | None = None,
    ) -> None:
        self.host = address
        self.extra_config = list(extra_config or [])
        self.netns = netns
        self._fixed_port = port
        self.port: int = port or (22 if netns else 0)
        self.user = user or getpass.getuser()
        self.startup_timeout = startup_timeout
        self.dir = Path(tempfile.mkdtemp(prefix="sshd-harness-"))
        os.chmod(self.dir, 0o700)
        self.key_path = str(self.dir / "id_ed25519")
        self.host_key_path = str(self.dir / "ssh_host_ed25519_key")
        self.known_hosts_path = str(self.dir / "known_hosts")
        self.ssh_config_path = str(self.dir / "ssh_config")  # empty: isolates from ~/.ssh/config
        self.config_path = str(self.dir / "sshd_config")
        self.log_path = str(self.dir / "sshd.log")
        self.pid_path = str(self.dir / "sshd.pid")
        self.proc: subprocess.Popen | None = None
        self._log_file = None

        _keygen(Path(self.host_key_path), "sshd-harness-host")
        _keygen(Path(self.key_path), "sshd-harness-client")
        shutil.copyfile(self.key_path + ".pub", self.dir / "authorized_keys")
        os.chmod(self.dir / "authorized_keys", 0o600)
        Path(self.ssh_config_path).write_text("")
        if start:
            try:
                self.start()
            except BaseException:
                self.stop()  # the error carries the log; drop the tmp dir
                raise

    # ------------------------------------------------------------------ server
    def _write_config(self) -> None:
        Path(self.config_path).write_text(
            "\n".join(
                [
                    f"ListenAddress {self.host}",
                    f"Port {self.port}",
                    f"HostKey {self.host_key_path}",
                    f"PidFile {self.pid_path}",
                    f"AuthorizedKeysFile {self.dir}/authorized_keys",
                    "PermitRootLogin prohibit-password",
                    "PubkeyAuthentication yes",
                    "PasswordAuthentication no",
                    "KbdInteractiveAuthentication no",
                    "UsePAM no",
                    # the key files live in a tmp dir, not under the user's home
                    "StrictModes no",
                    f"AllowUsers {self.user}",
                    "X11Forwarding no",
                    "PrintMotd no",
                    "UseDNS no",
                    "LogLevel VERBOSE",
                    "MaxStartups 100",
                    "MaxSessions 100",
                    # pyinfra uploads files over SFTP by default
                    f"Subsystem sftp {SFTP_SERVER}",
                    *self.extra_config,
                    "",
                ]
            )
        )
        # the known_hosts line pyinfra/paramiko and ssh look up
        host_pub = Path(self.host_key_path + ".pub").read_text().split()
        name = self.host if self.port == 22 else f"[{self.host}]:{self.port}"
        Path(self.known_hosts_path).write_text(f"{name} {host_pub[0]} {host_pub[1]}\n")

    def start(self) -> "SshdHost":
        if self.running:
            return self
        try:
            os.makedirs(PRIVSEP_DIR, mode=0o755, exist_ok=True)
        except PermissionError:
            pass
        attempts = 1 if (self._fixed_port or self.netns) else 5
        last = ""
        for _ in range(attempts):
            if not (self._fixed_port or self.netns):
                self.port = free_port(self.host)
            self._write_config()
            cmd = [SSHD, "-D", "-e", "-f", self.config_path]
            if self.netns:
                cmd = ["ip", "netns", "exec", self.netns] + cmd
            self._log_file = open(self.log_path, "ab")
            self.proc = subprocess.Popen(
                cmd,
                stdin=subprocess.DEVNULL,
                stdout=self._log_file,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # own process group: stop() ends sessions too
            )
            if self._wait_listening():
                atexit.register(self.stop)
                return self
            last = self.log()
            self._kill()
        raise SshdError(f"sshd did not start on {self.host}:{self.port}:\n{last}")

    def _wait_listening(self) -> bool:
        deadline = time.monotonic() + self.startup_timeout
        marker = f"Server listening on {self.host} port {self.port}"
        while time.monotonic() < deadline:
            if self.proc is None or self.proc.poll() is not None:
                return False
            if marker in self.log():
                # inside a netns the host may have no route to it: the log line is enough
                return True if self.netns else self._banner_ok()
            time.sleep(0.05)
        return False

    def _banner_ok(self) -> bool:
        try:
            with socket.create_connection((self.host, self.port), timeout=3) as s:
                return s.recv(64).startswith(b"SSH-")
        except OSError:
            return False

    def _kill(self) -> None:
        proc, self.proc = self.proc, None
        if proc is not None and proc.poll() is None:
            try:
                os.killpg(proc.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
            try:
                proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                try:
                    os.killpg(proc.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
                proc.wait(timeout=5)
        if self._log_file is not None:
            self._log_file.close()
            self._log_file = None

    def pause(self) -> None:
        """Stop the server (the host is unreachable) but keep its keys: start() resumes it."""
        self._kill()

    def stop(self) -> None:
        """Stop the server (and its sessions) and delete the temporary directory."""
        self._kill()
        try:
            atexit.unregister(self.stop)
        except Exception:
            pass
        shutil.rmtree(self.dir, ignore_errors=True)

    @property
    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def log(self) -> str:
        try:
            return Path(self.log_path).read_text(errors="replace")
        except FileNotFoundError:
            return ""

    def __enter__(self) -> "SshdHost":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    def __repr__(self) -> str:
        where = f" netns={self.netns}" if self.netns else ""
        return f"<SshdHost {self.user}@{self.host}:{self.port}{where} running={self.running}>"

    # ------------------------------------------------------------------ clients
    def pyinfra_host_data(self) -> dict:
        """Host data for a pyinfra inventory entry (any inventory name works,
        ``ssh_hostname`` says where to connect). The host key is checked
        strictly against this instance's own known_hosts file."""
        return strict_host_data(self.host, self.port, self.user, self.key_path, self.known_hosts_path,
                                self.ssh_config_path)

    def ssh_options(self) -> list[str]:
        """OpenSSH client options (``ssh``/``scp``) for this server."""
        return strict_ssh_options(self.port, self.key_path, self.known_hosts_path, self.ssh_config_path)

    def ssh_command(self, *remote: str) -> list[str]:
        """argv for ``ssh`` running ``remote`` on this server."""
        return ["ssh", *self.ssh_options(), f"{self.user}@{self.host}", *remote]


def strict_host_data(hostname: str, port: int, user: str, key_path, known_hosts_path, config_path) -> dict:
    """pyinfra host data for a test host: key login only, the host key checked strictly
    against the test's own known_hosts, nothing from ~/.ssh or an agent."""
    return {
        "ssh_hostname": hostname,
        "ssh_port": port,
        "ssh_user": user,
        "ssh_key": key_path,
        "ssh_known_hosts_file": known_hosts_path,
        "ssh_strict_host_key_checking": "yes",
        "ssh_config_file": config_path,
        "ssh_allow_agent": False,
        "ssh_look_for_keys": False,
    }


def strict_ssh_options(port: int, key_path, known_hosts_path, config_path) -> list[str]:
    """The same, as OpenSSH client options (``ssh``/``scp``)."""
    return [
        "-F", str(config_path),
        "-i", str(key_path),
        "-p", str(port),
        "-o", "IdentitiesOnly=yes",
        "-o", "BatchMode=yes",
        "-o", f"UserKnownHostsFile={known_hosts_path}",
        "-o", "StrictHostKeyChecking=yes",
        "-o", "ConnectTimeout=10",
    ]  # fmt: skip


def inventory_source(hosts: dict[str, SshdHost], group: str = "hosts") -> str:
    """Text of a pyinfra inventory module: one group holding the given hosts,
    each with its ``pyinfra_host_data()``."""
    entries = ",\n".join(
        f"    ({name!r}, {h.pyinfra_host_data()!r})" for name, h in hosts.items()
    )
    return f"{group} = [\n{entries},\n]\n"
