"""Fixtures for the unit tests: a valid settings mapping and fixed secrets."""

from __future__ import annotations

import ast
import runpy

import pytest

from tests.conftest import ROOT

SECRETS = {
    "postgres_password": "superuser-secret-0123456789",
    "authenticator_password": "authenticator-secret-0123456789",
}


def group_defaults() -> dict:
    """group_data/all.py as pyinfra reads it: its names, less dunders and imported ones."""
    path = ROOT / "group_data" / "all.py"
    imported = {alias.asname or alias.name for node in ast.walk(ast.parse(path.read_text()))
                if isinstance(node, (ast.Import, ast.ImportFrom)) for alias in node.names}
    data = runpy.run_path(str(path))
    return {k: v for k, v in data.items() if not k.startswith("__") and k not in imported}


@pytest.fixture
def data() -> dict:
    values = group_defaults()
    values.update(auth0_domain="tenant.eu.auth0.com", jwt_audience="https://api.example.com")
    return values


@pytest.fixture
def secrets() -> dict:
    return dict(SECRETS)
