"""What the rendered SQL and postgrest.conf make the real PostgREST 12.0.2 answer."""

from __future__ import annotations

import base64
import hashlib
import hmac
import http.client
import json
import time
from urllib.parse import urlsplit

import psycopg
import pytest
import requests
from cryptography.hazmat.primitives import serialization

from postgrest_stack import render
from tests.contract.conftest import AUDIENCE, ISSUER, SECRETS, apply_sql, stack_settings, start_api


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unsigned_claims(api, **overrides) -> dict:
    claims = {"aud": AUDIENCE, "iss": ISSUER, "exp": int(time.time()) + 600, api.settings.jwt_role_claim: "api_user"}
    claims.update(overrides)
    return claims


def hs256(secret: bytes, claims: dict) -> str:
    signing_input = b64(json.dumps({"alg": "HS256", "typ": "JWT"}).encode()) + "." + b64(json.dumps(claims).encode())
    return signing_input + "." + b64(hmac.new(secret, signing_input.encode(), hashlib.sha256).digest())


# --- accepted ------------------------------------------------------------------------

@pytest.mark.parametrize("key_name", ["k1", "k2"])
def test_valid_token_reads_and_writes(api, key_name):
    token = api.token(key_name)
    assert api.get(token=token).status_code == 200
    created = api.post(token=token, body={"task": f"from {key_name}"})
    assert created.status_code == 201, created.text


def test_anonymous_reads_but_cannot_write(api):
    assert api.get().status_code == 200
    assert api.post().status_code == 401


# --- refused by PostgREST itself -----------------------------------------------------

def test_key_outside_the_set_refused(api):
    assert api.get(token=api.token("k3")).status_code == 401


def test_alg_none_refused(api):
    token = b64(json.dumps({"alg": "none", "typ": "JWT"}).encode()) + "." + b64(json.dumps(unsigned_claims(api)).encode()) + "."
    assert api.get(token=token).status_code == 401


def test_hs256_signed_with_public_material_refused(api):
    public_pem = api.tenant.keys["k1"].public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    assert api.get(token=hs256(public_pem, unsigned_claims(api))).status_code == 401
    # Were the key file taken as an HS256 secret, this token would pass.
    assert api.get(token=hs256(api.jwks_path.read_bytes(), unsigned_claims(api))).status_code == 401


def test_wrong_audience_refused(api):
    response = api.get(token=api.token(audience="https://other-api.example.com"))
    assert response.status_code == 401


def test_expired_token_refused(api):
    assert api.get(token=api.token(ttl_seconds=-120)).status_code == 401


@pytest.mark.parametrize("token", ["abc.def.ghi", "not-a-jwt", "eyJhbGciOiJSUzI1NiJ9.e30"])
def test_malformed_token_refused(api, token):
    assert api.get(token=token).status_code == 401


# --- refused by the pre-request function ---------------------------------------------

@pytest.mark.parametrize(
    ("claims", "message"),
    [
        ({"ttl_seconds": None}, "JWT has no exp claim"),
        ({"audience": None}, "JWT has no aud claim"),
        ({"issuer": "https://evil.example.com/"}, "JWT issuer is not trusted"),
        ({"issuer": None}, "JWT issuer is not trusted"),
    ],
)
def test_pre_request_refuses_weak_tokens(api, claims, message):
    token = api.token(**claims)
    for response in (api.get(token=token), api.post(token=token)):
        assert response.status_code == 401, response.text
        assert response.json()["message"] == message


# --- roles ---------------------------------------------------------------------------

def test_role_the_authenticator_may_not_assume_refused(api):
    response = api.get(token=api.token(role="postgres"))
    assert response.status_code == 403, response.text


def test_role_that_does_not_exist_refused(api):
    assert api.get(token=api.token(role="no_such_role")).status_code == 400


def test_token_without_role_claim_is_anonymous(api):
    token = api.token(role=None)
    assert api.get(token=token).status_code == 200
    assert api.post(token=token).status_code == 401


# --- SQL ---------------------------------------------------------------------------

