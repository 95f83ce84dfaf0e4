"""Work done on the controller, before any host is touched.

pyinfra executes deploy.py once per host in one process: the JWKS is fetched and
validated once per run (kept in the run's shared state, tasks/run.py), so every host
of a run receives the same bytes.
"""

from __future__ import annotations

from typing import Any

from pyinfra import logger
from pyinfra import state as pyinfra_state

from postgrest_stack import jwks, migrations, project_path, secrets, settings, signing_keys
from tasks import images, run
from tasks.host_data import Origin, deploy_origin, pyinfra_keys

CONTROLLER_ERRORS = (settings.SettingsError, jwks.JwksError, images.ControllerImageError,
                     migrations.MigrationError)


def host_settings(host) -> settings.Settings:
    """The host's settings; a key that is no setting (nor pyinfra's) is refused with
    where it came from (--data, group_data/<group>.py, the inventory file)."""
    return settings.resolve(host.data.dict(), origin=deploy_origin(host), runner_keys=pyinfra_keys())


def host_settings_and_secrets(host) -> tuple[settings.Settings, dict[str, str]]:
    return settings_and_secrets(host.data.dict(), origin=deploy_origin(host))


def settings_and_secrets(data: dict[str, Any], origin: Origin | None = None) -> tuple[settings.Settings, dict[str, str]]:
    resolved = settings.resolve(data, origin=origin, runner_keys=pyinfra_keys())
    found = secrets.load(data)
    if data.get("dev_signing_key"):
        # Local inventory: the development key stands in for the Auth0 tenant.
        signing_keys.ensure_dev_key(project_path(data["dev_signing_key"]), resolved.jwks_url)
    return resolved, found


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
