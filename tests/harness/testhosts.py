"""Production-shaped test hosts: Debian 12 or 13 containers booting systemd, reached over SSH.

Each ``TestHost`` is a container of ``postgrest-stack-testhost/SUITE-systemd``
(bookworm or trixie, built by ``images/testhost/build.sh``): systemd is PID 1, sshd takes keys only
(no root login, no passwords), ``deploy`` has passwordless sudo, Docker is NOT
installed, and ``/var/lib/docker`` is a named volume so a Docker installed by a
deploy works and survives ``reboot()``. A ``TestHostFleet`` owns what the hosts
share: a user-defined bridge network with a fixed subnet (10.231.x.0/24, the
first one free), a fresh ed25519 client key, and an apt-cacher-ng on the
network's gateway that forwards to this machine's Debian mirror (the hosts have
no other way out: the engine runs with ``--iptables=false``).

    from tests.harness.testhosts import TestHostFleet, inventory_source

    with TestHostFleet(["db1", "api1"]) as fleet:      # boots both, in parallel
        db = fleet["db1"]
        db.address                      # "10.231.0.11"
        db.pyinfra_host_data()          # ssh_hostname=10.231.0.11, ssh_user="deploy",
                                        # ssh_key, ssh_known_hosts_file (strict), _sudo=True
        fleet.apt_proxy                 # "http://10.231.0.1:3142": the deploy's apt_proxy
        inventory_source(fleet.hosts)   # text of a pyinfra inventory module
        rc, out = db.exec("systemctl is-enabled docker")   # docker exec, as root
        rc, out = db.ssh("sudo -n true")                   # plain ssh as deploy
        db.load_image("postgrest/postgrest:v12.0.2")       # once Docker is on the host
        db.reboot()                     # docker stop + start: systemd boots again;
                                        # same address, same SSH host key
        api2 = fleet.add_host("api2")   # more hosts later; fleet.remove_host("api2")
        new = fleet.add_host("api3", image=ensure_image(suite="trixie"))   # a Debian 13 host
    # containers, volumes, network and the apt proxy are gone here (also at exit)

Nothing is baked in that ties a host to a session: each host makes its own SSH
host keys at first boot, and the fleet copies its public key into
``/home/deploy/.ssh/authorized_keys`` before the container first starts. The
known_hosts file of a host is written once, at first boot, so a host key that
changed (it must not) fails strict checking.

Cleanup: ``close()`` (the context manager's exit) removes every container,
volume and network of the fleet and stops its apt proxy; it is also registered
with ``atexit``. Every Docker object carries the label
``org.postgrest-stack.testhost.owner``; a new fleet first removes objects of
fleets whose test process is gone (killed before it could clean up), never
those of a live process. The apt proxy dies with the process that started it.

The downloaded packages are kept in ``build/testhost/apt-cache`` (ignored by
git) so a second run installs Docker from the cache; a concurrent fleet that
finds the cache in use gets a private one.

Needs root, a Docker engine (``scripts/start-docker.sh``), mmdebstrap (to build
the image), apt-cacher-ng, openssh-client. Plain stdlib; no pytest needed.
"""

from __future__ import annotations

import atexit
import ctypes
import fcntl
import io
import ipaddress
import os
import secrets
import shutil
import signal
import socket
import subprocess
import tarfile
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from tests.harness.sshd import (
    inventory_source,  # noqa: F401  (works with TestHost too)
    strict_host_data,
    strict_ssh_options,
)

ROOT = Path(__file__).resolve().parents[2]
BUILD_SCRIPT = ROOT / "images" / "testhost" / "build.sh"
STATE_DIR = ROOT / "build" / "testhost"
#: The Debian releases images/testhost/build.sh builds (--suite), with VERSION_ID.
SUITES = {"bookworm": "12", "trixie": "13"}
DEFAULT_SUITE = "bookworm"
LABEL = "org.postgrest-stack.testhost"
OWNER_LABEL = f"{LABEL}.owner"
DEPLOY_USER = "deploy"
DEPLOY_UID = 1000  # fixed in images/testhost/build.sh
APT_CACHER_NG = "/usr/sbin/apt-cacher-ng"
SUBNET_CANDIDATES = [f"10.231.{i}.0/24" for i in range(256)]
FIRST_HOST_OCTET = 11

