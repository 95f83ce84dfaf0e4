"""The JWKS guard against the whole corpus, from bytes, files, URLs and the CLI."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
import time

import pytest

from postgrest_stack import jwks
from tests import jwks_corpus
from tests.conftest import ROOT
from tests.harness.auth0 import JwksEndpoint, Tenant

VALID = jwks_corpus.valid_cases()
REFUSED = jwks_corpus.refused_cases()


@pytest.mark.parametrize("name", list(VALID))
def test_valid_key_sets_pass(name):
    result = jwks.validate(VALID[name], "test")
    assert result.raw == VALID[name] and result.kids


@pytest.mark.parametrize("name", list(REFUSED))
def test_bad_key_sets_refused_with_their_own_message(name):
    raw, fragment = REFUSED[name]
    with pytest.raises(jwks.JwksError) as error:
        jwks.validate(raw, "src.json")
    message = str(error.value)
    assert fragment in message and message.startswith("src.json")
    assert "\n" not in message


def test_each_refusal_has_a_distinct_message():
    messages = set()
    for raw, _fragment in REFUSED.values():
        with pytest.raises(jwks.JwksError) as error:
            jwks.validate(raw, "x")
        messages.add(str(error.value))
    # "empty file" and "newline only" share their message; every other case has its own.
    assert len(messages) == len(REFUSED) - 1


@pytest.fixture
def tenant():
    t = Tenant()
    for name in ("k1", "k2"):
        t.add_key(name, jwks_corpus.key(name))
    t.publish("k1", "k2")
    return t


def test_fetch_from_endpoint(tenant):
    with JwksEndpoint(tenant) as endpoint:
        result = jwks.fetch(endpoint.url)
    assert len(result.kids) == 2 and result.raw == tenant.jwks()


@pytest.fixture
def quick_retries(monkeypatch):
    monkeypatch.setattr(jwks, "RETRY_BACKOFF_SECONDS", 0.01)


@pytest.mark.parametrize("status", [404, 500])
def test_http_errors_refused(tenant, status, quick_retries):
    with JwksEndpoint(tenant) as endpoint:
        endpoint.behaviour.status = status
        with pytest.raises(jwks.JwksError, match=f"HTTP {status}"):
            jwks.fetch(endpoint.url, deadline_seconds=4)
    # 404 is final; a 500 is retried a bounded number of times.
    assert endpoint.behaviour.requests == (1 if status == 404 else jwks.FETCH_ATTEMPTS)


def test_html_and_oversize_from_endpoint_refused(tenant):
    with JwksEndpoint(tenant) as endpoint:
        endpoint.behaviour.body, endpoint.behaviour.content_type = b"<html>login</html>", "text/html"
        with pytest.raises(jwks.JwksError, match="HTML"):
            jwks.fetch(endpoint.url)
        endpoint.behaviour.body = REFUSED["oversize body"][0]
        with pytest.raises(jwks.JwksError, match="larger than 64 KiB"):
            jwks.fetch(endpoint.url)


def test_stalled_endpoint_gives_up_within_the_deadline(tenant, quick_retries):
    with JwksEndpoint(tenant) as endpoint:
        endpoint.behaviour.stall_seconds = 3
        started = time.monotonic()
        with pytest.raises(jwks.JwksError, match="gave up"):
            jwks.fetch(endpoint.url, deadline_seconds=0.6)
        assert time.monotonic() - started < 1.5


def test_tls_is_verified(tenant, tmp_path):
    with JwksEndpoint(tenant, tls_dir=tmp_path) as endpoint:
        with pytest.raises(jwks.JwksError, match="TLS verification failed"):
            jwks.fetch(endpoint.url)
        # Trusting the tenant's certificate proves the failure above was verification.
        os.environ["REQUESTS_CA_BUNDLE"] = str(tmp_path / "tls.crt")
        try:
            assert jwks.fetch(endpoint.url).raw == tenant.jwks()
        finally:
            del os.environ["REQUESTS_CA_BUNDLE"]


def test_plain_http_only_to_loopback():
    with pytest.raises(jwks.JwksError, match="plain http is only allowed to loopback"):
        jwks.fetch("http://tenant.eu.auth0.com/.well-known/jwks.json")


def test_fetch_to_file_writes_only_valid_and_keeps_previous(tenant, tmp_path):
    out = tmp_path / "jwks.json"
    out.write_bytes(b"previous")
    with JwksEndpoint(tenant) as endpoint:
        endpoint.behaviour.body = REFUSED["private RSA key"][0]
        with pytest.raises(jwks.JwksError):
            jwks.fetch_to_file(endpoint.url, out)
        assert out.read_bytes() == b"previous"
        endpoint.behaviour.body = None
        jwks.fetch_to_file(endpoint.url, out)
    assert out.read_bytes() == tenant.jwks()
    assert (tmp_path / "jwks.json.prev").read_bytes() == b"previous"
    assert stat.S_IMODE(out.stat().st_mode) == 0o644
    assert sorted(p.name for p in tmp_path.iterdir()) == ["jwks.json", "jwks.json.prev"]


def cli(*args):
    return subprocess.run([sys.executable, "-m", "postgrest_stack", *args], cwd=ROOT, capture_output=True, text=True)


def test_cli_check_exit_codes(tmp_path):
    good, bad = tmp_path / "good.json", tmp_path / "bad.json"
    good.write_bytes(VALID["auth0-shaped, two keys"])
    bad.write_bytes(REFUSED["truncated JSON"][0])
    ok = cli("jwks", "check", str(good))
    assert ok.returncode == 0, ok.stderr
    refused = cli("jwks", "check", str(bad))
    assert refused.returncode == 1
    assert refused.stderr.count("\n") == 1 and "not valid JSON" in refused.stderr


def test_cli_fetch_refuses_without_writing(tenant, tmp_path):
    out = tmp_path / "jwks.json"
    with JwksEndpoint(tenant) as endpoint:
        endpoint.behaviour.status = 404
        result = cli("jwks", "fetch", endpoint.url, "--out", str(out))
        assert result.returncode == 1 and "HTTP 404" in result.stderr
        assert not out.exists()
        endpoint.behaviour.status = 200
        assert cli("jwks", "fetch", endpoint.url, "--out", str(out)).returncode == 0
    assert out.read_bytes() == tenant.jwks()
