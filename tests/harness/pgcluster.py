"""A throwaway PostgreSQL 15 cluster run as a local process for contract tests.

The cluster lives in a temporary directory, listens on 127.0.0.1 at a free
port (plus a unix socket in that directory) and requires scram-sha-256 over
TCP, like the deployed server. PostgreSQL refuses to run as root, so when the
tests run as root the server runs as the `postgres` OS user.
"""

from __future__ import annotations

import os
import secrets
import shutil
import subprocess
import tempfile
import urllib.parse
from pathlib import Path

import psycopg
from psycopg import sql

from .ports import free_port

PG_BIN = Path("/usr/lib/postgresql/15/bin")
PSQL = "psql"
SUPERUSER = "postgres"
START_TIMEOUT = 30  # seconds


class PgCluster:
    """initdb + pg_ctl start on enter; fast shutdown and removal on exit."""

    host = "127.0.0.1"

    def __init__(self, *, os_user: str = "postgres", bin_dir: Path = PG_BIN):
        self.bin_dir = Path(bin_dir)
        # Only root needs to switch users; anyone else runs the server as themselves.
        self.os_user = os_user if os.geteuid() == 0 else None
        self.superuser = SUPERUSER
        self.superuser_password = secrets.token_urlsafe(24)
        self.port: int | None = None
        self.base_dir: Path | None = None

    # -- lifecycle ---------------------------------------------------------

    def __enter__(self) -> PgCluster:
        self.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop()

    @property
    def data_dir(self) -> Path:
        return self.base_dir / "data"

    @property
    def log_path(self) -> Path:
        return self.base_dir / "server.log"

    @property
    def socket_dir(self) -> Path:
        return self.base_dir

    def start(self) -> None:
        self.base_dir = Path(tempfile.mkdtemp(prefix="pgcluster-"))
        try:
            self._chown(self.base_dir)
            self._initdb()
            self.port = free_port()
            self._write_config()
            self._pg_ctl_start()
        except BaseException:
            self.stop()
            raise

    def stop(self) -> None:
        """Fast shutdown, then remove the directory. Safe to call twice."""
        if self.base_dir is None:
            return
        # Fast shutdown; immediate if that does not finish in time.
        for mode in ("fast", "immediate"):
            if not (self.data_dir / "postmaster.pid").exists():
                break
            self._run_as_server_user(
                [self.bin_dir / "pg_ctl", "-D", self.data_dir, "-m", mode,
                 "-w", "-t", str(START_TIMEOUT), "stop"],
                check=False, timeout=START_TIMEOUT + 10,
            )
        shutil.rmtree(self.base_dir, ignore_errors=True)
        self.base_dir = None

    # -- client side -------------------------------------------------------

    def uri(self, user: str, password: str, dbname: str) -> str:
        """A libpq URI over TCP, e.g. for PostgREST's db-uri."""
        quote = urllib.parse.quote
        return (f"postgresql://{quote(user, safe='')}:{quote(password, safe='')}"
                f"@{self.host}:{self.port}/{quote(dbname, safe='')}")

    def connect(self, dbname: str, user: str = SUPERUSER,
                password: str | None = None, **kwargs) -> psycopg.Connection:
        """A psycopg connection over TCP (password defaults to the superuser's)."""
        return psycopg.connect(
            host=self.host, port=self.port, dbname=dbname, user=user,
            password=self._password(user, password), **kwargs,
        )

    def create_database(self, name: str) -> None:
        with self.connect("postgres", autocommit=True) as conn:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))

    def psql_file(self, path: str | os.PathLike, dbname: str, *,
                  user: str = SUPERUSER, password: str | None = None,
                  variables: dict[str, str] | None = None,
                  ) -> subprocess.CompletedProcess:
        """Run `psql -v ON_ERROR_STOP=1 -f PATH` over TCP; raise with stderr on failure."""
        cmd = [PSQL, "-X", "-q", "-v", "ON_ERROR_STOP=1",
               "-h", self.host, "-p", str(self.port), "-U", user, "-d", dbname]
        for name, value in (variables or {}).items():
            cmd += ["-v", f"{name}={value}"]
        cmd += ["-f", os.fspath(path)]
        env = {**os.environ, "PGPASSWORD": self._password(user, password),
               "PGCONNECT_TIMEOUT": "10"}
        result = subprocess.run(cmd, env=env, capture_output=True, text=True,
                                stdin=subprocess.DEVNULL, timeout=300)
        if result.returncode != 0:
            raise RuntimeError(
                f"psql -f {path} on database {dbname!r} as {user!r} failed "
                f"(exit {result.returncode}):\n{result.stderr}"
            )
        return result

    # -- internals ---------------------------------------------------------

    def _password(self, user: str, password: str | None) -> str:
        if password is not None:
            return password
        if user == self.superuser:
            return self.superuser_password
        raise ValueError(f"no password given for role {user!r}")

    def _chown(self, path: Path) -> None:
        if self.os_user:
            shutil.chown(path, user=self.os_user, group=None)

    def _run_as_server_user(self, cmd: list, *, check: bool = True,
                            timeout: float = 60) -> subprocess.CompletedProcess:
        cmd = [os.fspath(c) for c in cmd]
        if self.os_user:
            cmd = ["runuser", "-u", self.os_user, "--", *cmd]
        # cwd: the server user may not be allowed into the caller's directory.
        result = subprocess.run(cmd, cwd=self.base_dir, capture_output=True,
                                text=True, stdin=subprocess.DEVNULL,
                                timeout=timeout)
        if check and result.returncode != 0:
            raise RuntimeError(
                f"{' '.join(cmd)} failed (exit {result.returncode}):\n"
                f"{result.stdout}{result.stderr}{self._log_tail()}"
            )
        return result

    def _initdb(self) -> None:
        pwfile = self.base_dir / "pwfile"
        pwfile.write_text(self.superuser_password + "\n")
        pwfile.chmod(0o600)
        self._chown(pwfile)
        try:
            self._run_as_server_user(
                [self.bin_dir / "initdb", "-D", self.data_dir,
                 "-U", self.superuser, f"--pwfile={pwfile}",
                 "--auth-local=trust", "--auth-host=scram-sha-256",
                 "--encoding=UTF8", "--locale=C.UTF-8", "--no-sync"],
            )
        finally:
            pwfile.unlink()

    def _write_config(self) -> None:
        settings = {
            "listen_addresses": f"'{self.host}'",
            "port": str(self.port),
            "unix_socket_directories": f"'{self.socket_dir}'",
            "password_encryption": "'scram-sha-256'",
            "timezone": "'UTC'",
            "log_timezone": "'UTC'",
            # Throwaway data: trade durability for speed.
            "fsync": "off",
            "synchronous_commit": "off",
            "full_page_writes": "off",
        }
        # postgresql.conf is owned by the server user already; appending keeps that.
        with open(self.data_dir / "postgresql.conf", "a") as conf:
            conf.write("\n# tests/harness/pgcluster.py\n")
            conf.writelines(f"{k} = {v}\n" for k, v in settings.items())

    def _pg_ctl_start(self) -> None:
        result = self._run_as_server_user(
            [self.bin_dir / "pg_ctl", "-D", self.data_dir, "-l", self.log_path,
             "-w", "-t", str(START_TIMEOUT), "start"],
            check=False, timeout=START_TIMEOUT + 10,
        )
        if result.returncode != 0:
            raise RuntimeError(
                f"PostgreSQL failed to start on {self.host}:{self.port} "
                f"(pg_ctl exit {result.returncode}, waits up to {START_TIMEOUT}s):\n"
                f"{result.stdout}{result.stderr}{self._log_tail()}"
            )

    def _log_tail(self, lines: int = 40) -> str:
        try:
            text = self.log_path.read_text(errors="replace")
        except OSError:
            return ""
        tail = "\n".join(text.splitlines()[-lines:])
        return f"\n--- server log tail ({self.log_path}) ---\n{tail}"
