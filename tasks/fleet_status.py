"""``python -m postgrest_stack status``: the one probe over an inventory, read-only.

pyinfra's own API does the SSH: the inventory is loaded the way ``pyinfra INVENTORY
...`` loads it (group_data, ``--data``), hosts are connected in parallel with its
connectors and the :class:`~tasks.facts.StackProbe` fact is gathered on each (``_sudo``
and the other connection data from host data, as a deploy's probe). Nothing else runs
on a host: no operation, no upload, no file written. On the controller, each host's
files are rendered and the tenant's JWKS fetched (once per URL), secrets are read but
never generated, and :mod:`postgrest_stack.status` compares.

The caller must have patched the stdlib for gevent first (pyinfra's API runs in
greenlets), as ``python -m postgrest_stack status`` does.
"""

from __future__ import annotations

import logging
from contextlib import contextmanager
from fnmatch import fnmatch
from typing import Any, Iterable

from pyinfra import logger as pyinfra_logger
from pyinfra.api import Config, State
from pyinfra.api.connect import connect_all, disconnect_all
from pyinfra.api.exceptions import NoGroupError, PyinfraError
from pyinfra.api.facts import get_fact
from pyinfra.api.state import BaseStateCallback
from pyinfra.context import ctx_config, ctx_host, ctx_state

from postgrest_stack import jwks, migrations, project_path, project_root, render, secrets, settings, status
from postgrest_stack.images import compose_references
from postgrest_stack.plan import with_jwks
from postgrest_stack.probe import HostState
from postgrest_stack.render import external_conninfo
from tasks.facts import LastRun, LedgerRows, StackProbe
from tasks.host_data import group_data_dirs, origin_finder, pyinfra_keys, read_inventory
from tasks.probe_host import probe_arguments


class _Quiet(logging.Handler):
    """Keeps pyinfra's log lines out of the report, and the last error line per host."""

    def __init__(self):
        super().__init__(logging.DEBUG)
        self.errors: dict[str, str] = {}

    def emit(self, record):
        if record.levelno >= logging.ERROR:
            text = record.getMessage()
            if text.startswith("[") and "] " in text:
                name, _, line = text[1:].partition("] ")
                self.errors[name.strip()] = line.strip()


class _ConnectErrors(BaseStateCallback):
    def __init__(self):
        self.errors: dict[str, str] = {}

    def host_connect_error(self, state, host, error):  # noqa: D102 (pyinfra's callback)
        self.errors[host.name] = str(error.args[0] if error.args else error)


def select(inventory, limit: Iterable[str], option: str = "--limit") -> list:
    """The hosts ``--limit`` (or ``option``) names, as pyinfra reads it: a group name or a
    host name pattern (fnmatch), comma-separated or repeated; none given: every host."""
    patterns = [p.strip() for given in limit for p in given.split(",") if p.strip()]
    if not patterns:
        return list(inventory)
    chosen: list = []
    for pattern in patterns:
        try:
            found = inventory.get_group(pattern)
        except NoGroupError:
            found = [host for host in inventory if fnmatch(host.name, pattern)]
        if not found:
            raise settings.SettingsError(f"{option} {pattern!r}: no group or host of the inventory matches it")
        chosen.extend(host for host in found if host not in chosen)
    return [host for host in inventory if host in chosen]  # inventory order


def _tenant(url: str, timeout: int, cache: dict[str, status.TenantKeys]) -> status.TenantKeys:
    if url not in cache:
        source = url if "://" in url else str(project_path(url))
        try:
            fetched = jwks.fetch(source, deadline_seconds=timeout)
            cache[url] = status.TenantKeys(url, fetched.kids, fetched.canonical)
        except jwks.JwksError as error:
            cache[url] = status.TenantKeys(url, error=str(error))
    return cache[url]