# docker run flags for systemd as PID 1 on this engine (see /work/shared/test-hosts.md):
# --privileged is refused (CAP_SYS_RESOURCE is not in the bounding set), these give the rest.
RUN_FLAGS = [
    "--cap-add", "ALL", "--cap-drop", "SYS_RESOURCE",
    "--security-opt", "seccomp=unconfined", "--security-opt", "apparmor=unconfined",
    "--device-cgroup-rule", "a *:* rwm",
    "--stop-signal", "SIGRTMIN+3",
    "--tmpfs", "/run", "--tmpfs", "/run/lock", "--tmpfs", "/tmp",
    "-v", "/sys/fs/cgroup:/sys/fs/cgroup:rw",
]  # fmt: skip


class TestHostError(RuntimeError):
    __test__ = False


# ---------------------------------------------------------------------- helpers
def _docker(*args: str, check: bool = True, input: bytes | None = None, timeout: float = 120):
    # input= or stdin=, never both (gevent's subprocess, which the test process uses,
    # refuses both even when stdin is None)
    feed = {"input": input} if input is not None else {"stdin": subprocess.DEVNULL}
    proc = subprocess.run(["docker", *args], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=timeout,
                          **feed)
    out = proc.stdout.decode(errors="replace")
    if check and proc.returncode != 0:
        raise TestHostError(f"docker {' '.join(args)} failed ({proc.returncode}):\n{out}")
    return proc.returncode, out


def _owner_id() -> str:
    """This process, unambiguous on this machine: boot id, pid namespace, pid, start time."""
    boot = Path("/proc/sys/kernel/random/boot_id").read_text().strip()[:8]
    pidns = os.readlink("/proc/self/ns/pid").strip("pid:[]")
    return f"{boot}:{pidns}:{os.getpid()}:{_start_time(os.getpid())}"


def _start_time(pid: int) -> str:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return ""
    fields = stat.rsplit(")", 1)[1].split()
    return "" if fields[0] in ("Z", "X") else fields[19]  # a zombie has ended too


def _owner_alive(owner: str) -> bool:
    """False only when ``owner`` surely is a process of this machine and pid
    namespace that has ended; anything else (another namespace, odd label) counts as alive."""
    try:
        boot, pidns, pid, start = owner.split(":")
        mine_boot, mine_ns, _, _ = _owner_id().split(":")
    except ValueError:
        return True
    if boot != mine_boot or pidns != mine_ns:
        return True
    return _start_time(int(pid)) == start


def reap_stale() -> list[str]:
    """Remove containers, volumes, networks and tmp dirs of fleets whose process has ended.

    Returns the names removed. Objects of live processes (this one included) and
    of other machines or pid namespaces sharing the engine are left alone."""
    removed = []
    owner = '{{.Label "%s"}}' % OWNER_LABEL
    for kind, ls, name, rm in (
        ("container", ["ps", "-a"], "{{.Names}}", ["rm", "-f", "-v"]),
        ("volume", ["volume", "ls"], "{{.Name}}", ["volume", "rm", "-f"]),
        ("network", ["network", "ls"], "{{.Name}}", ["network", "rm"]),
    ):
        fmt = f"{name}\t{owner}"
        rc, out = _docker(*ls, "--filter", f"label={OWNER_LABEL}", "--format", fmt, check=False)
        if rc != 0:
            continue
        for line in out.splitlines():
            obj, _, obj_owner = line.partition("\t")
            if obj and not _owner_alive(obj_owner):
                if _docker(*rm, obj, check=False)[0] == 0:
                    removed.append(f"{kind} {obj}")
    for d in Path(tempfile.gettempdir()).glob("testhosts-*"):  # the fleets' private dirs
        try:
            stale = not _owner_alive((d / "owner").read_text().strip())
        except OSError:
            continue
        if stale:
            shutil.rmtree(d, ignore_errors=True)
            removed.append(f"directory {d}")
    return removed