CATALOGUE = """
SELECT json_build_object(
  'roles', (SELECT json_agg(json_build_array(rolname, rolcanlogin, rolinherit, rolsuper) ORDER BY rolname)
            FROM pg_roles WHERE rolname IN ('authenticator', 'api_anon', 'api_user')),
  'members', (SELECT json_agg(r.rolname ORDER BY r.rolname) FROM pg_auth_members m
              JOIN pg_roles r ON r.oid = m.roleid JOIN pg_roles a ON a.oid = m.member
              WHERE a.rolname = 'authenticator'),
  'grants', (SELECT json_agg(json_build_array(grantee, privilege_type) ORDER BY grantee, privilege_type)
             FROM information_schema.role_table_grants WHERE table_schema = 'api' AND table_name = 'todos'),
  'guard', (SELECT md5(prosrc) FROM pg_proc WHERE proname = 'check_token'),
  'todos', (SELECT count(*) FROM api.todos)
)::text
"""


def catalogue(cluster) -> str:
    with cluster.connect("app") as conn:
        return conn.execute(CATALOGUE).fetchone()[0]


def test_sql_runs_again_without_error_or_change(cluster, applied, api, tmp_path):
    api.post(token=api.token(), body={"task": "survives a re-run"})
    before = catalogue(cluster)
    apply_sql(cluster, applied, tmp_path / "again")
    assert catalogue(cluster) == before
    assert '"todos" : 0' not in before


def test_authenticator_password_change_reaches_the_cluster(cluster, applied, api, tenant, tmp_path):
    new_password = "rotated-authenticator-password-42"
    files = render.render(stack_settings(), dict(SECRETS, authenticator_password=new_password))
    apply_sql(cluster, files, tmp_path / "sql")
    try:
        with pytest.raises(psycopg.OperationalError):
            cluster.connect("app", user="authenticator", password=SECRETS["authenticator_password"]).close()
        process = start_api(cluster, tenant, tmp_path, stack_settings(), new_password)
        try:
            response = requests.get(process.base_url + "/todos", timeout=10,
                                    headers={"Authorization": f"Bearer {api.token()}"})
            assert response.status_code == 200, response.text
        finally:
            process.stop()
    finally:
        apply_sql(cluster, applied, tmp_path / "restore")


@pytest.mark.parametrize("claim", ["role", "https://x.example/claims.v1/db-role", "app_metadata-role"])
def test_role_claim_names_reach_postgrest(cluster, applied, tenant, tmp_path, claim):
    """The rendered JSPath works for plain, URL, dotted and dashed claim names."""
    resolved = stack_settings(jwt_role_claim=claim)
    process = start_api(cluster, tenant, tmp_path, resolved, SECRETS["authenticator_password"])
    try:
        token = tenant.token("k1", audience=AUDIENCE, issuer=ISSUER, role_claim=claim, role="api_user")
        response = requests.post(process.base_url + "/todos", json={"task": claim}, timeout=10,
                                 headers={"Authorization": f"Bearer {token}"})
        assert response.status_code == 201, response.text
    finally:
        process.stop()


def test_basic_authorization_for_a_proxy_is_anonymous(api):
    """A Basic header (a basic-auth proxy in front) is not a token: the guard lets it pass."""
    response = requests.get(api.url + "/todos", headers={"Authorization": "Basic dXNlcjpwYXNz"}, timeout=10)
    assert response.status_code == 200, response.text


# --- two Authorization headers: the guard decides from what PostgREST verified ---------

def send_raw(base_url: str, method: str, path: str, headers: list[tuple[str, str]], body: bytes = b""):
    """One request with ``headers`` sent as given, repeated names included (requests would
    merge them into one). Returns (status, parsed JSON body or None)."""
    address = urlsplit(base_url)
    connection = http.client.HTTPConnection(address.hostname, address.port, timeout=10)
    try:
        connection.putrequest(method, path)
        for name, value in headers:
            connection.putheader(name, value)
        if body:
            connection.putheader("Content-Type", "application/json")
        connection.putheader("Content-Length", str(len(body)))
        connection.endheaders(body)
        response = connection.getresponse()
        text = response.read()
        return response.status, json.loads(text) if text else None
    finally:
        connection.close()


def weak_token(api) -> str:
    """Signed by the tenant, but no exp, no aud and a foreign iss: alone, the guard refuses it."""
    return api.token(ttl_seconds=None, audience=None, issuer="https://evil.example.com/")


TODO = json.dumps({"task": "two headers"}).encode()


