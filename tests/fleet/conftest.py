"""Fixtures for tests on production-shaped hosts (tests/harness/testhosts.py).

- ``testhost_image`` (session): the Debian 12 image tag; built by
  images/testhost/build.sh when its recipe changed (about a minute), otherwise instant.
  ``testhost_image_trixie``: the same recipe from Debian 13 (``fleet.add_host(name,
  image=testhost_image_trixie)``).
- ``fleet`` (session): a ``TestHostFleet`` with no hosts yet: the network, the
  SSH client key and the apt proxy (``fleet.apt_proxy``). Add hosts where they
  are needed, usually in a module-scoped fixture, and remove them after::

      @pytest.fixture(scope="module")
      def db(fleet):
          host = fleet.add_host("db1")      # boots in 2-4 s
          yield host
          host.destroy()

  Hosts need distinct names within the session. Everything the fleet made is
  removed at the end of the session (or at exit).
"""

from __future__ import annotations

import subprocess

import pytest

from tests.conftest import ROOT
from tests.harness.testhosts import TestHostFleet, ensure_image


@pytest.fixture(scope="session")
def testhost_image() -> str:
    subprocess.run(["bash", str(ROOT / "scripts" / "start-docker.sh")], check=True)
    return ensure_image()


@pytest.fixture(scope="session")
def testhost_image_trixie(testhost_image) -> str:  # after it: the engine is started
    return ensure_image(suite="trixie")


@pytest.fixture(scope="session")
def fleet(testhost_image):
    with TestHostFleet(image=testhost_image) as f:
        yield f
