"""What each PostgREST line gets: postgrest.conf, compose's healthcheck, the health gate
and the reload wait, pinned per version.

Only 12.0.2 runs here (tests/contract with the real binary, tests/e2e in its image).
For every other line these tests pin what is rendered from PostgREST's CHANGELOG.md and
documentation; each expectation names the entry it follows. Nothing here has run
against a real 12.2, 13, 14 or 16.
"""

from __future__ import annotations

import re

import pytest

from postgrest_stack import render, settings, versions

CLAIM = "https://postgrest-demo.de/role"


def files_for(data, secrets, image, **overrides):
    return render.render(settings.resolve(dict(data, postgrest_image=image, **overrides)), secrets)


def conf_for(data, secrets, image, **overrides) -> str:
    return files_for(data, secrets, image, **overrides)["postgrest/postgrest.conf"].content.decode()


def settings_lines(conf: str) -> list[str]:
    return [line for line in conf.splitlines() if line and not line.startswith("#")]


# --- Which release, which line ------------------------------------------------------------

@pytest.mark.parametrize(("tag", "line"), [
    ("v12.0.2", "12.0"), ("v12.0.3", "12.0"),
    ("v12.2.0", "12.2"), ("v12.2.12", "12.2"),
    ("v13.0.0", "13"), ("v13.0.8", "13"),
    # MAJOR.PATCH from 14.0 on (CHANGELOG.md preamble and 14.0 "Changed").
    ("v14.0", "14"), ("v14.17", "14"), ("v14.18", "14"),
    ("v16.0", "16"), ("v16.4", "16"),
    # Per-architecture tags of the release workflow (.github/workflows/release.yaml, v16.2).
    ("v16.2-linux-arm64", "16"),
    # A local build tagged after its release (tests/e2e uses v12.0.2-e2e).
    ("v12.0.2-e2e", "12.0"), ("v14.17-patched", "14"),
])
def test_supported_tags_and_their_line(tag, line):
    assert versions.release_of_tag(tag).line == line


@pytest.mark.parametrize("tag", ["v11.2.2", "v12.1.0", "v13.1", "v14.1.2", "v15.0", "v17.0"])
def test_releases_of_no_supported_line(tag):
    release = versions.release_of_tag(tag)
    assert release is not None and release.line is None
    with pytest.raises(versions.VersionError, match=r"supported: 12\.0\.x, 12\.2\.x, 13\.0\.x, 14\.x or 16\.x"):
        versions.profile(release)


@pytest.mark.parametrize("tag", [None, "", "devel", "latest", "prod-2026", "v13", "v13-x", "12.0.2", "15.14-bookworm",
                                 "v12.0.2.1", "v12.0.2-", "v12.0.2_x"])
def test_tags_naming_no_release(tag):
    assert versions.release_of_tag(tag) is None


def test_the_default_pin_is_the_release_the_tests_run(data):
    assert settings.SETTINGS_BY_NAME["postgrest_image"].default == f"postgrest/postgrest:v{versions.TESTED_RELEASE}"
    assert settings.resolve(data).postgrest_version == versions.TESTED_RELEASE == "12.0.2"
    assert "the one release the tests run" in settings.SETTINGS_BY_NAME["postgrest_image"].doc


def test_a_digest_pin_takes_its_version_from_postgrest_version(data, secrets):
    digest = "postgrest/postgrest@sha256:" + "ab" * 32
    conf = conf_for(data, secrets, digest, postgrest_version="14.17")
    assert "jwt-cache-max-entries = 1000\n" in conf
    with pytest.raises(settings.SettingsError, match=r"^setting 'postgrest_version' is not set: 'postgrest_image'"):
        settings.resolve(dict(data, postgrest_image=digest))


# --- postgrest.conf per version ---------------------------------------------------------------