@pytest.mark.parametrize("order", ["bearer-then-basic", "basic-then-bearer"])
def test_a_second_authorization_header_does_not_bypass_the_guard(api, order):
    bearer, basic = ("Authorization", f"Bearer {weak_token(api)}"), ("Authorization", "Basic dXNlcjpwYXNz")
    headers = [bearer, basic] if order == "bearer-then-basic" else [basic, bearer]
    status, body = send_raw(api.url, "POST", "/todos", headers, TODO)
    assert status == 401, body
    if order == "bearer-then-basic":
        # PostgREST verified the weak token (the first header): the guard refuses it.
        assert body["message"] == "JWT has no exp claim"
    else:
        # PostgREST took the first (Basic) header: anonymous, which may not write.
        assert body["code"] == "42501", body
    assert send_raw(api.url, "POST", "/todos", [bearer], TODO)[0] == 401  # and alone, as before


def test_good_token_and_anonymous_still_pass_the_guard_sent_raw(api):
    status, body = send_raw(api.url, "POST", "/todos", [("Authorization", f"Bearer {api.token()}")], TODO)
    assert status == 201, body
    assert send_raw(api.url, "GET", "/todos", [])[0] == 200
    assert send_raw(api.url, "GET", "/todos", [("Authorization", "Basic dXNlcjpwYXNz")])[0] == 200


@pytest.mark.parametrize("claim", ["role", "https://x.example/claims.v1/db-role"])
def test_two_headers_with_a_custom_role_claim(cluster, applied, tenant, tmp_path, claim):
    """The anonymous claims PostgREST sets are {"role": <anon role>} whatever the role claim
    is named: the guard's rule holds for a plain and a namespaced role claim."""
    process = start_api(cluster, tenant, tmp_path, stack_settings(jwt_role_claim=claim),
                        SECRETS["authenticator_password"])
    try:
        def token(**claims):
            return tenant.token("k1", **dict(dict(audience=AUDIENCE, issuer=ISSUER, role_claim=claim,
                                                  role="api_user"), **claims))
        weak = token(ttl_seconds=None, audience=None, issuer="https://evil.example.com/")
        status, body = send_raw(process.base_url, "POST", "/todos",
                                [("Authorization", f"Bearer {weak}"), ("Authorization", "Basic x")], TODO)
        assert (status, body["message"]) == (401, "JWT has no exp claim")
        status, body = send_raw(process.base_url, "POST", "/todos", [("Authorization", f"Bearer {token()}")], TODO)
        assert status == 201, body
        assert send_raw(process.base_url, "GET", "/todos", [])[0] == 200
        # A verified token without the role claim runs as the anon role, and is still checked.
        assert send_raw(process.base_url, "GET", "/todos", [("Authorization", f"Bearer {token(role=None)}")])[0] == 200
        status, body = send_raw(process.base_url, "GET", "/todos",
                                [("Authorization", f"Bearer {token(role=None, ttl_seconds=None)}")])
        assert (status, body["message"]) == (401, "JWT has no exp claim")
    finally:
        process.stop()


@pytest.mark.parametrize(("breakage", "repair", "message"), [
    ("REVOKE EXECUTE ON FUNCTION auth_guard.check_token() FROM api_anon, api_user, PUBLIC",
     "GRANT EXECUTE ON FUNCTION auth_guard.check_token() TO api_anon, api_user",
     "permission denied for function check_token"),
    ("REVOKE api_anon FROM authenticator", "GRANT api_anon TO authenticator",
     'permission denied to set role \\"api_anon\\"'),
])
def test_the_openapi_root_runs_the_anonymous_role_and_the_guard(cluster, api, breakage, repair, message):
    """The health gate's GET / depends on no table of the operator's and still fails when
    the project's SQL is broken: PostgREST 12.0.2 switches to the anonymous role and runs
    the pre-request guard for the root too (401, not 200)."""
    assert api.get("/").status_code == 200
    with cluster.connect("app", autocommit=True) as conn:
        conn.execute(breakage)
    try:
        answer = api.get("/")
        assert answer.status_code == 401 and message in answer.text, answer.text
    finally:
        with cluster.connect("app", autocommit=True) as conn:
            conn.execute(repair)
    assert api.get("/").status_code == 200
