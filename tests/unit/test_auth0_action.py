"""The Auth0 Action and the deploy agree on the role claim; the Action's own tests pass."""

from __future__ import annotations

import json
import shutil
import subprocess

import pytest

from tests.conftest import ROOT
from tests.unit.conftest import group_defaults


def test_action_claim_is_the_deploy_default():
    shared = json.loads((ROOT / "auth0" / "role-claim.json").read_text())
    defaults = group_defaults()
    assert shared["claim"] == defaults["jwt_role_claim"]
    assert shared["default_role"] == defaults["db_user_role"]


@pytest.mark.skipif(shutil.which("node") is None, reason="needs Node.js")
def test_action_node_tests_pass():
    done = subprocess.run(["node", "--test", "auth0/test/"], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "# fail 0" in done.stdout
