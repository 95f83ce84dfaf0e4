"""Shared pytest set-up: the project root on sys.path and the marker of each folder."""

from __future__ import annotations

import sys

# pyinfra's command line patches the stdlib for gevent when it is imported
# (pyinfra_cli/__init__.py), and some tests import it in-process. Patched after ssl has
# been imported, TLS breaks (RecursionError); so under pytest it is patched first, as
# pyinfra does. (Benchmarks import this module for ROOT only: they are left alone.)
if "_pytest" in sys.modules:
    from gevent import monkey

    monkey.patch_all()

from pathlib import Path  # noqa: E402

import pytest  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


def pytest_collection_modifyitems(items):
    # A test's folder decides its marker, so `pytest -m unit` never starts a server.
    for item in items:
        folder = Path(str(item.fspath)).parent.name
        if folder in ("unit", "contract", "e2e", "fleet"):
            item.add_marker(getattr(pytest.mark, folder))