def ensure_image(force: bool = False, suite: str = DEFAULT_SUITE) -> str:
    """Build the test host image of Debian ``suite`` (bookworm, trixie) if its tag (a hash
    of the recipe) is missing; return the tag.

    Runs ``images/testhost/build.sh --suite=SUITE`` (about a minute when it builds, well
    under a second when the image is there)."""
    if suite not in SUITES:
        raise TestHostError(f"no test host image for suite {suite!r} (known: {', '.join(SUITES)})")
    cmd = ["bash", str(BUILD_SCRIPT), f"--suite={suite}"] + (["--force"] if force else [])
    proc = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    if proc.returncode != 0:
        raise TestHostError(f"{BUILD_SCRIPT} failed ({proc.returncode}):\n{proc.stderr}")
    return proc.stdout.strip().splitlines()[-1]


def _pick_subnet() -> list[ipaddress.IPv4Network]:
    """Candidate subnets that overlap neither a Docker network nor a route of this machine."""
    used: list[ipaddress.IPv4Network] = []
    _, names = _docker("network", "ls", "-q", check=False)
    if names.split():
        _, out = _docker(
            "network", "inspect", "--format",
            "{{range .IPAM.Config}}{{.Subnet}} {{end}}", *names.split(), check=False,
        )  # fmt: skip
        for word in out.split():
            try:
                used.append(ipaddress.ip_network(word, strict=False))
            except ValueError:
                pass  # IPv6 or garbage
    routes = subprocess.run(["ip", "-4", "route", "show", "table", "all"], capture_output=True, text=True)
    for line in routes.stdout.splitlines():
        word = line.split()[0] if line.split() else ""
        if word in ("local", "broadcast", "unreachable", "blackhole", "prohibit"):
            word = line.split()[1]
        if word == "default":
            continue
        try:
            used.append(ipaddress.ip_network(word, strict=False))
        except ValueError:
            pass
    free = []
    for cand in map(ipaddress.ip_network, SUBNET_CANDIDATES):
        if not any(cand.overlaps(u) for u in used if u.version == 4):
            free.append(cand)
    return free


def _pdeathsig() -> None:
    """In the child before exec: get SIGTERM when the parent dies."""
    ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


# ---------------------------------------------------------------------- apt proxy
class AptProxy:
    """apt-cacher-ng listening on ``address``:``port``, forwarding to whatever
    the hosts ask for (their sources name this machine's Debian mirror), resolved
    and reached the way this machine reaches it."""

    def __init__(self, address: str, workdir: Path) -> None:
        self.address = address
        self.workdir = workdir
        self.proc: subprocess.Popen | None = None
        self._lock_file = None
        # apt-cacher-ng's default port, else the next free one (it cannot bind
        # ports above 32767 here: "Error resolving address for binding")
        self.port = next((p for p in range(3142, 3242) if _port_free(address, p)), 0)
        if not self.port:
            raise TestHostError(f"no free port for apt-cacher-ng on {address} in 3142-3241")
        self.url = f"http://{address}:{self.port}"

    def _cache_dir(self) -> Path:
        shared = STATE_DIR / "apt-cache"
        shared.mkdir(parents=True, exist_ok=True)
        self._lock_file = open(STATE_DIR / "apt-cache.lock", "w")
        try:
            fcntl.flock(self._lock_file, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return shared
        except BlockingIOError:  # another fleet's proxy uses it
            self._lock_file.close()
            self._lock_file = None
            private = self.workdir / "apt-cache"
            private.mkdir(exist_ok=True)
            return private

    def start(self) -> "AptProxy":
        if not os.access(APT_CACHER_NG, os.X_OK):
            raise TestHostError(f"{APT_CACHER_NG} missing: apt-get install apt-cacher-ng")
        conf = self.workdir / "acng"
        log = self.workdir / "acng-log"
        conf.mkdir(exist_ok=True)
        log.mkdir(exist_ok=True)
        (conf / "acng.conf").write_text(
            "\n".join(
                [
                    f"CacheDir: {self._cache_dir()}",
                    f"LogDir: {log}",
                    "SupportDir: /usr/lib/apt-cacher-ng",
                    f"BindAddress: {self.address}",
                    f"Port: {self.port}",
                    f"PidFile: {self.workdir / 'acng.pid'}",
                    f"SocketPath: {self.workdir / 'acng.socket'}",
                    "ForeGround: 1",
                    "ExThreshold: 4",
                    "ReportPage: acng-report.html",
                    "",
                ]
            )
        )
        self._out = open(self.workdir / "acng.out", "wb")
        self.proc = subprocess.Popen(
            [APT_CACHER_NG, "-c", str(conf)],
            stdin=subprocess.DEVNULL,
            stdout=self._out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            preexec_fn=_pdeathsig,
        )
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            out = (self.workdir / "acng.out").read_text(errors="replace")
            # apt-cacher-ng keeps running after a failed bind: read its output
            if self.proc.poll() is not None or "Couldn't bind" in out:
                self.stop()
                raise TestHostError(f"apt-cacher-ng did not start on {self.url}:\n{out}")
            try:
                with socket.create_connection((self.address, self.port), timeout=1):
                    return self
            except OSError:
                time.sleep(0.1)
        self.stop()
        raise TestHostError(f"apt-cacher-ng not listening on {self.url} after 15 s")

    def stop(self) -> None:
        proc, self.proc = self.proc, None
        if proc is not None and proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=5)
        if getattr(self, "_out", None) is not None:
            self._out.close()
            self._out = None
        if self._lock_file is not None:
            self._lock_file.close()
            self._lock_file = None


