"""No secret in git, and every file the project generates with secrets is ignored."""

from __future__ import annotations

import re
import shutil
import subprocess

import pytest

from tests.conftest import ROOT

pytestmark = pytest.mark.skipif(shutil.which("git") is None or not (ROOT / ".git").exists(),
                                reason="needs the git checkout")

GENERATED_SECRET_FILES = [
    ".local/secrets.env",            # local inventory: generated passwords
    ".local/dev-signing-key.pem",    # local inventory: development signing key
    "secrets/prod.env",              # secrets_file of group_data/prod.py
    "secrets/staging.env",           # secrets_file of group_data/staging.py
]


def git(*args) -> str:
    return subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True, check=False).stdout


@pytest.mark.parametrize("path", GENERATED_SECRET_FILES)
def test_generated_secret_files_are_ignored(path):
    assert git("check-ignore", "--no-index", path).strip() == path


# Names the README and secrets.env.example suggest for a secrets_file, wherever it is put.
SUGGESTED_SECRET_FILES = ["secrets.env", "prod.secrets.env", "staging-secrets.env", "config/secrets.env",
                          "deploy/prod.secrets.env", "secrets/other.env"]


@pytest.mark.parametrize("path", SUGGESTED_SECRET_FILES)
def test_every_suggested_secrets_file_name_is_ignored(path):
    assert git("check-ignore", "--no-index", path).strip() == path


def test_the_example_secrets_file_is_not_ignored():
    assert git("check-ignore", "--no-index", "secrets.env.example").strip() == ""


def test_secrets_files_named_by_group_data_are_ignored():
    for group_file in (ROOT / "group_data").glob("*.py"):
        for name in re.findall(r'^secrets_file = "([^"]+)"', group_file.read_text(), flags=re.M):
            assert git("check-ignore", "--no-index", name).strip() == name, group_file.name


def test_no_tracked_file_holds_a_private_key_or_a_generated_secret():
    tracked = git("ls-files", "-z").split("\0")
    local_secrets = ROOT / ".local" / "secrets.env"
    values = []
    if local_secrets.exists():
        values = [line.split("=", 1)[1] for line in local_secrets.read_text().splitlines()
                  if "=" in line and not line.startswith("#")]
    for name in filter(None, tracked):
        path = ROOT / name
        if not path.is_file():
            continue
        content = path.read_bytes()
        assert b"PRIVATE " + b"KEY-----" not in content, name  # split: this file is tracked too
        assert not any(value.encode() in content for value in values), name
    assert not any(name.startswith((".local/", "secrets/")) for name in tracked)
