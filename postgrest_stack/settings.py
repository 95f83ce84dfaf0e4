"""Resolve and validate a host's settings.

Input is the flat mapping pyinfra builds from ``group_data/*.py``, the inventory and
``--data key=value``; output is a frozen :class:`Settings`. Defaults and their
documentation live in ``group_data/all.py``; derived defaults (``jwks_url``,
``jwt_issuer``, ``public_api_url``) are computed here. Every error names the setting.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass, fields
from typing import Any, Mapping


class SettingsError(ValueError):
    """A setting is missing or malformed; the message names it."""


_IDENTIFIER = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")
_DOMAIN = re.compile(r"^(?=.{1,253}$)[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$")
_IMAGE = re.compile(r"^[a-z0-9][a-z0-9._/-]*(:[A-Za-z0-9_][A-Za-z0-9_.-]{0,127})?(@sha256:[0-9a-f]{64})?$")
_STACK_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]*$")
DOCKER_INSTALL_MODES = ("official", "distro", "skip")


@dataclass(frozen=True)
class Settings:
    stack_name: str
    app_dir: str
    auth0_domain: str
    jwks_url: str
    jwt_audience: str
    jwt_issuer: str
    jwt_role_claim: str
    postgrest_image: str
    postgres_image: str
    swagger_image: str
    swagger_enabled: bool
    swagger_bind: str
    swagger_port: int
    public_api_url: str
    postgrest_bind: str
    postgrest_port: int
    postgrest_admin_port: int
    db_bind: str
    db_port: int
    db_name: str
    db_superuser: str
    db_schema: str
    db_anon_role: str
    db_user_role: str
    docker_install: str
    health_timeout: int
    jwks_fetch_timeout: int
    smoke_token_command: str | None

    @property
    def jwks_container_path(self) -> str:
        return "/etc/postgrest/jwks.json"


def _require(data: Mapping[str, Any], name: str) -> Any:
    value = data.get(name)
    if value is None or value == "":
        raise SettingsError(f"setting '{name}' is not set: give it in group_data or with --data {name}=...")
    return value


def _string(data, name) -> str:
    value = _require(data, name)
    if not isinstance(value, str):
        raise SettingsError(f"setting '{name}' must be a string, got {value!r}")
    if any(c in value for c in "\n\r\0"):
        raise SettingsError(f"setting '{name}' must be a single line")
    return value


def _port(data, name) -> int:
    value = _require(data, name)
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 65535:
        raise SettingsError(f"setting '{name}' must be a port number from 1 to 65535, got {value!r}")
    return value


def _seconds(data, name) -> int:
    value = _require(data, name)
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 3600:
        raise SettingsError(f"setting '{name}' must be a number of seconds from 1 to 3600, got {value!r}")
    return value


def _bool(data, name) -> bool:
    value = data.get(name, False)
    if not isinstance(value, bool):
        raise SettingsError(f"setting '{name}' must be true or false, got {value!r}")
    return value


def _address(data, name) -> str:
    value = _string(data, name)
    try:
        ipaddress.ip_address(value)
    except ValueError:
        raise SettingsError(f"setting '{name}' must be an IP address, got {value!r}") from None
    return value


def _identifier(data, name) -> str:
    value = _string(data, name)
    if not _IDENTIFIER.match(value):
        raise SettingsError(
            f"setting '{name}' must be a lower-case SQL identifier (letters, digits, _), got {value!r}"
        )
    return value


def _image(data, name) -> str:
    value = _string(data, name)
    if not _IMAGE.match(value) or (":" not in value.rsplit("/", 1)[-1] and "@" not in value):
        raise SettingsError(f"setting '{name}' must name an image with a pinned tag or digest, got {value!r}")
    if value.split("@")[0].endswith(":latest"):
        raise SettingsError(f"setting '{name}' must pin a version, not 'latest': {value!r}")
    return value


def _url(data, name, value: str) -> str:
    if not re.match(r"^(https?|file)://\S+$", value) and not value.startswith(("/", ".")):
        raise SettingsError(f"setting '{name}' must be an https:// URL, a file:// URL or a path, got {value!r}")
    return value


def _role_claim(data) -> str:
    value = _string(data, "jwt_role_claim")
    if '"' in value or "\\" in value or not value.isprintable():
        # PostgREST's JSPath has no escape for a quote inside a quoted key.
        raise SettingsError(f"setting 'jwt_role_claim' must not contain quotes or backslashes, got {value!r}")
    return value


def resolve(data: Mapping[str, Any]) -> Settings:
    """Validate ``data`` and return the settings a host's files are rendered from."""
    domain = _string(data, "auth0_domain")
    if not _DOMAIN.match(domain):
        raise SettingsError(f"setting 'auth0_domain' must be a host name such as 'tenant.eu.auth0.com', got {domain!r}")
    postgrest_bind = _address(data, "postgrest_bind")
    postgrest_port = _port(data, "postgrest_port")
    docker_install = _string(data, "docker_install")
    if docker_install not in DOCKER_INSTALL_MODES:
        raise SettingsError(f"setting 'docker_install' must be one of {', '.join(DOCKER_INSTALL_MODES)}, got {docker_install!r}")
    stack_name = _string(data, "stack_name")
    if not _STACK_NAME.match(stack_name):
        raise SettingsError(f"setting 'stack_name' must be lower-case letters, digits, '-' or '_', got {stack_name!r}")
    app_dir = _string(data, "app_dir")
    if not app_dir.startswith("/") or app_dir.rstrip("/") == "":
        raise SettingsError(f"setting 'app_dir' must be an absolute path other than '/', got {app_dir!r}")
    host_for_url = f"[{postgrest_bind}]" if ":" in postgrest_bind else postgrest_bind

    settings = Settings(
        stack_name=stack_name,
        app_dir=app_dir.rstrip("/"),
        auth0_domain=domain,
        jwks_url=_url(data, "jwks_url", data.get("jwks_url") or f"https://{domain}/.well-known/jwks.json"),
        jwt_audience=_string(data, "jwt_audience"),
        jwt_issuer=data.get("jwt_issuer") or f"https://{domain}/",
        jwt_role_claim=_role_claim(data),
        postgrest_image=_image(data, "postgrest_image"),
        postgres_image=_image(data, "postgres_image"),
        swagger_image=_image(data, "swagger_image"),
        swagger_enabled=_bool(data, "swagger_enabled"),
        swagger_bind=_address(data, "swagger_bind"),
        swagger_port=_port(data, "swagger_port"),
        public_api_url=data.get("public_api_url") or f"http://{host_for_url}:{postgrest_port}",
        postgrest_bind=postgrest_bind,
        postgrest_port=postgrest_port,
        postgrest_admin_port=_port(data, "postgrest_admin_port"),
        db_bind=_address(data, "db_bind"),
        db_port=_port(data, "db_port"),
        db_name=_identifier(data, "db_name"),
        db_superuser=_identifier(data, "db_superuser"),
        db_schema=_identifier(data, "db_schema"),
        db_anon_role=_identifier(data, "db_anon_role"),
        db_user_role=_identifier(data, "db_user_role"),
        docker_install=docker_install,
        health_timeout=_seconds(data, "health_timeout"),
        jwks_fetch_timeout=_seconds(data, "jwks_fetch_timeout"),
        smoke_token_command=data.get("smoke_token_command") or None,
    )
    if settings.smoke_token_command is not None and not isinstance(settings.smoke_token_command, str):
        raise SettingsError(f"setting 'smoke_token_command' must be a shell command string, got {settings.smoke_token_command!r}")
    for name in ("jwt_issuer", "public_api_url"):
        value = getattr(settings, name)
        if not isinstance(value, str) or not value.isprintable():
            raise SettingsError(f"setting '{name}' must be a single-line string, got {value!r}")
    if len({settings.db_anon_role, settings.db_user_role, "authenticator", settings.db_superuser}) != 4:
        raise SettingsError("settings 'db_anon_role', 'db_user_role' and 'db_superuser' must differ from each other and from 'authenticator'")
    return settings


SETTING_NAMES = tuple(f.name for f in fields(Settings))