def _port_free(address: str, port: int) -> bool:
    with socket.socket() as s:
        # as a server binds: a connection of an earlier proxy in TIME_WAIT is no conflict
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((address, port))
            return True
        except OSError:
            return False


# ---------------------------------------------------------------------- hosts
class TestHost:
    """One container booting systemd, with its own address on the fleet's network.

    Made by ``TestHostFleet.add_host``/``add_hosts``; use ``fleet[name]``.
    Attributes: ``name``, ``address``, ``container`` (Docker name), ``volume``
    (of /var/lib/docker), ``key_path``, ``known_hosts_path``, ``boot_seconds``
    (of the last boot)."""

    __test__ = False  # not a pytest test class

    def __init__(self, fleet: "TestHostFleet", name: str, address: str, image: str | None = None) -> None:
        self.fleet = fleet
        self.name = name
        self.address = address
        self.image = image or fleet.image
        self.container = f"{fleet.prefix}-{name}"
        self.volume = f"{self.container}-docker"
        self.key_path = fleet.key_path
        self.ssh_config_path = fleet.ssh_config_path
        self.known_hosts_path = str(fleet.dir / f"known_hosts-{name}")
        self.boot_seconds: float | None = None
        self._started_at = 0.0

    def __repr__(self) -> str:
        return f"<TestHost {self.name} {self.address} ({self.container})>"

    # -------------------------------------------------------------- lifecycle
    def _create(self) -> None:
        labels = ["--label", f"{LABEL}=1", "--label", f"{OWNER_LABEL}={self.fleet.owner}"]
        _docker("volume", "create", *labels, self.volume)
        _docker(
            "create", "--name", self.container, "--hostname", self.name, *labels,
            "--network", self.fleet.network, "--ip", self.address,
            *RUN_FLAGS, "-v", f"{self.volume}:/var/lib/docker",
            self.image,
        )  # fmt: skip
        # the fleet's public key, owned by deploy, before sshd ever runs
        pub = Path(self.key_path + ".pub").read_bytes()
        buf = io.BytesIO()
        with tarfile.open(fileobj=buf, mode="w") as tar:
            d = tarfile.TarInfo(".ssh")
            d.type, d.mode, d.uid, d.gid = tarfile.DIRTYPE, 0o700, DEPLOY_UID, DEPLOY_UID
            tar.addfile(d)
            f = tarfile.TarInfo(".ssh/authorized_keys")
            f.size, f.mode, f.uid, f.gid = len(pub), 0o600, DEPLOY_UID, DEPLOY_UID
            tar.addfile(f, io.BytesIO(pub))
        _docker("cp", "-a", "-", f"{self.container}:/home/{DEPLOY_USER}", input=buf.getvalue())

    def _start(self) -> None:
        self._started_at = time.monotonic()
        _docker("start", self.container)

    def wait_ready(self, timeout: float | None = None) -> "TestHost":
        """Wait until systemd says running/degraded and sshd answers on address:22."""
        timeout = timeout or self.fleet.boot_timeout
        deadline = time.monotonic() + timeout
        state = ""
        while time.monotonic() < deadline:
            rc, out = _docker("exec", self.container, "systemctl", "is-system-running", check=False, timeout=30)
            state = out.strip()
            if rc != 0 and "is not running" in out:  # the container stopped: systemd gave up
                _, logs = _docker("logs", "--tail", "30", self.container, check=False)
                raise TestHostError(f"{self!r} stopped while booting; docker logs:\n{logs}")
            if state in ("running", "degraded") and self._ssh_banner():
                break
            time.sleep(0.2)
        else:
            _, failed = self.exec("systemctl --failed --no-legend; systemctl list-jobs --no-legend")
            _, logs = _docker("logs", "--tail", "30", self.container, check=False)
            raise TestHostError(
                f"{self!r} not ready after {timeout}s (systemd: {state!r}, ssh: {self._ssh_banner()})\n"
                f"failed units / jobs:\n{failed}\ndocker logs:\n{logs}"
            )
        self.boot_seconds = time.monotonic() - self._started_at
        if not Path(self.known_hosts_path).exists():
            lines = [f"{self.address} {key}" for key in self.host_keys()]
            Path(self.known_hosts_path).write_text("\n".join(lines) + "\n")
        return self

    def _ssh_banner(self) -> bool:
        try:
            with socket.create_connection((self.address, 22), timeout=2) as s:
                return s.recv(64).startswith(b"SSH-")
        except OSError:
            return False

    def reboot(self, timeout: float | None = None) -> "TestHost":
        """``docker stop`` (systemd shuts down) + ``docker start`` (it boots again); wait ready.
        The container, its address, its SSH host keys and /var/lib/docker stay."""
        _docker("stop", "-t", "30", self.container, timeout=60)
        self._start()
        return self.wait_ready(timeout)

    def destroy(self) -> None:
        """Remove the container and its volumes (idempotent)."""
        _docker("rm", "-f", "-v", self.container, check=False)
        _docker("volume", "rm", "-f", self.volume, check=False)
        Path(self.known_hosts_path).unlink(missing_ok=True)
        self.fleet.hosts.pop(self.name, None)

    # -------------------------------------------------------------- access
    def exec(
        self,
        cmd: str | list[str],
        *,
        user: str | None = None,
        input: str | bytes | None = None,
        env: dict[str, str] | None = None,
        timeout: float = 600,
        check: bool = False,
    ) -> tuple[int, str]:
        """Run ``cmd`` in the host with ``docker exec`` (root unless ``user``);
        a string goes to ``sh -c``. Returns (exit code, stdout+stderr)."""
        argv = ["sh", "-c", cmd] if isinstance(cmd, str) else list(cmd)
        opts = ["-i"] if input is not None else []
        if user:
            opts += ["-u", user]
        for k, v in (env or {}).items():
            opts += ["-e", f"{k}={v}"]
        data = input.encode() if isinstance(input, str) else input
        rc, out = _docker("exec", *opts, self.container, *argv, check=False, input=data, timeout=timeout)
        if check and rc != 0:
            raise TestHostError(f"{self.name}: {cmd!r} exited {rc}:\n{out}")
        return rc, out

    def host_keys(self) -> list[str]:
        """The host's SSH public host keys, "type base64" each."""
        rc, out = self.exec("cat /etc/ssh/ssh_host_*_key.pub", check=True)
        return sorted(" ".join(line.split()[:2]) for line in out.splitlines() if line.strip())

    def pyinfra_host_data(self) -> dict:
        """Host data for a pyinfra inventory entry: SSH as ``deploy`` with the
        fleet's key, the host key checked strictly, sudo for every operation."""
        return {**strict_host_data(self.address, 22, DEPLOY_USER, self.key_path, self.known_hosts_path,
                                   self.ssh_config_path), "_sudo": True}

    def ssh_options(self) -> list[str]:
        """OpenSSH client options (``ssh``/``scp``) for this host."""
        return strict_ssh_options(22, self.key_path, self.known_hosts_path, self.ssh_config_path)

    def ssh_command(self, *remote: str, user: str = DEPLOY_USER) -> list[str]:
        """argv for plain ``ssh`` running ``remote`` on this host as ``user``."""
        return ["ssh", *self.ssh_options(), f"{user}@{self.address}", *remote]

    def ssh(self, *remote: str, user: str = DEPLOY_USER, timeout: float = 120) -> tuple[int, str]:
        """Run ``remote`` over SSH; (exit code, stdout+stderr)."""
        proc = subprocess.run(
            self.ssh_command(*remote, user=user),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            timeout=timeout,
        )
        return proc.returncode, proc.stdout.decode(errors="replace")

    def use_apt_proxy(self, url: str | None = None) -> None:
        """Point the host's apt at the fleet's proxy (what a deploy's apt_proxy setting does)."""
        url = url or self.fleet.apt_proxy
        self.exec(
            f"printf 'Acquire::http::Proxy \"%s\";\\n' '{url}' >/etc/apt/apt.conf.d/80testhost-proxy",
            check=True,
        )

    def load_image(self, *images: str) -> None:
        """Copy local Docker images into the host's Docker (no registry is reachable):
        ``docker save | gzip -1 | docker exec -i HOST sh -c 'gunzip | docker load'``."""
        save = subprocess.Popen(["docker", "save", *images], stdout=subprocess.PIPE)
        gz = subprocess.Popen(["gzip", "-1"], stdin=save.stdout, stdout=subprocess.PIPE)
        save.stdout.close()
        load = subprocess.run(
            ["docker", "exec", "-i", self.container, "sh", "-c", "gunzip | docker load"],
            stdin=gz.stdout, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
        )  # fmt: skip
        gz.stdout.close()
        if save.wait() != 0 or gz.wait() != 0 or load.returncode != 0:
            raise TestHostError(f"load_image {images} into {self.name}:\n{load.stdout.decode(errors='replace')}")


