"""From a host's data to its :class:`~postgrest_stack.settings.declared.Settings`.

Input is the flat mapping pyinfra builds from ``group_data/*.py``, the inventory and
``--data key=value``. :func:`resolve` refuses keys that are neither settings nor
pyinfra's own (``unknown setting 'x' (--data); did you mean 'y'?``), checks each value
with its setting's checker, fills in the derived defaults (``jwks_url``, ``jwt_issuer``,
``public_api_url``, ``postgrest_version``), then checks the settings against each other
(topology, the PostgREST release, the TLS edge, roles, schemas, published ports).
:func:`effective` is the same, as every declared setting's value
(``python -m postgrest_stack settings``). Every error is one line naming the setting.
"""

from __future__ import annotations

import difflib
import ipaddress
import types
from typing import Any, Callable, Mapping

from .. import versions
from .checks import IMAGE_REFERENCE, SettingsError, matched
from .declared import FIELD_NAMES, SETTINGS, SETTINGS_BY_NAME, Setting, Settings
from .uri import EXTERNAL_DB

# --- Keys that are not settings ----------------------------------------------------------

def _is_code(value: Any) -> bool:
    return isinstance(value, (type, types.FunctionType, types.BuiltinFunctionType, types.ModuleType))


class RunnerKeys(frozenset):
    """The data keys the runner itself reads, with the plain type each takes where it has
    one (``bool``, ``int``, ``float``): tasks.host_data.pyinfra_keys builds it from pyinfra's
    global arguments and connectors, which this package never imports."""

    types: Mapping[str, type]

    def __new__(cls, types: Mapping[str, type | None]):
        keys = super().__new__(cls, types)
        keys.types = {name: kind for name, kind in types.items() if kind in (bool, int, float)}
        return keys


_TYPE_TEXT = {bool: "True or False", int: "a whole number", float: "a number"}


def _check_runner_values(data: Mapping[str, Any], origin: Callable[[str], str] | None,
                         runner_keys: frozenset[str]) -> None:
    """A runner key with a value of the wrong type (``_sudo=maybe``, ``ssh_port=abc``) is
    refused here, before pyinfra reads it mid-run (a str ``_sudo`` is truthy: sudo on)."""
    for key, kind in getattr(runner_keys, "types", {}).items():
        value = data.get(key)
        if value is None:
            continue
        fits = isinstance(value, bool) if kind is bool else (
            isinstance(value, (int, float) if kind is float else int) and not isinstance(value, bool))
        if not fits:
            where = origin(key) if origin else ""
            raise SettingsError(f"pyinfra's {key!r}" + (f" ({where})" if where else "")
                                + f" must be {_TYPE_TEXT[kind]}, got {value!r}")


def check_keys(data: Mapping[str, Any], origin: Callable[[str], str] | None = None,
               runner_keys: frozenset[str] = frozenset()) -> None:
    """Refuse keys that are neither settings nor the runner's own (``runner_keys``: the data
    keys pyinfra itself reads, tasks.host_data.pyinfra_keys): one line per run naming
    each, where it came from (``origin(key)``) and the closest known key."""
    known = set(SETTINGS_BY_NAME) | runner_keys
    # A function, class or module defined in a group_data file is a helper, not data:
    # pyinfra keeps every top-level name of the file but the imported ones
    # (pyinfra_cli.inventory._get_group_data), so a `def helper()` arrives here; no
    # setting's value is ever one, so such keys are left alone.
    unknown = [key for key in data if key not in known and not _is_code(data[key])]
    lines = []
    for key in unknown:
        where = origin(key) if origin else ""
        text = f"unknown setting {key!r}" + (f" ({where})" if where else "")
        close = difflib.get_close_matches(str(key), sorted(known), n=1)
        lines.append(text + (f"; did you mean {close[0]!r}?" if close else ": not a setting nor a pyinfra data key"))
    if lines:
        raise SettingsError("; ".join(lines))
    _check_runner_values(data, origin, runner_keys)


# --- Resolution --------------------------------------------------------------------------


#: stack_role of a host that only keeps offsite backups: it needs none of the stack's required settings.
BACKUP_ROLE = "backup"


def _value(data: Mapping[str, Any], setting: Setting, backup_host: bool = False) -> Any:
    value = data.get(setting.name, setting.default)
    if value is None or value == "":
        if setting.required and backup_host:
            return None
        if setting.required or (setting.default is not None and not setting.secret):
            raise SettingsError(f"setting '{setting.name}' is not set: give it in group_data or with "
                                f"--data {setting.name}=...")
        return None
    return setting.check(setting.name, value)


