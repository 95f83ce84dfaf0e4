"""acme_email on the real Caddy 2.6.2: what settings accept reaches the ACME issuer intact.

A Caddyfile token starting with '#' is a comment, so ``email #ops@example.com`` loses its
value (settings refuse it, tests/unit/test_edge.py); a '#' or '$' further in is kept.
"""

from __future__ import annotations

import json

import pytest

from postgrest_stack import render, settings
from tests.harness import caddy
from tests.unit.conftest import group_defaults

SECRETS = {"postgres_password": "p" * 20, "authenticator_password": "a" * 20}


def acme_caddyfile(email: str) -> bytes:
    given = {**group_defaults(), "auth0_domain": "tenant.eu.auth0.com", "jwt_audience": "https://api.example.com",
             "tls_mode": "acme", "public_hostname": "api.example.com", "acme_email": email}
    return render.render(settings.resolve(given), dict(SECRETS))["edge/Caddyfile"].content


def issuer_emails(caddyfile: bytes, tmp_path) -> list[str | None]:
    path = tmp_path / "Caddyfile"
    path.write_bytes(caddyfile)
    done = caddy.adapt(path)
    assert done.returncode == 0, done.stderr[-2000:]
    policies = json.loads(done.stdout)["apps"]["tls"]["automation"]["policies"]
    return [issuer.get("email") for policy in policies for issuer in policy["issuers"]]


@pytest.mark.parametrize("email", ["ops@example.com", "ops#team@example.com", "o$p+x@example.com",
                                   "!#$%&*+/=?^_~-@example.com"])
def test_every_accepted_acme_email_reaches_the_acme_issuer(email, tmp_path):
    assert issuer_emails(acme_caddyfile(email), tmp_path) == [email]


def test_a_leading_hash_would_be_a_comment(tmp_path):
    """Why settings refuse it: the same Caddyfile with '#ops@example.com' does not adapt."""
    text = acme_caddyfile("ops@example.com").replace(b"\temail ops@example.com\n", b"\temail #ops@example.com\n")
    path = tmp_path / "Caddyfile"
    path.write_bytes(text)
    done = caddy.adapt(path)
    assert done.returncode != 0 and "Wrong argument count" in done.stderr
