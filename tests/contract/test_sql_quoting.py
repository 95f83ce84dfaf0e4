"""Setting values inside the rendered SQL stay data: a `$$` in the issuer cannot end the
guard function's body early."""

from __future__ import annotations

import dataclasses
import json

import psycopg
import pytest

from postgrest_stack import render
from tests.contract.conftest import SECRETS, apply_sql, stack_settings
from tests.harness.pgcluster import PgCluster

ISSUER = "https://tenant.example.com/$$/$guard$/"


@pytest.fixture(scope="module")
def cluster():
    with PgCluster() as pg:
        pg.create_database("app")
        yield pg


def check(conn, claims: dict):
    conn.execute("SELECT set_config('request.headers', %s, true), set_config('request.jwt.claims', %s, true)",
                 (json.dumps({"authorization": "Bearer x"}), json.dumps(claims)))
    conn.execute("SELECT auth_guard.check_token()")


def test_dollar_quotes_in_the_issuer(cluster, tmp_path):
    # Set past validation on purpose: the SQL must be safe on its own.
    resolved = dataclasses.replace(stack_settings(), jwt_issuer=ISSUER)
    files = render.render(resolved, dict(SECRETS, postgres_password=cluster.superuser_password))
    apply_sql(cluster, files, tmp_path)
    with psycopg.connect(cluster.uri("postgres", cluster.superuser_password, "app")) as conn:
        check(conn, {"exp": 1, "aud": "a", "iss": ISSUER})
        with pytest.raises(psycopg.Error, match="issuer is not trusted"):
            check(conn, {"exp": 1, "aud": "a", "iss": "https://tenant.example.com/"})