#: release -> the lines of postgrest.conf that differ between lines, as rendered for the
#: default claim (https://postgrest-demo.de/role).
PINNED = {
    # The tests' release (runs in tests/contract and tests/e2e). Cache off: 12.0.x keeps a
    # cached token of a removed key valid until its exp (fixed in 12.2.9, CHANGELOG #4014).
    "12.0.2": ['jwt-role-claim-key = ".\\"https://postgrest-demo.de/role\\""',
               "jwt-cache-max-lifetime = 0"],
    # 12.2.0-12.2.8: the same bug, cache still off.
    "12.2.8": ['jwt-role-claim-key = ".\\"https://postgrest-demo.de/role\\""',
               "jwt-cache-max-lifetime = 0"],
    # CHANGELOG 12.2.9, #4014: a reload with a changed jwt-secret empties the JWT cache.
    "12.2.9": ['jwt-role-claim-key = ".\\"https://postgrest-demo.de/role\\""',
               "jwt-cache-max-lifetime = 3600"],
    # CHANGELOG 13.0.0: admin-server-host (#3558), defaulting to server-host; #4014 is in 13.0.0.
    "13.0.8": ['jwt-role-claim-key = ".\\"https://postgrest-demo.de/role\\""',
               "jwt-cache-max-lifetime = 3600", 'admin-server-host = "*"'],
    # CHANGELOG 14.0: jwt-cache-max-entries replaces jwt-cache-max-lifetime (#4084), default
    # 1000; --ready (#4239) refuses special hosts (docs/references/cli.rst v14.17).
    "14.0": ['jwt-role-claim-key = ".\\"https://postgrest-demo.de/role\\""',
             "jwt-cache-max-entries = 1000", 'admin-server-host = "0.0.0.0"'],
    "14.17": ['jwt-role-claim-key = ".\\"https://postgrest-demo.de/role\\""',
              "jwt-cache-max-entries = 1000", 'admin-server-host = "0.0.0.0"'],
    # CHANGELOG 16.0, "Migration to v16" (#4984): RFC 9535 JSON Path, $ written $$ in the
    # file (docs/references/configuration.rst v16.2); the bracketed double-quoted name as
    # in PostgREST 16.2's test/io/fixtures/fixtures.yaml. 16.0 and 16.1 refuse the old form.
    "16.0": ['jwt-role-claim-key = "$$[\\"https://postgrest-demo.de/role\\"]"',
             "jwt-cache-max-entries = 1000", 'admin-server-host = "0.0.0.0"'],
    # CHANGELOG 16.2 (#5171): the old form is read again, deprecated: still the new one.
    "16.2": ['jwt-role-claim-key = "$$[\\"https://postgrest-demo.de/role\\"]"',
             "jwt-cache-max-entries = 1000", 'admin-server-host = "0.0.0.0"'],
}

#: The lines every version gets alike.
COMMON = [
    'db-uri = "postgres://authenticator@db:5432/app"', 'db-schemas = "api"', 'db-anon-role = "api_anon"',
    "db-config = false",
    # No line checks iss, each accepts a token without aud (docs/references/auth.rst v14.17
    # and v16.2, "JWT Claims Validation"): the database guard stays on every version.
    'db-pre-request = "auth_guard.check_token"',
    'jwt-secret = "@/etc/postgrest/jwks.json"', 'jwt-aud = "https://api.example.com"',
    'server-host = "*"', "server-port = 3000", "admin-server-port = 3001",
    'openapi-server-proxy-uri = "http://127.0.0.1:3000"', 'log-level = "error"',
]


@pytest.mark.parametrize("release", list(PINNED))
def test_postgrest_conf_per_version(data, secrets, release):
    conf = conf_for(data, secrets, f"postgrest/postgrest:v{release}")
    assert sorted(settings_lines(conf)) == sorted(COMMON + PINNED[release])
    assert conf.startswith(f"# Rendered by postgrest_stack for PostgREST {release} ")
    # The rendered file passes the line's own check (also made by render itself).
    assert versions.config_problems(versions.profile(release), conf) == []


@pytest.mark.parametrize(("release", "claim", "expected"), [
    ("12.0.2", "role", '".role"'), ("14.17", "app-role", '".\\"app-role\\""'),
    ("16.2", "role", '"$$.role"'), ("16.2", "app_role2", '"$$.app_role2"'),
    ("16.2", "app-role", '"$$[\\"app-role\\"]"'), ("16.2", "2fa", '"$$[\\"2fa\\"]"'),
    ("16.2", "it's $role", '"$$[\\"it\'s $$role\\"]"'),
])
def test_role_claim_syntax_per_version(data, secrets, release, claim, expected):
    conf = conf_for(data, secrets, f"postgrest/postgrest:v{release}", jwt_role_claim=claim)
    assert f"jwt-role-claim-key = {expected}\n" in conf


