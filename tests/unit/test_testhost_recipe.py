"""images/testhost/build.sh per Debian release (--suite): its own tag, this machine's
mirror with the suites renamed, and a one-line refusal of a release it does not build.
Only --print-tag runs here: no mmdebstrap, no engine."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from tests.conftest import ROOT

pytestmark = pytest.mark.unit

BUILD = ROOT / "images" / "testhost" / "build.sh"
CODENAME = dict(line.split("=", 1) for line in Path("/etc/os-release").read_text().splitlines()
                if "=" in line)["VERSION_CODENAME"].strip('"')


def print_tag(tmp_path: Path, *args: str) -> subprocess.CompletedProcess:
    sources = tmp_path / "debian.sources"
    sources.write_text(
        "Types: deb\nURIs: http://mirror.example/debian\n"
        f"Suites: {CODENAME} {CODENAME}-updates\nComponents: main\n\n"
        f"Types: deb\nURIs: http://mirror.example/debian-security\nSuites: {CODENAME}-security\n"
        "Components: main\n"
    )
    env = {"PATH": "/usr/bin:/bin", "BUILD_DIR": str(tmp_path / "build"), "TESTHOST_SOURCES": str(sources)}
    return subprocess.run(["bash", str(BUILD), "--print-tag", *args], capture_output=True, text=True, env=env)


@pytest.mark.parametrize("other", ["trixie", "bookworm"])
def test_each_suite_its_own_image_and_mirror_suites(tmp_path, other):
    default = print_tag(tmp_path)
    chosen = print_tag(tmp_path, f"--suite={other}")
    assert default.returncode == chosen.returncode == 0, default.stderr + chosen.stderr
    assert default.stdout.startswith("postgrest-stack-testhost/bookworm-systemd:")
    assert chosen.stdout.startswith(f"postgrest-stack-testhost/{other}-systemd:")
    assert (chosen.stdout == default.stdout) == (other == "bookworm")
    sources = (tmp_path / "build" / f"sources-{other}" / "debian.sources").read_text()
    suites = [line.split(":", 1)[1].split() for line in sources.splitlines() if line.startswith("Suites:")]
    assert suites == [[other, f"{other}-updates"], [f"{other}-security"]], sources
    assert "URIs: http://mirror.example/debian\n" in sources  # the mirror itself unchanged


def test_a_release_it_does_not_build_is_refused_in_one_line(tmp_path):
    proc = print_tag(tmp_path, "--suite=sid")
    assert proc.returncode == 2 and proc.stdout == ""
    assert proc.stderr.strip().splitlines() == [
        "testhost/build.sh: --suite=sid: not a release this recipe builds (bookworm, trixie)"]
