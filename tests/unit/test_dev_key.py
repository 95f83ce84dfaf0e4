"""The development key: its JWKS is written only where jwks_url is a local file."""

from __future__ import annotations

from postgrest_stack import PROJECT_ROOT, signing_keys


def test_an_http_jwks_url_is_only_read_never_written(tmp_path):
    before = set(PROJECT_ROOT.iterdir())
    signing_keys.ensure_dev_key(tmp_path / "keys" / "dev.pem", "http://127.0.0.1:48123/.well-known/jwks.json")
    assert (tmp_path / "keys" / "dev.pem").exists()
    assert set(PROJECT_ROOT.iterdir()) == before  # no "http:" directory in the checkout
    assert not (PROJECT_ROOT / "http:").exists()


def test_local_paths_and_file_urls_get_the_dev_jwks(tmp_path):
    signing_keys.ensure_dev_key(tmp_path / "dev.pem", str(tmp_path / "a" / "jwks.json"))
    signing_keys.ensure_dev_key(tmp_path / "dev.pem", f"file://{tmp_path}/b/jwks.json")
    assert (tmp_path / "a" / "jwks.json").exists() and (tmp_path / "b" / "jwks.json").exists()
    assert signing_keys.local_jwks_path("https://tenant.eu.auth0.com/.well-known/jwks.json") is None