def test_every_supported_line_renders_and_passes_its_check(data, secrets):
    for release in ("12.0.0", "12.0.3", "12.2.0", "12.2.12", "13.0.0", "13.0.8", "14.0", "14.18", "16.0", "16.4"):
        files = files_for(data, secrets, f"postgrest/postgrest:v{release}", swagger_enabled=True,
                          public_api_url="https://api.example.com")
        conf = files["postgrest/postgrest.conf"].content.decode()
        assert versions.config_problems(versions.profile(release), conf) == [], release


# --- The configuration check, written from the docs ------------------------------------------

def test_config_keys_follow_the_changelog():
    keys = versions.CONFIG_KEYS
    # CHANGELOG 14.0 (#4084): jwt-cache-max-lifetime gone, jwt-cache-max-entries new.
    assert "jwt-cache-max-lifetime" in keys["13"] and "jwt-cache-max-lifetime" not in keys["14"]
    assert "jwt-cache-max-entries" in keys["14"] and "jwt-cache-max-entries" not in keys["13"]
    # CHANGELOG 13.0.0 (#3558): admin-server-host; 16.0 (#5003): the admin server on a unix socket.
    assert "admin-server-host" in keys["13"] and "admin-server-host" not in keys["12.2"]
    assert "admin-server-unix-socket" in keys["16"] and "admin-server-unix-socket" not in keys["14"]
    # CHANGELOG 12.2.0 (#3242).
    assert "db-hoisted-tx-settings" in keys["12.2"] and "db-hoisted-tx-settings" not in keys["12.0"]


def _rendered_conf(data, secrets, release):
    return conf_for(data, secrets, f"postgrest/postgrest:v{release}")


@pytest.mark.parametrize(("release", "edit", "problem"), [
    # 12.0-style cache setting on 14: silently ignored there, the cache on at 1000 entries.
    ("14.17", ("jwt-cache-max-entries = 1000", "jwt-cache-max-lifetime = 0"),
     "'jwt-cache-max-lifetime' is no setting of PostgREST 14.17 (removed in 14 (CHANGELOG 14.0, #4084))"),
    ("14.17", ("jwt-cache-max-entries = 1000", "jwt-cache-max-entries = 0\njwt-cache-max-lifetime = 0"),
     "removed in 14"),
    ("12.0.2", ("jwt-cache-max-lifetime = 0", "jwt-cache-max-entries = 0"),
     "'jwt-cache-max-entries' is no setting of PostgREST 12.0.2 (added in 14"),
    ("12.0.2", ("jwt-cache-max-lifetime = 0", "jwt-cache-max-lifetime = 60"),
     "'jwt-cache-max-lifetime' is 60, PostgREST 12.0.2 needs 0"),
    ("12.0.2", ("jwt-cache-max-lifetime = 0\n", ""), "'jwt-cache-max-lifetime' is missing"),
    ("12.2.12", ("admin-server-port = 3001", 'admin-server-host = "*"\nadmin-server-port = 3001'),
     "'admin-server-host' is no setting of PostgREST 12.2.12 (added in 13"),
    # 12-style role claim on 16.
    ("16.2", ('"$$[\\"https://postgrest-demo.de/role\\"]"', '".\\"https://postgrest-demo.de/role\\""'),
     "is not an RFC 9535 JSON Path starting with '$'"),
    ("14.17", ('".\\"https://postgrest-demo.de/role\\""', '"$$[\\"https://postgrest-demo.de/role\\"]"'),
     "is not a JSPath starting with '.'"),
    # --ready refuses special host names (src/PostgREST/Client.hs, v14.17).
    ("14.17", ('admin-server-host = "0.0.0.0"', 'admin-server-host = "*"'), "which `postgrest --ready` refuses"),
    ("16.2", ('admin-server-host = "0.0.0.0"\n', ""), "'admin-server-host' is missing"),
    ("13.0.8", ("db-config = false", "db-config = true"), "'db-config' must be false"),
    ("13.0.8", ('jwt-aud = "https://api.example.com"\n', ""), "'jwt-aud' is missing"),
])
def test_the_check_refuses_what_the_line_would_misread(data, secrets, release, edit, problem):
    conf = _rendered_conf(data, secrets, release)
    assert edit[0] in conf
    broken = conf.replace(edit[0], edit[1], 1)
    problems = versions.config_problems(versions.profile(release), broken)
    assert any(problem in p for p in problems), problems
    with pytest.raises(versions.ConfigCheckError, match=re.escape(problem)):
        versions.check_config(versions.profile(release), broken)


