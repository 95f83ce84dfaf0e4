"""The JWKS guard against the whole corpus, from bytes, files, URLs and the CLI."""

from __future__ import annotations

import ast
import base64
import hashlib
import inspect
import json
import os
import stat
import subprocess
import sys
import time

import pytest

from postgrest_stack import jwks, signing_keys
from tests import jwks_corpus
from tests.conftest import ROOT
from tests.harness.auth0 import JwksEndpoint, Tenant

VALID = jwks_corpus.valid_cases()
REFUSED = jwks_corpus.refused_cases()


MISREAD = jwks_corpus.misread_cases()
SINGLE_RULE = jwks_corpus.single_rule_cases()


def canonical_of(*names: str) -> bytes:
    """The canonical key file for corpus keys, built independently of the guard."""
    keys = []
    for name in names:
        jwk = signing_keys.public_jwk(jwks_corpus.key(name))
        keys.append({"kty": "RSA", "kid": jwk["kid"], "use": "sig", "alg": "RS256", "n": jwk["n"], "e": jwk["e"]})
    return json.dumps({"keys": keys}, separators=(",", ":")).encode() + b"\n"


@pytest.mark.parametrize("name", list(VALID))
def test_valid_key_sets_pass(name):
    result = jwks.validate(VALID[name], "test")
    assert result.kids and not result.warnings
    assert json.loads(result.canonical)["keys"][0]["kid"] == result.kids[0]


def test_canonical_file_is_fixed_and_minimal():
    # Member order, spacing and the extra members of the published set do not matter:
    # the same keys give the same bytes, in the tenant's order.
    published = jwks_corpus.auth0_jwks("k1", "k2")
    reordered = {"keys": [dict(reversed(list(k.items()))) for k in published["keys"]]}
    first = jwks.validate(json.dumps(published, indent=4).encode(), "a")
    second = jwks.validate(json.dumps(reordered).encode(), "b")
    assert first.canonical == second.canonical == canonical_of("k1", "k2")
    assert jwks.validate(jwks_corpus.dumps(jwks_corpus.auth0_jwks("k2", "k1")), "c").canonical == canonical_of("k2", "k1")


@pytest.mark.parametrize("name", list(MISREAD))
def test_misread_by_postgrest_but_sound_becomes_canonical(name):
    raw, warning = MISREAD[name]
    result = jwks.validate(raw, "tenant")
    assert result.canonical == canonical_of("k1", "k2")
    if warning:
        assert len(result.warnings) == 1 and warning in result.warnings[0]
        assert f"kid {result.kids[0]!r}" in result.warnings[0]
    else:
        assert result.warnings == ()


def test_leading_zero_in_n_is_dropped():
    raw, _ = MISREAD["n with a leading zero octet"]
    published_n = json.loads(raw)["keys"][0]["n"]
    canonical_n = json.loads(jwks.validate(raw, "t").canonical)["keys"][0]["n"]
    decode = lambda text: base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))  # noqa: E731
    assert len(decode(published_n)) == 257 and len(decode(canonical_n)) == 256


def test_single_jwk_is_wrapped_as_a_one_key_set():
    jwk = signing_keys.public_jwk(jwks_corpus.key("k1"))
    result = jwks.validate(json.dumps(jwk).encode(), "rsa.jwk.pub")
    assert result.canonical == canonical_of("k1") and result.warnings == ()
    # The tutorials' file carries no kid: its RFC 7638 thumbprint becomes one, with a warning.
    bare = {"kty": "RSA", "n": jwk["n"], "e": jwk["e"], "alg": "RS256"}
    result = jwks.validate(json.dumps(bare).encode(), "rsa.jwk.pub")
    assert len(result.warnings) == 1 and "RFC 7638" in result.warnings[0]
    assert json.loads(result.canonical)["keys"][0]["kid"] == result.kids[0] != ""


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
    # Two pairs share their rule and so their message: "empty file"/"newline only", and
    # the two "x5c of another key" cases; every other case has its own.
    assert len(messages) == len(REFUSED) - 2


@pytest.mark.parametrize("name", list(SINGLE_RULE))
def test_each_rule_alone_refuses_the_set_it_is_about(name):
    """Only that rule is broken: refused with its message, and the same set with that one
    violation undone passes (so with the rule gone, nothing else would refuse it)."""
    case = SINGLE_RULE[name]
    with pytest.raises(jwks.JwksError) as error:
        jwks.validate(case.bad, "src.json")
    assert case.fragment in str(error.value), str(error.value)
    assert jwks.validate(case.fixed, "src.json").kids


#: Refusals no key set can reach: the RSA library returns an RSA public key for any
#: n/e it accepts.
UNREACHABLE = {"not an RSA public key"}


