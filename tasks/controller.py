"""Work done once per run on the controller, before any host is touched.

pyinfra executes deploy.py once per host in one process; this module's cache makes
the JWKS fetched and validated once, so every host of a run receives the same bytes.
"""

from __future__ import annotations

from typing import Any

from pyinfra import logger

from postgrest_stack import jwks, project_path, secrets, settings, signing_keys
from postgrest_stack.host_data import Origin, deploy_origin
from tasks import images

CONTROLLER_ERRORS = (settings.SettingsError, jwks.JwksError, images.ControllerImageError)
_jwks_by_url: dict[str, jwks.Jwks] = {}


def host_settings(host) -> settings.Settings:
    """The host's settings; a key that is no setting (nor pyinfra's) is refused with
    where it came from (--data, group_data/<group>.py, the inventory file)."""
    return settings.resolve(host.data.dict(), origin=deploy_origin(host))


def host_settings_and_secrets(host) -> tuple[settings.Settings, dict[str, str]]:
    return settings_and_secrets(host.data.dict(), origin=deploy_origin(host))


def settings_and_secrets(data: dict[str, Any], origin: Origin | None = None) -> tuple[settings.Settings, dict[str, str]]:
    resolved = settings.resolve(data, origin=origin)
    found = secrets.load(data)
    if data.get("dev_signing_key"):
        # Local inventory: the development key stands in for the Auth0 tenant.
        signing_keys.ensure_dev_key(project_path(data["dev_signing_key"]), project_path(resolved.jwks_url))
    return resolved, found


def jwks_once(resolved: settings.Settings) -> jwks.Jwks:
    url = resolved.jwks_url
    if url not in _jwks_by_url:
        source = url if "://" in url else str(project_path(url))
        _jwks_by_url[url] = jwks.fetch(source, deadline_seconds=resolved.jwks_fetch_timeout)
        for warning in _jwks_by_url[url].warnings:
            logger.warning(f"JWKS: {warning}")
    return _jwks_by_url[url]


def images_once(resolved: settings.Settings) -> dict[str, images.CarriedImage]:
    """image_source = controller: the host's images, exported once per run (images.IMAGE_CACHE)."""
    return images.IMAGE_CACHE.carry(resolved)