@contextmanager
def _session(inventory_file: str, override_data: dict[str, Any], limit: Iterable[str], option: str = "--limit"):
    """pyinfra's state for the selected hosts (not connected yet), its log kept quiet:
    ``(state, chosen hosts, connect errors, quiet log)``."""
    quiet = _Quiet()
    saved = (pyinfra_logger.handlers[:], pyinfra_logger.propagate, pyinfra_logger.level)
    pyinfra_logger.handlers[:] = [quiet]
    pyinfra_logger.propagate = False
    pyinfra_logger.setLevel(logging.DEBUG)
    state = State(check_for_changes=False)
    try:
        config = Config()
        with ctx_state.use(state), ctx_config.use(config):
            inventory = read_inventory(inventory_file, override_data)
            chosen = select(inventory, limit, option)
            state.init(inventory, config, initial_limit=chosen)
            connect_errors = _ConnectErrors()
            state.add_callback_handler(connect_errors)
            yield state, chosen, connect_errors, quiet
    finally:
        pyinfra_logger.handlers[:], pyinfra_logger.propagate, level = saved
        pyinfra_logger.setLevel(level)


def run(inventory_file: str, override_data: dict[str, Any], limit: Iterable[str] = ()) -> status.FleetReport:
    """Probe the selected hosts and compare each with render and the tenant's keys."""
    with _session(inventory_file, override_data, limit) as (state, chosen, connect_errors, quiet):
        return _report(state, inventory_file, chosen, connect_errors, quiet)


def ledgers(inventory_file: str, override_data: dict[str, Any], limit: Iterable[str] = ()) -> tuple[str, bool]:
    """``migration list``: the folder against the ledger of each selected host that
    applies the SQL (the db hosts; api hosts of an external database), read-only.
    Returns the listing and whether every ledger could be read."""
    with _session(inventory_file, override_data, limit) as (state, chosen, connect_errors, quiet):
        dirs = group_data_dirs(project_root(), inventory_file)
        resolved_by_host = {}
        for host in chosen:
            resolved = settings.resolve(host.data.dict(), origin=origin_finder(
                host, inventory_file=inventory_file, group_data_dirs=dirs, cwd=project_root()), runner_keys=pyinfra_keys())
            if resolved.applies_sql:
                resolved_by_host[host.name] = resolved
        if not resolved_by_host:
            raise settings.SettingsError("no selected host applies SQL (no db host, no api host of an external "
                                         "database): no ledger to list")
        folder = migrations.scan(project_path(next(iter(resolved_by_host.values())).migrations_dir))
        try:
            connect_all(state)
        except PyinfraError:
            pass  # every host failed to connect: each is named below

        found: dict[str, list[migrations.Applied] | str] = {}
        hosts = [host for host in chosen if host.name in resolved_by_host]
        greenlets = {host: state.pool.spawn(_ledger_rows, state, host, resolved_by_host[host.name])
                     for host in hosts if host in state.active_hosts}
        for greenlet in greenlets.values():
            greenlet.join()
        for host in hosts:
            greenlet = greenlets.get(host)
            value = greenlet.value if greenlet is not None and greenlet.successful() else None
            if isinstance(value, list):
                found[host.name] = value
            elif greenlet is None:
                found[host.name] = connect_errors.errors.get(host.name) or "could not connect"
            else:
                found[host.name] = ("no ledger read (a stack not deployed yet, or its database not answering): "
                                    f"{quiet.errors.get(host.name, 'the command failed')}")
        disconnect_all(state)
        return migrations.listing(folder, found), not any(isinstance(value, str) for value in found.values())


def _ledger_rows(state: State, host, resolved: settings.Settings) -> list[migrations.Applied] | None:
    """The host's migrations ledger (one remote command; None when it could not be read)."""
    external = ((compose_references(resolved)["db"], external_conninfo(resolved))
                if resolved.external_db_uri else None)
    with ctx_host.use(host):
        rows = get_fact(state, host, LedgerRows, kwargs=dict(
            app_dir=resolved.app_dir, stack_name=resolved.stack_name, external=external), apply_failed_hosts=False)
    return None if rows is None else [migrations.Applied(version, name, sha) for version, sha, name in rows]