def test_the_check_refuses_a_line_it_cannot_read_and_a_key_given_twice():
    profile = versions.profile("12.0.2")
    with pytest.raises(versions.ConfigCheckError, match="line 1 is not 'key = value'"):
        versions.check_config(profile, "jwt-aud\n")
    with pytest.raises(versions.ConfigCheckError, match="sets 'jwt-aud' twice"):
        versions.check_config(profile, 'jwt-aud = "a"\njwt-aud = "b"\n')


def test_render_refuses_a_config_its_release_would_misread(data, secrets, monkeypatch):
    """A template that wrote 12.0's cache key for 14 would stop render, before any host."""
    real = versions.profile

    def wrong(version):
        profile = real(version)
        return versions.Profile(**{**profile.__dict__, "jwt_cache": ("jwt-cache-max-lifetime", 0)})

    monkeypatch.setattr(versions, "profile", wrong)
    with pytest.raises(versions.ConfigCheckError, match="'jwt-cache-max-lifetime' is no setting of PostgREST 14.17"):
        files_for(data, secrets, "postgrest/postgrest:v14.17")


# --- Health checks per version ------------------------------------------------------------

HEALTHCHECK = ('    healthcheck:\n'
               '      test: ["CMD", "/bin/postgrest", "--ready", "/etc/postgrest/postgrest.conf"]\n')


@pytest.mark.parametrize(("release", "in_container"), [
    ("12.0.2", False), ("12.2.12", False), ("13.0.8", False),
    # CHANGELOG 14.0 (#4239): `postgrest --ready`, for an image with no shell or curl.
    ("14.0", True), ("14.17", True), ("16.2", True),
])
def test_healthcheck_gate_and_reload_per_version(data, secrets, release, in_container):
    files = files_for(data, secrets, f"postgrest/postgrest:v{release}")
    compose = files["compose.yaml"].content.decode()
    gate = files["bin/health-gate"].content.decode()
    reload_script = files["bin/reload-postgrest"].content.decode()
    postgrest_service = compose.split("\n  postgrest:\n")[1]
    admin_curl = "http://127.0.0.1:3001/ready"
    # The admin port stays published on loopback for every version (operators' /live, /ready, /metrics).
    assert '- "127.0.0.1:3001:3001"' in postgrest_service
    assert ('command: ["/bin/postgrest", "/etc/postgrest/postgrest.conf"]' in compose
            and versions.CONFIG_IN_CONTAINER == "/etc/postgrest/postgrest.conf")
    if in_container:
        assert HEALTHCHECK in postgrest_service
        # The gate waits for the container's health, the reload asks --ready directly.
        assert "docker inspect -f '{{.State.Health.Status}}'" in gate.split("ready() {")[1].split("}\n")[0]
        assert "PostgREST container not healthy (postgrest --ready) within 120 s" in gate
        assert ('timeout 10 docker exec "$id" /bin/postgrest --ready /etc/postgrest/postgrest.conf'
                in reload_script)
        assert admin_curl not in gate and admin_curl not in reload_script
    else:
        assert "healthcheck" not in postgrest_service
        assert admin_curl in gate and "PostgREST /ready not 200 within 120 s" in gate
        assert admin_curl in reload_script and "docker exec" not in reload_script
    assert "kill -s SIGUSR2" in reload_script


@pytest.mark.parametrize("release", ["12.0.2", "12.2.12", "13.0.8", "14.17", "16.2"])
def test_swagger_ui_gets_the_openapi_security_definitions_on_every_line(data, secrets, release):
    # openapi-security-active: CHANGELOG 10.0.0 (#1082), in configuration.rst of every line.
    image = f"postgrest/postgrest:v{release}"
    assert "openapi-security-active" not in conf_for(data, secrets, image)
    conf = conf_for(data, secrets, image, swagger_enabled=True, public_api_url="https://api.example.com")
    assert "openapi-security-active = true\n" in conf
    assert "openapi-security-active" in versions.CONFIG_KEYS[versions.profile(release).line]