def _resolved(data: Mapping[str, Any], origin: Callable[[str], str] | None,
              runner_keys: frozenset[str]) -> tuple[dict[str, Any], Settings]:
    """Every declared setting's value, and the Settings built from them, checked together."""
    check_keys(data, origin, runner_keys)
    backup_host = data.get("stack_role") == BACKUP_ROLE
    values = {setting.name: _value(data, setting, backup_host) for setting in SETTINGS}
    domain = values["auth0_domain"]
    # A backup host without a tenant: "" (it is never deployed to, nor rotated).
    if values["jwks_url"] is None:
        values["jwks_url"] = f"https://{domain}/.well-known/jwks.json" if domain else ""
    if values["jwt_issuer"] is None:
        values["jwt_issuer"] = f"https://{domain}/" if domain else ""
    public_api_url_given = values["public_api_url"] is not None
    if not public_api_url_given and values["tls_mode"] != "off" and values["public_hostname"]:
        # The edge's public origin (postgrest_stack/edge.py, public_origin).
        port = "" if values["edge_https_port"] == 443 else f":{values['edge_https_port']}"
        values["public_api_url"] = f"https://{values['public_hostname']}{port}"
        public_api_url_given = True
    elif not public_api_url_given:
        bind = values["postgrest_bind"]
        values["public_api_url"] = f"http://{f'[{bind}]' if ':' in bind else bind}:{values['postgrest_port']}"
    values["postgrest_version"] = _postgrest_version(values["postgrest_image"], values["postgrest_version"])
    settings = Settings(**{name: values[name] for name in FIELD_NAMES})
    _check_together(settings, public_api_url_given)
    return values, settings


def effective(data: Mapping[str, Any], origin: Callable[[str], str] | None = None,
              runner_keys: frozenset[str] = frozenset()) -> dict[str, Any]:
    """Every declared setting's value for a host (derived defaults filled in, secrets as
    their masked placeholders), after every check :func:`resolve` makes."""
    return _resolved(data, origin, runner_keys)[0]


def resolve(data: Mapping[str, Any], origin: Callable[[str], str] | None = None,
            runner_keys: frozenset[str] = frozenset()) -> Settings:
    """Validate ``data`` and return the settings a host's files are rendered from.

    ``origin(key)`` names where a key came from (--data, a group_data file, the
    inventory), for the message refusing an unknown key; ``runner_keys``: keys of the
    runner's own that ``data`` may hold besides settings (pyinfra's: ``ssh_user``,
    ``_sudo``, ...; the core imports nothing of pyinfra, so its callers name them)."""
    return _resolved(data, origin, runner_keys)[1]


def _postgrest_version(image: str, given: str | None) -> str:
    """The PostgREST release a host runs: ``postgrest_version`` when given, else the one
    ``postgrest_image``'s tag names; refused (one line) when neither names a supported one."""
    from_tag = versions.release_of_tag(matched(IMAGE_REFERENCE, image)["tag"])
    if given is not None:
        if from_tag is not None and str(from_tag) != given:
            raise SettingsError(f"settings 'postgrest_image' and 'postgrest_version' disagree: the image tag names "
                                f"PostgREST {from_tag}, postgrest_version is {given}")
        return given
    if from_tag is None:
        raise SettingsError(f"setting 'postgrest_version' is not set: 'postgrest_image' ({image}) names no "
                            f"PostgREST version (a digest pin or a tag such as 'devel'); give the image's version "
                            f"(supported: {versions.SUPPORTED_TEXT})")
    if from_tag.line is None:
        raise SettingsError(f"setting 'postgrest_image' names PostgREST {from_tag}, which this stack has no "
                            f"configuration for ({versions.unsupported_fix(from_tag)})")
    return str(from_tag)


def _check_postgrest_release(settings: Settings) -> None:
    """What the PostgREST release asks of the other settings (postgrest_stack/versions.py)."""
    profile = settings.profile
    image = matched(IMAGE_REFERENCE, settings.postgres_image)
    # Only the official postgres (and postgis) images' tags name the server's version; an
    # external database's version is not known here.
    if not settings.external_db_uri and image["name"].rsplit("/", 1)[-1] in ("postgres", "postgis"):
        postgres = versions.postgres_release(image["tag"])
        major, minor = postgres or (None, None)
        # A tag without a minor (postgres:12) is that major's newest release.
        if major is not None and (major, minor if minor is not None else 999) < profile.min_postgres:
            shown = major if minor is None else f"{major}.{minor}"
            oldest = ".".join(str(n) for n in profile.min_postgres)
            raise SettingsError(f"setting 'postgres_image' runs PostgreSQL {shown}, but PostgREST "
                                f"{profile.release} needs PostgreSQL {oldest} or later")
    if profile.line == "16" and settings.db_schema == "information_schema":
        # CHANGELOG 16.0, "Migration to v16" (#4359): PostgREST 16 fails at startup.
        raise SettingsError("setting 'db_schema' must not be 'information_schema': PostgREST 16 refuses to "
                            "start with it")


