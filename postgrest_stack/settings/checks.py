"""The checkers, one per kind of value a setting takes, and the error they raise.

Each checker is an instance of :class:`Check` named in the declaration
(:mod:`postgrest_stack.settings.declared`); its ``accepts`` is shown in docs/settings.md's
settings table and in group_data/all.py, and every refusal is one line naming the
setting. The URI grammar they rely on is in :mod:`postgrest_stack.settings.uri`.
"""

from __future__ import annotations

import ipaddress
import re
from typing import Any
from urllib.parse import parse_qsl

from .. import versions
from .uri import DOMAIN, EXTERNAL_DB, host_and_port, parse_uri, valid_port


class SettingsError(ValueError):
    """A setting is missing or malformed; the message names it."""


class SecretRef(str):
    """Placeholder for a secret in host data: its text is a mask naming the source."""

    variable: str  # the environment variable the secret comes from

    def __new__(cls, variable: str):
        ref = super().__new__(cls, f"<secret from ${variable} or secrets_file>")
        ref.variable = variable
        return ref

    def __reduce__(self):  # pyinfra copies data values: keep the type
        return (SecretRef, (self.variable,))


# --- Patterns --------------------------------------------------------------------------

_IDENTIFIER = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")
_PATH_COMPONENT = r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*"
#: An image reference: [registry[:port]/]path[:tag][@sha256:digest] (groups: name, tag, digest).
IMAGE_REFERENCE = re.compile(
    rf"^(?P<name>(?:[a-z0-9](?:[a-z0-9-]*[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]*[a-z0-9])?)*(?::[0-9]{{1,5}})?/)?"
    rf"{_PATH_COMPONENT}(?:/{_PATH_COMPONENT})*)"
    r"(?::(?P<tag>[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}))?(?:@(?P<digest>sha256:[0-9a-f]{64}))?$"
)


def matched(pattern: re.Pattern[str], accepted: str) -> re.Match[str]:
    """The groups of a value its checker accepted, so ``pattern`` matches it (an
    image, external_db_uri); ValueError otherwise, which would be a bug here."""
    match = pattern.match(accepted)
    if match is None:
        raise ValueError(f"{accepted!r} passed its check but does not match {pattern.pattern!r}")
    return match


#: libpq connection parameters that carry (or fetch) credentials: never in external_db_uri.
_CREDENTIAL_PARAMETERS = ("user", "password", "passfile", "sslpassword", "service", "servicefile")
#: libpq parameters that would silently override what the URI itself names.
_OVERRIDING_PARAMETERS = ("host", "hostaddr", "port", "dbname")

#: PostgreSQL 15's reserved key words: those marked "reserved" and "reserved (can be
#: function or type)" in the PostgreSQL column of the documentation's Appendix C, "SQL
#: Key Words" (https://www.postgresql.org/docs/15/sql-keywords-appendix.html); the same
#: list as ``SELECT word FROM pg_get_keywords() WHERE catcode IN ('R', 'T')`` (checked
#: against a real server by tests/contract/test_settings_rules.py). None of them can be
#: an unquoted schema or role name, and the stack's SQL does not quote them.
RESERVED_WORDS = frozenset("""
    all analyse analyze and any array as asc asymmetric both case cast check collate column
    constraint create current_catalog current_date current_role current_time
    current_timestamp current_user default deferrable desc distinct do else end except
    false fetch for foreign from grant group having in initially intersect into lateral
    leading limit localtime localtimestamp not null offset on only or order placing primary
    references returning select session_user some symmetric table then to trailing true
    union unique user using variadic when where window with
    authorization binary collation concurrently cross current_schema freeze full ilike
    inner is isnull join left like natural notnull outer overlaps right similar tablesample
    verbose
""".split())
#: Role names PostgreSQL refuses in CREATE ROLE although they are not key words.
RESERVED_ROLE_NAMES = frozenset({"public", "none"})


