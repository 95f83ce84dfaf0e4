"""Shared pytest set-up: the project root on sys.path and the marker of each folder."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


def pytest_collection_modifyitems(items):
    # A test's folder decides its marker, so `pytest -m unit` never starts a server.
    for item in items:
        folder = Path(str(item.fspath)).parent.name
        if folder in ("unit", "contract", "e2e", "fleet"):
            item.add_marker(getattr(pytest.mark, folder))