# ---------------------------------------------------------------------- fleet
class TestHostFleet:
    """The network, client key and apt proxy that test hosts share, plus the hosts.

    Args:
        names: hosts to boot right away (in parallel); more with ``add_host(s)``.
        image: image tag of the hosts (default: ``ensure_image()``, Debian 12, built when
            missing); ``add_host(s)`` take another one per host.
        apt_proxy: start apt-cacher-ng on the gateway (default True); its URL is
            ``fleet.apt_proxy``, None when not started.
        boot_timeout: seconds a host may take to boot (systemd + sshd).

    Attributes: ``hosts`` (name -> TestHost, in creation order), ``network``,
    ``subnet``, ``gateway``, ``apt_proxy``, ``key_path``, ``dir`` (private tmp dir).
    """

    __test__ = False

    def __init__(
        self,
        names: list[str] | tuple[str, ...] = (),
        *,
        image: str | None = None,
        apt_proxy: bool = True,
        boot_timeout: float = 90.0,
    ) -> None:
        self.hosts: dict[str, TestHost] = {}
        self.boot_timeout = boot_timeout
        self.token = secrets.token_hex(3)
        self.prefix = f"pgst-th-{self.token}"
        self.network = f"{self.prefix}-net"
        self.owner = _owner_id()
        self.dir = Path(tempfile.mkdtemp(prefix="testhosts-"))
        os.chmod(self.dir, 0o700)
        (self.dir / "owner").write_text(self.owner + "\n")  # for reap_stale()
        self.key_path = str(self.dir / "id_ed25519")
        self.ssh_config_path = str(self.dir / "ssh_config")  # empty: isolates from ~/.ssh/config
        self.subnet: ipaddress.IPv4Network | None = None
        self.gateway: str | None = None
        self.apt_proxy: str | None = None
        self._proxy: AptProxy | None = None
        self._network_made = False
        self._closed = False
        atexit.register(self.close)
        try:
            reap_stale()
            self.image = image or ensure_image()
            subprocess.run(
                ["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", f"testhosts-{self.token}",
                 "-f", self.key_path],
                check=True, stdin=subprocess.DEVNULL,
            )  # fmt: skip
            Path(self.ssh_config_path).write_text("")
            self._create_network()
            if apt_proxy:
                self._proxy = AptProxy(self.gateway, self.dir).start()
                self.apt_proxy = self._proxy.url
            if names:
                self.add_hosts(names)
        except BaseException:
            self.close()
            raise

    def _create_network(self) -> None:
        last = ""
        for subnet in _pick_subnet()[:20]:
            gateway = str(subnet.network_address + 1)
            rc, out = _docker(
                "network", "create", "--driver", "bridge",
                "--subnet", str(subnet), "--gateway", gateway,
                "--label", f"{LABEL}=1", "--label", f"{OWNER_LABEL}={self.owner}",
                self.network, check=False,
            )  # fmt: skip
            if rc == 0:
                self.subnet, self.gateway, self._network_made = subnet, gateway, True
                self._wait_gateway()
                return
            last = out  # e.g. a concurrent fleet took it first: try the next
        raise TestHostError(f"no free subnet for {self.network}: {last}")

    def _wait_gateway(self) -> None:
        # the bridge gets its address when the network is created; make sure it is there
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            out = subprocess.run(["ip", "-4", "-o", "addr"], capture_output=True, text=True).stdout
            if f" {self.gateway}/" in out:
                return
            time.sleep(0.1)
        raise TestHostError(f"gateway {self.gateway} of {self.network} has no interface")

    # -------------------------------------------------------------- hosts
    def _next_address(self) -> str:
        taken = {h.address for h in self.hosts.values()}
        for i in range(FIRST_HOST_OCTET, self.subnet.num_addresses - 1):
            addr = str(self.subnet.network_address + i)
            if addr not in taken:
                return addr
        raise TestHostError(f"{self.subnet} is full")

    def add_hosts(self, names: list[str] | tuple[str, ...], image: str | None = None) -> list[TestHost]:
        """Create and boot hosts (in parallel) from ``image`` (default: the fleet's);
        return them once all are ready."""
        new = []
        for name in names:
            if name in self.hosts:
                raise TestHostError(f"host {name!r} exists")
            host = TestHost(self, name, self._next_address(), image)
            self.hosts[name] = host
            host._create()
            host._start()
            new.append(host)
        with ThreadPoolExecutor(max_workers=max(1, len(new))) as pool:
            list(pool.map(lambda h: h.wait_ready(), new))
        return new

    def add_host(self, name: str, image: str | None = None) -> TestHost:
        """Create and boot one host; return it once it is ready."""
        return self.add_hosts([name], image)[0]

    def remove_host(self, name: str) -> None:
        """Destroy a host (container and volumes)."""
        host = self.hosts.get(name)
        if host is not None:
            host.destroy()

    def __getitem__(self, name: str) -> TestHost:
        return self.hosts[name]

    def __iter__(self):
        return iter(list(self.hosts.values()))

    def __len__(self) -> int:
        return len(self.hosts)

    # -------------------------------------------------------------- cleanup
    def close(self) -> None:
        """Remove every host, the network and the apt proxy (idempotent)."""
        if self._closed:
            return
        self._closed = True
        errors = []
        for host in list(self.hosts.values()):
            try:
                host.destroy()
            except Exception as e:  # keep cleaning
                errors.append(f"{host.name}: {e}")
        if self._proxy is not None:
            self._proxy.stop()
            self._proxy = None
        if self._network_made:
            rc, out = _docker("network", "rm", self.network, check=False)
            if rc != 0:
                errors.append(out)
            self._network_made = False
        shutil.rmtree(self.dir, ignore_errors=True)
        try:
            atexit.unregister(self.close)
        except Exception:
            pass
        if errors:
            raise TestHostError("cleanup incomplete:\n" + "\n".join(errors))

    def __enter__(self) -> "TestHostFleet":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"<TestHostFleet {self.network} {self.subnet} hosts={list(self.hosts)}>"