# --- Checkers: one per kind of value -----------------------------------------------------
# Each takes (setting name, value given), returns the value to use, or raises SettingsError
# with one line naming the setting and what it accepts (``accepts``, also shown in the
# docs/settings.md's table and group_data/all.py).


class Check:
    accepts = ""

    def __call__(self, name: str, value: Any) -> Any:
        raise NotImplementedError

    def fail(self, name: str, value: Any) -> SettingsError:
        return SettingsError(f"setting '{name}' must be {self.accepts}, got {value!r}")


def _line(name: str, value: Any) -> str:
    if not isinstance(value, str):
        raise SettingsError(f"setting '{name}' must be a string, got {value!r}")
    if any(c in value for c in "\n\r\0"):
        raise SettingsError(f"setting '{name}' must be a single line")
    return value


class Text(Check):
    """A single-line string, matching ``pattern`` when one is given."""

    def __init__(self, accepts: str, pattern: re.Pattern | None = None):
        self.accepts, self.pattern = accepts, pattern

    def __call__(self, name, value):
        value = _line(name, value)
        if self.pattern and not self.pattern.match(value):
            raise self.fail(name, value)
        return value


class Number(Check):
    """A whole number in a range; the decimal string pyinfra might pass is accepted too."""

    def __init__(self, low: int, high: int, what: str):
        self.low, self.high = low, high
        self.accepts = f"{what} from {low} to {high}"

    def __call__(self, name, value):
        number = value
        if isinstance(value, str) and re.fullmatch(r"[0-9]{1,9}", value.strip()):
            number = int(value.strip())
        if isinstance(number, bool) or not isinstance(number, int) or not self.low <= number <= self.high:
            raise self.fail(name, value)
        return number


class Flag(Check):
    """True or false: Python booleans, or the words pyinfra's ``--data`` and YAML-ish text use."""

    accepts = "true or false"

    def __call__(self, name, value):
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.strip().lower() in ("true", "false"):
            return value.strip().lower() == "true"
        raise self.fail(name, value)


class Choice(Check):
    def __init__(self, *values: str):
        self.values = values
        self.accepts = f"one of {', '.join(values)}"

    def __call__(self, name, value):
        if value not in self.values:
            raise self.fail(name, value)
        return value


class IpAddress(Check):
    accepts = "an IP address"

    def __call__(self, name, value):
        value = _line(name, value)
        try:
            ipaddress.ip_address(value)
        except ValueError:
            raise self.fail(name, value) from None
        return value


class HostName(Check):
    def __init__(self, accepts: str, ip: bool):
        self.accepts, self.ip = accepts, ip

    def __call__(self, name, value):
        value = _line(name, value)
        if self.ip:
            try:
                ipaddress.ip_address(value)
                return value
            except ValueError:
                pass
        if not DOMAIN.match(value) or re.fullmatch(r"[0-9.]+", value):
            raise self.fail(name, value)
        return value


class Identifier(Check):
    """An unquoted SQL identifier; ``kind`` "schema" or "role" adds PostgreSQL's reservations."""

    def __init__(self, kind: str):
        self.kind = kind
        self.accepts = "a lower-case SQL identifier (letters, digits, _)"
        if kind != "database":
            self.accepts += ", not a reserved SQL key word, not starting with pg_"

    def __call__(self, name, value):
        value = _line(name, value)
        if not _IDENTIFIER.match(value):
            raise self.fail(name, value)
        if self.kind == "database":
            return value
        if value in RESERVED_WORDS:
            raise SettingsError(f"setting '{name}' must not be a reserved SQL key word (PostgreSQL refuses it "
                                f"as a {self.kind} name), got {value!r}")
        if self.kind == "role" and value in RESERVED_ROLE_NAMES:
            raise SettingsError(f"setting '{name}' must not be {value!r}: PostgreSQL reserves it as a role name")
        if value.startswith("pg_"):
            raise SettingsError(f"setting '{name}' must not start with 'pg_' (PostgreSQL reserves such "
                                f"{self.kind} names), got {value!r}")
        return value


