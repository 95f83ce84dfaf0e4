"""Work done on the controller, before any host is touched.

pyinfra executes deploy.py once per host in one process: the JWKS is fetched and
validated once per run (kept in the run's shared state, tasks/run.py), so every host
of a run receives the same bytes.
"""

from __future__ import annotations

import ipaddress
from typing import Any, Callable

from pyinfra import logger
from pyinfra import state as pyinfra_state

from postgrest_stack import jwks, migrations, project_path, secrets, settings, signing_keys
from tasks import images, run
from tasks.host_data import Origin, deploy_origin, pyinfra_keys

CONTROLLER_ERRORS = (settings.SettingsError, jwks.JwksError, images.ControllerImageError,
                     migrations.MigrationError)


def host_settings(host) -> settings.Settings:
    """The host's settings; a key that is no setting (nor pyinfra's, nor a parameter of
    this run's script) is refused with where it came from (--data, group_data/<group>.py,
    the inventory file)."""
    return settings.resolve(host.data.dict(), origin=deploy_origin(host), runner_keys=_runner_keys(getattr(host, "state", None)))


def accept_run_parameters(state, names: tuple[str, ...]) -> None:
    """Before the first host's settings: this run's script takes ``names`` with --data
    (restore.py's restore_from and restore_confirm). They are parameters of that run, not
    settings: any other run still refuses them as unknown settings."""
    run.of(state).run_parameters = tuple(names)


def _runner_keys(state) -> settings.RunnerKeys:
    return pyinfra_keys(run.of(state).run_parameters if state is not None else ())


def host_settings_and_secrets(host) -> tuple[settings.Settings, dict[str, str]]:
    return settings_and_secrets(host.data.dict(), origin=deploy_origin(host))


def settings_and_secrets(data: dict[str, Any], origin: Origin | None = None) -> tuple[settings.Settings, dict[str, str]]:
    resolved = settings.resolve(data, origin=origin, runner_keys=pyinfra_keys())
    found = secrets.load(data)
    if data.get("dev_signing_key"):
        # Local inventory: the development key stands in for the Auth0 tenant.
        signing_keys.ensure_dev_key(project_path(data["dev_signing_key"]), resolved.jwks_url)
    return resolved, found


def db_address_mismatch(hosts: list[tuple[str, settings.Settings]], origin_of: Callable[[str], str]) -> str | None:
    """One line when an api host's ``db_host`` is not the address a db host of the same
    inventory binds (``db_bind``), else None. ``hosts``: (name, settings) of every host
    that resolved; ``origin_of(name)``: where that host's db_host was set.

    Only an IP address is compared: a host name could resolve to the bind address (the
    controller's DNS is not the hosts'). A db host bound to every address (0.0.0.0, ::)
    is reachable at any of them, so it is not compared either."""
    db_hosts = [(name, resolved.db_bind) for name, resolved in hosts if resolved.runs_db]
    binds = {bind for _name, bind in db_hosts}
    if not db_hosts or binds & {"0.0.0.0", "::"}:
        return None
    for name, resolved in hosts:
        if resolved.runs_db or not resolved.runs_api or resolved.external_db_uri or not resolved.db_host:
            continue
        try:
            ipaddress.ip_address(resolved.db_host)
        except ValueError:
            continue
        if resolved.db_host in binds:
            continue
        bound = ", ".join(f"{db} binds {bind}" for db, bind in db_hosts)
        reachable = sorted(bind for bind in binds if not ipaddress.ip_address(bind).is_loopback)
        if not reachable:  # the default 127.0.0.1: reachable from the db host alone
            fix = f"set the db host's db_bind to its private address ({resolved.db_host}?)"
        else:
            fix = (f"set db_host to {' or '.join(reachable)}, or the db host's db_bind to the address api "
                   "hosts reach it at")
        return (f"{name}: db_host {resolved.db_host} ({origin_of(name)}) is no address a database host listens "
                f"on (db_bind: {bound}): {fix}")
    return None


def check_db_addresses(state) -> None:
    """Once per run, while the first host is prepared (before any host is touched): every
    api host's db_host against the db hosts' db_bind, over the whole inventory (a
    --limit canary on an api host is checked against the db host left out). A host whose
    settings do not resolve is left to its own preparation's error."""
    shared = run.of(state)
    if shared.db_addresses_checked:
        return
    shared.db_addresses_checked = True
    hosts, origins = [], {}
    for target in state.inventory:
        try:
            hosts.append((target.name, host_settings(target)))
        except CONTROLLER_ERRORS:
            continue
        origins[target.name] = deploy_origin(target)
    mismatch = db_address_mismatch(hosts, lambda name: origins[name]("db_host"))
    if mismatch:
        raise settings.SettingsError(mismatch)


def jwks_once(resolved: settings.Settings) -> jwks.Jwks:
    fetched = run.of(pyinfra_state).jwks_by_url
    url = resolved.jwks_url
    if url not in fetched:
        source = url if "://" in url else str(project_path(url))
        fetched[url] = jwks.fetch(source, deadline_seconds=resolved.jwks_fetch_timeout)
        for warning in fetched[url].warnings:
            logger.warning(f"JWKS: {warning}")
    return fetched[url]


def images_once(resolved: settings.Settings) -> dict[str, images.CarriedImage]:
    """image_source = controller: the host's images, exported once per run (one cache per run)."""
    shared = run.of(pyinfra_state)
    if shared.images is None:
        shared.images = images.ControllerImageCache(images.CACHE_DIR)
    return shared.images.carry(resolved)