def refusal_texts() -> set[str]:
    """The fixed text of each refusal in the guard's checks (after "{source}: " / "{where}: ")."""
    texts = set()
    for function in (jwks.validate, jwks._validate_key, jwks._validate_x5c):
        for node in ast.walk(ast.parse(inspect.getsource(function).strip())):
            if isinstance(node, ast.Raise) and isinstance(node.exc, ast.Call) and \
                    getattr(node.exc.func, "id", "") == "JwksError" and isinstance(node.exc.args[0], ast.JoinedStr):
                parts = node.exc.args[0].values
                texts.add(parts[1].value.removeprefix(": ").split("{")[0].strip())
    return texts


def test_every_rule_of_the_guard_has_its_single_rule_case():
    messages = []
    for case in SINGLE_RULE.values():
        with pytest.raises(jwks.JwksError) as error:
            jwks.validate(case.bad, "src.json")
        messages.append(str(error.value))
    texts = refusal_texts()
    assert len(texts) >= 20  # the scan found the checks
    missing = [text for text in texts - UNREACHABLE if not any(text in message for message in messages)]
    assert missing == [], "rules without a case in jwks_corpus.single_rule_cases()"


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
    assert len(result.kids) == 2 and result.canonical == jwks.validate(tenant.jwks(), 'x').canonical


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
            assert jwks.fetch(endpoint.url).kids
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
    assert out.read_bytes() == jwks.validate(tenant.jwks(), "x").canonical
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
    assert out.read_bytes() == jwks.validate(tenant.jwks(), "x").canonical


def test_cli_check_canonical_prints_the_pushed_file_and_warns(tmp_path):
    source = tmp_path / "legacy.json"
    source.write_bytes(MISREAD["legacy Auth0 x5t (hex form)"][0])
    result = subprocess.run([sys.executable, "-m", "postgrest_stack", "jwks", "check", "--canonical", str(source)],
                            cwd=ROOT, capture_output=True)
    assert result.returncode == 0, result.stderr
    assert result.stdout == canonical_of("k1", "k2")
    assert result.stderr.decode().count("\n") == 1 and "warning:" in result.stderr.decode()


def canonical_with_kids(document: dict) -> bytes:
    """The canonical key file for a published set, kept kids and all (built without the guard)."""
    keys = [{"kty": "RSA", "kid": k["kid"], "use": "sig", "alg": "RS256", "n": k["n"], "e": k["e"]}
            for k in document["keys"]]
    return json.dumps({"keys": keys}, separators=(",", ":")).encode() + b"\n"


@pytest.mark.parametrize("upper", [True, False], ids=["upper-case", "lower-case"])
def test_legacy_auth0_key_set_is_accepted_with_one_warning_per_key(upper):
    """Real legacy tenants publish x5t and kid as base64url of the SHA-1's upper-case hex text."""
    document = jwks_corpus.legacy_auth0_jwks("k1", "k2", upper=upper)
    kids = tuple(k["kid"] for k in document["keys"])
    assert all(base64.urlsafe_b64decode(kid + "=" * (-len(kid) % 4)).isupper() == upper for kid in kids)
    result = jwks.validate(jwks_corpus.dumps(document), "tenant")
    assert result.kids == kids
    assert result.canonical == canonical_with_kids(document)
    assert len(result.warnings) == 2
    for index, (kid, warning) in enumerate(zip(kids, result.warnings, strict=True)):
        assert warning == (f"tenant: key {index} (kid {kid!r}): legacy Auth0 x5t (base64url of the SHA-1's hex "
                           "text); accepted, the key file carries n/e only")


@pytest.mark.parametrize("form", ["upper-case hex", "lower-case hex", "mixed-case hex"])
def test_legacy_x5t_of_another_certificate_is_refused(form):
    other = base64.b64decode(signing_keys.public_jwk(jwks_corpus.key("other"))["x5c"][0])
    thumbprint = {"upper-case hex": jwks_corpus.legacy_thumbprint(other),
                  "lower-case hex": jwks_corpus.legacy_thumbprint(other, upper=False)}.get(form)
    document = jwks_corpus.legacy_auth0_jwks("k1")
    if thumbprint is None:  # its own certificate's, one letter lower-cased: a case no tenant publishes
        text = hashlib.sha1(base64.b64decode(document["keys"][0]["x5c"][0])).hexdigest().upper()
        letter = next(i for i, c in enumerate(text) if c.isalpha())
        mixed = text[:letter] + text[letter].lower() + text[letter + 1:]
        thumbprint = base64.urlsafe_b64encode(mixed.encode()).rstrip(b"=").decode()
    document["keys"][0]["x5t"] = thumbprint
    with pytest.raises(jwks.JwksError, match="x5t does not match the x5c"):
        jwks.validate(jwks_corpus.dumps(document), "tenant")