class Image(Check):
    accepts = "an image pinned by tag or digest (name:tag, name@sha256:<hex>), never latest"

    def __call__(self, name, value):
        value = _line(name, value)
        match = IMAGE_REFERENCE.match(value)
        if not match or not (match["tag"] or match["digest"]):
            raise SettingsError(f"setting '{name}' must name an image with a pinned tag or digest, got {value!r}")
        if match["tag"] == "latest":
            raise SettingsError(f"setting '{name}' must pin a version, not 'latest': {value!r}")
        return value


#: Directories the system or other users own: the deploy makes app_dir root's 0700 (chown
#: 0:0, chmod 700), so none of them may be app_dir itself. Their subdirectories may
#: (/opt/postgrest, /srv/api, /var/lib/postgrest), except under SYSTEM_TREES.
SYSTEM_DIRECTORIES = frozenset({
    "/", "/home", "/media", "/mnt", "/opt", "/root", "/snap", "/srv", "/tmp", "/var", "/lost+found",
    "/usr/local", *(f"/usr/local/{d}" for d in ("bin", "etc", "games", "include", "lib", "libexec", "man", "sbin",
                                                 "share", "src")),
    *(f"/var/{d}" for d in ("backups", "cache", "lib", "local", "lock", "log", "mail", "opt", "run", "spool", "tmp",
                            "www")),
    *(f"/var/lib/{d}" for d in ("apt", "containerd", "docker", "dpkg", "postgresql", "systemd")),
})
#: Trees that belong to the system as a whole (packages, kernel, boot, runtime state):
#: neither they nor anything below them. /usr/local/NAME is the one way into /usr.
SYSTEM_TREES = ("/bin", "/boot", "/dev", "/etc", "/lib", "/lib32", "/lib64", "/libx32", "/proc", "/run", "/sbin",
                "/sys", "/usr")
#: World-writable directories: any user may create (or symlink) a name directly in them
#: before the deploy does, and the deploy would then chown and chmod what it points at.
WORLD_WRITABLE = ("/tmp", "/var/tmp")


def _system_directory(path: str) -> str | None:
    """Why ``path`` is a system or shared place (a few words), None when it is fine."""
    if path in SYSTEM_DIRECTORIES:
        return f"{path} is a system or shared directory"
    for tree in SYSTEM_TREES:
        if path == tree or (path.startswith(tree + "/") and not path.startswith("/usr/local/")):
            return f"{path} is in the system tree {tree}" if path != tree else f"{path} is a system directory"
    parent = path.rsplit("/", 1)[0] or "/"
    if parent in WORLD_WRITABLE:
        return f"{path} is directly in the world-writable {parent}"
    if parent == "/home":
        return f"{path} is a user's home directory"
    return None


class AbsolutePath(Check):
    """``app_dir``: absolute, normalised (no '.', '..' or empty component; one trailing
    '/' is dropped), and neither a system or shared directory nor a direct child of a
    world-writable one."""

    accepts = "an absolute path of its own (normalised; not /tmp, /etc, /opt or another system or shared directory)"

    def __call__(self, name, value):
        value = _line(name, value)
        if not value.startswith("/") or value.rstrip("/") == "":
            raise self.fail(name, value)
        path = value[:-1] if value.endswith("/") else value
        if any(part in ("", ".", "..") for part in path.split("/")[1:]):
            raise SettingsError(f"setting '{name}' must be a normalised absolute path (no '.', '..' or empty "
                                f"component), got {value!r}")
        reason = _system_directory(path)
        if reason is not None:
            raise SettingsError(f"setting '{name}' must be a directory of the stack's own (the deploy makes it root's, "
                                f"mode 0700), such as /opt/postgrest: {reason}, got {value!r}")
        return path