def render_without(resolved: settings.Settings, found: dict[str, str]) -> tuple[dict, dict[str, str]]:
    """render's files when the controller lacks some secrets (an ops box without the
    database passwords), and {file: why its content is not known}.

    A missing secret gets a stand-in; the files that depend on it are those whose bytes
    change with the stand-in (rendered twice), plus every secret file: each is compared
    by a digest keyed by all the secrets (digests.py), so none can be without them. An
    api host still gets every other check."""
    missing = [name for name in secrets.SECRET_VARIABLES if name not in found]
    if not missing:
        return render.render(resolved, found), {}
    first, second = ({**found, **{name: f"missing-{n}-{name}" for name in missing}} for n in (1, 2))
    files, other = render.render(resolved, first), render.render(resolved, second)
    why = "no secret (" + ", ".join(secrets.SECRET_VARIABLES[name] for name in missing) + " not given)"
    unknown = {name: why for name, rendered in files.items()
               if rendered.secret or other[name].content != rendered.content}
    return files, unknown


def _report(state: State, inventory_file: str, chosen: list, connect_errors: _ConnectErrors,
            quiet: _Quiet) -> status.FleetReport:
    dirs = group_data_dirs(project_root(), inventory_file)
    tenants: dict[str, status.TenantKeys] = {}
    expected: dict[str, tuple] = {}
    reports: dict[str, status.HostReport] = {}
    # The controller side first: settings, secrets (never generated here), render, tenant keys.
    for host in chosen:
        data = host.data.dict()
        if data.get("stack_role") == "backup":
            reports[host.name] = status.backup_host(host.name)
            continue
        try:
            resolved = settings.resolve(data, origin=origin_finder(host, inventory_file=inventory_file,
                                                                   group_data_dirs=dirs, cwd=project_root()),
                                        runner_keys=pyinfra_keys())
            found = secrets.load({**data, "generate_secrets": False}, missing_ok=True)
            files, unknown = render_without(resolved, found)
        except (settings.SettingsError, migrations.MigrationError) as error:
            reports[host.name] = status.unknown(host.name, str(error), str(data.get("stack_role", "")))
            continue
        tenant = _tenant(resolved.jwks_url, resolved.jwks_fetch_timeout, tenants)
        if tenant.key_file is not None:
            files = with_jwks(files, tenant.key_file)
        expected[host.name] = (resolved, files, tenant, unknown)

    try:
        connect_all(state)
    except PyinfraError:
        pass  # "No hosts remaining!": every host failed to connect; each is reported below

    def probe(host) -> tuple[HostState | None, list[migrations.Applied] | None, str | None]:
        resolved, files, _tenant, _unknown = expected[host.name]
        with ctx_host.use(host):
            probed = get_fact(state, host, StackProbe, kwargs=probe_arguments(resolved, details=True),
                              apply_failed_hosts=False)
            # The host's last deploy.py / rotate_keys.py run (its audit.log): one more command.
            last_run = (get_fact(state, host, LastRun, kwargs={"app_dir": resolved.app_dir}, apply_failed_hosts=False)
                        if isinstance(probed, HostState) else None)
        # The ledger's rows only when its digest differs from the folder's (the counts and
        # which files; one more remote command, on that host only).
        ledger = None
        if (isinstance(probed, HostState) and resolved.applies_sql and probed.ledger_digest is not None
                and probed.ledger_digest != migrations.digest_of_files({n: f.content for n, f in files.items()})):
            ledger = _ledger_rows(state, host, resolved)
        return probed, ledger, last_run

    connected = [host for host in chosen if host.name in expected and host in state.active_hosts]
    greenlets = {host: state.pool.spawn(probe, host) for host in connected}
    for greenlet in greenlets.values():
        greenlet.join()
    for host, greenlet in greenlets.items():
        resolved, files, tenant, unknown = expected[host.name]
        probed, ledger, last_run = greenlet.value if greenlet.successful() else (None, None, None)
        if isinstance(probed, HostState):
            reports[host.name] = status.host_report(host.name, resolved, files, probed, tenant, ledger, unknown)
            reports[host.name].last_run = last_run
        else:
            reason = quiet.errors.get(host.name) or "the probe command failed"
            reports[host.name] = status.unreachable(host.name, f"probe failed: {reason}", resolved.stack_role)
    for host in chosen:
        if host.name not in reports:
            reason = connect_errors.errors.get(host.name) or quiet.errors.get(host.name) or "could not connect"
            reports[host.name] = status.unreachable(host.name, reason, expected[host.name][0].stack_role)
    disconnect_all(state)
    used = {expected[name][2].url for name in expected}
    return status.FleetReport([reports[host.name] for host in chosen],
                              [tenant for url, tenant in tenants.items() if url in used])
