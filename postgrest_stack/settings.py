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
_PATH_COMPONENT = r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*"
#: An image reference: [registry[:port]/]path[:tag][@sha256:digest] (groups: name, tag, digest).
IMAGE_REFERENCE = re.compile(
    rf"^(?P<name>(?:[a-z0-9](?:[a-z0-9-]*[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]*[a-z0-9])?)*(?::[0-9]{{1,5}})?/)?"
    rf"{_PATH_COMPONENT}(?:/{_PATH_COMPONENT})*)"
    r"(?::(?P<tag>[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}))?(?:@(?P<digest>sha256:[0-9a-f]{64}))?$"
)
_STACK_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]*$")
DOCKER_INSTALL_MODES = ("official", "distro", "skip")
IMAGE_SOURCES = ("registry", "controller")
STACK_ROLES = ("all", "db", "api")
_EXTERNAL_DB = re.compile(r"^postgres(?:ql)?://(?P<host>[A-Za-z0-9.-]+|\[[0-9a-fA-F:]+\]):?(?P<port>\d{1,5})?/(?P<db>[a-z_][a-z0-9_]*)(?P<query>\?[A-Za-z0-9_=&-]*)?$")


@dataclass(frozen=True)
class DatabaseAddress:
    """Where PostgREST (and, for an external database, the SQL) reaches PostgreSQL."""

    host: str
    port: int
    query: str = ""  # e.g. ?sslmode=require for a managed database


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
    stack_role: str = "all"
    db_host: str | None = None
    external_db_uri: str | None = None
    image_source: str = "registry"
    apt_proxy: str | None = None

    @property
    def runs_db(self) -> bool:
        """This host runs the database container."""
        return self.stack_role in ("all", "db") and not self.external_db_uri

    @property
    def runs_api(self) -> bool:
        """This host runs PostgREST (and Swagger UI where enabled)."""
        return self.stack_role in ("all", "api")

    @property
    def applies_sql(self) -> bool:
        """The SQL is applied from this host: where the database runs, or, for an
        external database, from an api host (once per run)."""
        return self.runs_db or (self.runs_api and bool(self.external_db_uri))

    @property
    def database(self) -> DatabaseAddress:
        if self.external_db_uri:
            match = _EXTERNAL_DB.match(self.external_db_uri)
            return DatabaseAddress(match["host"].strip("[]"), int(match["port"] or 5432), match["query"] or "")
        if self.runs_db:
            return DatabaseAddress("db", 5432)  # the compose service, on the stack's network
        return DatabaseAddress(self.db_host or "", self.db_port)

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
    match = IMAGE_REFERENCE.match(value)
    if not match or not (match["tag"] or match["digest"]):
        raise SettingsError(f"setting '{name}' must name an image with a pinned tag or digest, got {value!r}")
    if match["tag"] == "latest":
        raise SettingsError(f"setting '{name}' must pin a version, not 'latest': {value!r}")
    return value


def _url(data, name, value: str) -> str:
    if not re.match(r"^(https?|file)://\S+$", value) and not value.startswith(("/", ".")):
        raise SettingsError(f"setting '{name}' must be an https:// URL, a file:// URL or a path, got {value!r}")
    return value


def _apt_proxy(data) -> str | None:
    value = data.get("apt_proxy") or None
    if value is not None and (not isinstance(value, str) or not re.match(r"^https?://[A-Za-z0-9.\[\]:-]+(:\d{1,5})?/?$", value)):
        raise SettingsError(f"setting 'apt_proxy' must be an http(s)://HOST[:PORT] URL, got {value!r}")
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
    image_source = data.get("image_source") or "registry"
    if image_source not in IMAGE_SOURCES:
        raise SettingsError(f"setting 'image_source' must be one of {', '.join(IMAGE_SOURCES)}, got {image_source!r}")
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
        stack_role=_string(data, "stack_role"),
        db_host=data.get("db_host") or None,
        external_db_uri=data.get("external_db_uri") or None,
        image_source=image_source,
        apt_proxy=_apt_proxy(data),
    )
    _check_topology(settings)
    if settings.swagger_enabled and settings.runs_api and not data.get("public_api_url"):
        # Swagger UI runs in the user's browser: a loopback default would point it at
        # the user's own machine.
        raise SettingsError("setting 'public_api_url' is not set: Swagger UI needs the API's public URL")
    if settings.smoke_token_command is not None and not isinstance(settings.smoke_token_command, str):
        raise SettingsError(f"setting 'smoke_token_command' must be a shell command string, got {settings.smoke_token_command!r}")
    for name in ("jwt_issuer", "public_api_url"):
        value = getattr(settings, name)
        if not isinstance(value, str) or not value.isprintable():
            raise SettingsError(f"setting '{name}' must be a single-line string, got {value!r}")
    if len({settings.db_anon_role, settings.db_user_role, "authenticator", settings.db_superuser}) != 4:
        raise SettingsError("settings 'db_anon_role', 'db_user_role' and 'db_superuser' must differ from each other and from 'authenticator'")
    return settings


def _check_topology(settings: Settings) -> None:
    if settings.stack_role not in STACK_ROLES:
        raise SettingsError(f"setting 'stack_role' must be one of {', '.join(STACK_ROLES)}, got {settings.stack_role!r}")
    if settings.external_db_uri is not None:
        uri = settings.external_db_uri
        if not isinstance(uri, str) or not _EXTERNAL_DB.match(uri):
            raise SettingsError(
                "setting 'external_db_uri' must look like postgres://HOST[:PORT]/DBNAME[?sslmode=require], "
                "with no user or password (those come from db_superuser, 'authenticator' and the secrets)"
            )
        if settings.stack_role == "db":
            raise SettingsError("setting 'external_db_uri' is for api hosts: a 'db' host runs the database itself")
        if _EXTERNAL_DB.match(uri)["db"] != settings.db_name:
            raise SettingsError(f"setting 'external_db_uri' names database {_EXTERNAL_DB.match(uri)['db']!r} but 'db_name' is {settings.db_name!r}")
    if settings.stack_role == "api" and not settings.external_db_uri:
        if not settings.db_host:
            raise SettingsError("setting 'db_host' is not set: an api host needs the db host's private address (or external_db_uri)")
        if not re.match(r"^[A-Za-z0-9.:-]+$", str(settings.db_host)):
            raise SettingsError(f"setting 'db_host' must be a host name or IP address, got {settings.db_host!r}")


SETTING_NAMES = tuple(f.name for f in fields(Settings))