class KeySource(Check):
    """Where the JWKS is read: an http(s) URL, a file:// URL or a path on the controller."""

    accepts = "an https:// URL, a file:// URL or a path"

    def __call__(self, name, value):
        value = _line(name, value)
        if value.startswith(("/", ".")) and not any(c.isspace() for c in value):
            return value
        scheme, sep, rest = value.partition("://")
        if sep and scheme == "file" and rest and not any(c.isspace() for c in rest):
            return value
        if sep and scheme in ("http", "https"):
            netloc = re.split(r"[/?#]", rest, maxsplit=1)[0]
            parsed = host_and_port(netloc)
            if parsed and (parsed[1] is None or valid_port(parsed[1])) and not any(c.isspace() for c in rest):
                return value
        raise self.fail(name, value)


class AptProxy(Check):
    accepts = "an http(s)://HOST[:PORT] URL"

    def __call__(self, name, value):
        if not isinstance(value, str):
            raise self.fail(name, value)
        match = re.fullmatch(r"https?://(?P<netloc>[^/\s]+)/?", value)
        parsed = host_and_port(match["netloc"]) if match else None
        if not parsed or (parsed[1] is not None and not valid_port(parsed[1])):
            raise self.fail(name, value)
        return value


class StringOrUri(Check):
    """A JWT StringOrURI (RFC 7519): any string without ':', else an absolute URI.

    PostgREST 12 (jose's ``stringOrUri``) refuses a ``jwt-aud`` with a ':' that network-uri
    cannot parse as a URI ("Invalid Jwt audience") and does not start.
    """

    accepts = "a string without ':' or an absolute URI such as https://api.example.com"

    def __call__(self, name, value):
        value = _line(name, value)
        if not value.isprintable():
            raise self.fail(name, value)
        if ":" in value and parse_uri(value) is None:
            raise SettingsError(f"setting '{name}' must be a valid URI when it contains ':' (JWT StringOrURI; "
                                f"PostgREST refuses anything else), got {value!r}")
        return value


class ProxyUri(Check):
    """PostgREST's ``openapi-server-proxy-uri`` rule ("Malformed proxy uri" otherwise):
    an absolute http(s) URI with a host, no user, a port (when given) from 1 to 65535,
    no query and no fragment; any valid path."""

    accepts = "an absolute http:// or https:// URL with a host and no user, query or fragment"

    def __call__(self, name, value):
        value = _line(name, value)
        uri = parse_uri(value)
        if (uri is None or uri.scheme.lower() not in ("http", "https") or not uri.host or uri.userinfo is not None
                or (uri.port is not None and not valid_port(uri.port))
                or uri.query is not None or uri.fragment is not None):
            raise SettingsError(f"setting '{name}' must be {self.accepts} "
                                f"(e.g. https://api.example.com), got {value!r}")
        return value


class HttpsUrl(Check):
    """An absolute https URL with a host, no user and no fragment (an ACME directory)."""

    accepts = "an https:// URL with a host and no user or fragment"

    def __call__(self, name, value):
        value = _line(name, value)
        uri = parse_uri(value)
        if (uri is None or uri.scheme.lower() != "https" or not uri.host or uri.userinfo is not None
                or (uri.port is not None and not valid_port(uri.port)) or uri.fragment is not None):
            raise self.fail(name, value)
        return value


class Email(Check):
    """A plain mail address: no quoting, comments or braces (it goes into the Caddyfile as is)."""

    accepts = "a mail address such as ops@example.com"
    _LOCAL = re.compile(r"^[A-Za-z0-9.!#$%&*+/=?^_~-]{1,64}$")

    def __call__(self, name, value):
        value = _line(name, value)
        local, at, domain = value.rpartition("@")
        if not at or not self._LOCAL.match(local) or not DOMAIN.match(domain) or "." not in domain:
            raise self.fail(name, value)
        if value.startswith("#"):  # valid mail, but a Caddyfile comment: `email` would get no argument
            raise SettingsError(f"setting '{name}' must not start with '#' (the Caddyfile reads a comment), "
                                f"got {value!r}")
        return value