def _check_together(settings: Settings, public_api_url_given: bool) -> None:
    _check_topology(settings)
    _check_postgrest_release(settings)
    _check_edge(settings)
    if settings.swagger_enabled and settings.runs_api and not public_api_url_given:
        # Swagger UI runs in the user's browser: a loopback default would point it at
        # the user's own machine.
        raise SettingsError("setting 'public_api_url' is not set: Swagger UI needs the API's public URL")
    if len({settings.db_anon_role, settings.db_user_role, "authenticator", settings.db_superuser}) != 4:
        raise SettingsError("settings 'db_anon_role', 'db_user_role' and 'db_superuser' must differ from each other "
                            "and from 'authenticator'")
    for other in ("db_anon_role", "db_user_role", "db_superuser"):
        if settings.db_owner_role == getattr(settings, other):
            raise SettingsError(f"setting 'db_owner_role' must differ from '{other}' (the migrations' owner is "
                                f"neither the superuser nor one of PostgREST's roles), both are "
                                f"{settings.db_owner_role!r}")
    if settings.db_owner_role == "authenticator":
        raise SettingsError("setting 'db_owner_role' must not be 'authenticator' (the migrations' owner is neither "
                            "the superuser nor one of PostgREST's roles)")
    if settings.db_schema in PROJECT_SCHEMAS:
        raise SettingsError(f"setting 'db_schema' must not be {settings.db_schema!r}: that schema is the project's "
                            "(the pre-request guard, the migrations ledger) and PostgREST must never expose it")
    _check_ports(settings)


#: The project's own schemas (render.GUARD_SCHEMA, migrations.LEDGER_SCHEMA), never exposed.
PROJECT_SCHEMAS = ("auth_guard", "stack_meta")


def _check_topology(settings: Settings) -> None:
    if settings.external_db_uri is not None:
        if settings.stack_role == "db":
            raise SettingsError("setting 'external_db_uri' is for api hosts: a 'db' host runs the database itself")
        named = matched(EXTERNAL_DB, settings.external_db_uri)["db"]
        if named != settings.db_name:
            raise SettingsError(f"setting 'external_db_uri' names database {named!r} but 'db_name' is "
                                f"{settings.db_name!r}")
    if settings.stack_role == "api" and not settings.external_db_uri and not settings.db_host:
        raise SettingsError("setting 'db_host' is not set: an api host needs the db host's private address "
                            "(or external_db_uri)")


def _check_edge(settings: Settings) -> None:
    """What tls_mode asks of the other settings; the certificate files themselves are
    read and checked where they are rendered (postgrest_stack/edge.py, load_pair)."""
    mode = settings.tls_mode
    if mode == "off":
        return
    if not settings.public_hostname:
        raise SettingsError(f"setting 'public_hostname' is not set: tls_mode '{mode}' needs the API's DNS name "
                            "(the edge's site and certificate name)")
    if mode == "acme" and not settings.acme_email:
        raise SettingsError("setting 'acme_email' is not set: tls_mode 'acme' needs a contact address for the "
                            "ACME account")
    if mode == "files":
        for name in ("tls_cert_file", "tls_key_file"):
            if not getattr(settings, name):
                raise SettingsError(f"setting '{name}' is not set: tls_mode 'files' needs the certificate and its "
                                    "key on the controller")
    if settings.runs_api and not ipaddress.ip_address(settings.postgrest_bind).is_loopback:
        raise SettingsError(f"setting 'postgrest_bind' must be a loopback address when tls_mode is '{mode}' (the "
                            f"edge is the only public entry), got {settings.postgrest_bind!r}")


def published_ports(settings: Settings) -> list[tuple[str, str, int]]:
    """``(setting, address, port)`` of every port this host publishes."""
    published = []
    if settings.runs_db:
        published.append(("db_port", settings.db_bind, settings.db_port))
    if settings.runs_api:
        published.append(("postgrest_port", settings.postgrest_bind, settings.postgrest_port))
        published.append(("postgrest_admin_port", "127.0.0.1", settings.postgrest_admin_port))
        if settings.swagger_enabled and not settings.runs_edge:
            published.append(("swagger_port", settings.swagger_bind, settings.swagger_port))
    if settings.runs_edge:  # Swagger UI, if enabled, is behind the edge, not published
        published.append(("edge_http_port", settings.edge_bind, settings.edge_http_port))
        published.append(("edge_https_port", settings.edge_bind, settings.edge_https_port))
    return published


def _overlap(first: str, second: str) -> bool:
    a, b = ipaddress.ip_address(first), ipaddress.ip_address(second)
    return a == b or a.is_unspecified or b.is_unspecified


def _check_ports(settings: Settings) -> None:
    if settings.runs_api and settings.postgrest_port == settings.postgrest_admin_port:
        raise SettingsError(f"settings 'postgrest_port' and 'postgrest_admin_port' must differ, both are "
                            f"{settings.postgrest_port}")
    published = published_ports(settings)
    for index, (name, address, port) in enumerate(published):
        for other, other_address, other_port in published[index + 1:]:
            if port == other_port and _overlap(address, other_address):
                raise SettingsError(f"settings '{name}' and '{other}' must differ: both publish port {port} on "
                                    f"{address if address == other_address else f'{address} and {other_address}'}")
