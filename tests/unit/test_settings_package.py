"""The settings package: what it exports, and the PostgREST profile derived on Settings.

postgrest_stack/settings/ is split into uri, checks, declared and resolution; the rest
of the project imports only from the package, which re-exports the names it uses.
``Settings.profile`` is the one place a host's PostgREST release becomes its
:class:`~postgrest_stack.versions.Profile`.
"""

from __future__ import annotations

import dataclasses

import pytest

from postgrest_stack import settings, versions
from postgrest_stack.settings import checks, declared, resolution

DIGEST = "sha256:" + "0123456789abcdef" * 4

#: What the rest of the tree imports from postgrest_stack.settings, and where it lives.
EXPORTED = {
    checks: ("IMAGE_REFERENCE", "RESERVED_WORDS", "Check", "Identifier", "SecretRef", "SettingsError"),
    declared: ("FIELD_NAMES", "LETS_ENCRYPT", "LETS_ENCRYPT_STAGING", "SECRET_VARIABLES", "SETTINGS",
               "SETTINGS_BY_NAME", "Setting", "Settings"),
    resolution: ("PROJECT_SCHEMAS", "RunnerKeys", "effective", "published_ports",
                 "resolve"),
}


def test_the_package_re_exports_the_names_the_project_uses():
    names = [name for module_names in EXPORTED.values() for name in module_names]
    assert sorted(settings.__all__) == sorted(names)
    for module, module_names in EXPORTED.items():
        for name in module_names:
            assert getattr(settings, name) is getattr(module, name), name


def test_resolve_is_the_function_not_a_module():
    # No submodule named after a re-exported function: `import postgrest_stack.settings.resolve`
    # would otherwise shadow settings.resolve with the module.
    assert callable(settings.resolve) and settings.resolve.__module__ == resolution.__name__


@pytest.mark.parametrize(("overrides", "line", "release"), [
    ({}, "12.0", "12.0.2"),
    ({"postgrest_image": "postgrest/postgrest:v12.2.12"}, "12.2", "12.2.12"),
    ({"postgrest_image": "postgrest/postgrest:v14.17"}, "14", "14.17"),
    ({"postgrest_image": f"postgrest/postgrest@{DIGEST}", "postgrest_version": "16.2"}, "16", "16.2"),
])
def test_the_profile_is_the_hosts_postgrest_release(data, overrides, line, release):
    resolved = settings.resolve({**data, **overrides})
    assert resolved.postgrest_version == release
    assert resolved.profile == versions.profile(release)
    assert (resolved.profile.line, str(resolved.profile.release)) == (line, release)


def test_the_profile_is_derived_once_at_resolve_time(data, monkeypatch):
    asked = []
    real = versions.profile

    def counting(version):
        asked.append(version)
        return real(version)

    monkeypatch.setattr(versions, "profile", counting)
    resolved = settings.resolve(dict(data, postgrest_image="postgrest/postgrest:v14.17"))
    # resolve()'s checks of the release derived it on the Settings it returns.
    assert asked == ["14.17"] and "profile" in vars(resolved)
    assert resolved.profile is resolved.profile and asked == ["14.17"]


def test_a_changed_copy_derives_its_own_profile(data):
    resolved = settings.resolve(data)
    assert resolved.profile.line == "12.0"
    changed = dataclasses.replace(resolved, postgrest_image=f"postgrest/postgrest@{DIGEST}", postgrest_version="16.2")
    assert changed.profile.line == "16" and resolved.profile.line == "12.0"