class ExternalDbUri(Check):
    accepts = "postgres://HOST[:PORT]/DBNAME[?sslmode=require] with no user or password"

    def __call__(self, name, value):
        shape = SettingsError(
            f"setting '{name}' must look like postgres://HOST[:PORT]/DBNAME[?sslmode=require], "
            "with no user or password (those come from db_superuser, 'authenticator' and the secrets)"
        )
        if not isinstance(value, str):
            raise shape
        match = re.fullmatch(r"postgres(?:ql)?://(?P<netloc>[^/?#]*)(?P<path>/[^?#]*)?(?:\?(?P<query>[^#]*))?", value)
        if not match:
            raise shape
        if "@" in match["netloc"]:
            raise SettingsError(f"setting '{name}' must name no user or password before the host: they come from "
                                "db_superuser, 'authenticator' and the secrets")
        for key, _value in parse_qsl(match["query"] or "", keep_blank_values=True):
            if key in _CREDENTIAL_PARAMETERS:
                raise SettingsError(f"setting '{name}' must not carry '{key}' in its query: no user or password in "
                                    "it (they come from db_superuser, 'authenticator' and the secrets)")
            if key in _OVERRIDING_PARAMETERS:
                raise SettingsError(f"setting '{name}' must not set '{key}' in its query: give the host, port "
                                    "and database in the URI itself")
        port = re.search(r"(?:^|\]|[^:\]]):(?P<port>[^:\]]*)$", match["netloc"])
        if port and not valid_port(port["port"]):
            raise SettingsError(f"setting '{name}' must have a port from 1 to 65535, got {port['port']!r}")
        if not EXTERNAL_DB.match(value):
            raise shape
        return value


class RoleClaim(Check):
    accepts = "a printable claim name without quotes or backslashes"

    def __call__(self, name, value):
        value = _line(name, value)
        if '"' in value or "\\" in value or not value.isprintable():
            # PostgREST's JSPath has no escape for a quote inside a quoted key.
            raise SettingsError(f"setting '{name}' must not contain quotes or backslashes, got {value!r}")
        return value


class PostgrestVersion(Check):
    """A PostgREST release of a line this stack renders a configuration for (versions.py)."""

    accepts = (f"a PostgREST release of a supported line ({versions.SUPPORTED_TEXT}), "
               "e.g. 12.0.2, 12.2.12, 13.0.8, 14.17, 16.2")

    def __call__(self, name, value):
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            # pyinfra's --data (pyinfra_cli.util.parse_cli_arg: int(), then json.loads) and
            # a bare number in a group_data file make 16.2 a float: take the version it
            # reads as. A float drops trailing zeros (16.10 becomes 16.1), but only the
            # MAJOR.PATCH lines (14, 16) can arrive as one, and their configuration depends
            # on the line alone (versions.profile), so the render is the same; quote the
            # value to keep it exact.
            value = repr(value)
        value = _line(name, value)
        release = versions.parse_release(value)
        if release is None:
            raise SettingsError(f"setting '{name}' must be a PostgREST version such as 12.0.2 or 14.17 "
                                f"(supported: {versions.SUPPORTED_TEXT}), got {value!r}")
        if release.line is None:
            raise SettingsError(f"setting '{name}' names PostgREST {release}, which this stack has no "
                                f"configuration for ({versions.unsupported_fix(release)})")
        return str(release)


class Command(Check):
    accepts = "a shell command run on the controller"

    def __call__(self, name, value):
        if not isinstance(value, str):
            raise SettingsError(f"setting '{name}' must be a shell command string, got {value!r}")
        return value


class Secret(Check):
    """Only the placeholder of group_data/all.py: the value comes from the environment or
    secrets_file, never from host data or ``--data`` (it would be printed)."""

    def __init__(self, variable: str):
        self.variable = variable
        self.accepts = f"only this placeholder: the value comes from ${variable} or secrets_file"

    def __call__(self, name, value):
        if not isinstance(value, SecretRef):
            raise SettingsError(
                f"secret '{name}' must not be given in host data or with --data (it would be printed): "
                f"set {self.variable} in the environment or in secrets_file"
            )
        return value
