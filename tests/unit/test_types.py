"""The type checker sees the core: mypy (run by `make lint`) knows Settings' fields, so a
misspelt setting or a wrong type is an error before any run."""

from __future__ import annotations

import subprocess
import sys

from tests.conftest import ROOT

USES = '''
from postgrest_stack import settings

def port(data: dict) -> str:
    resolved = settings.resolve(data)
    return resolved.db_prot

def timeout(data: dict) -> str:
    return settings.resolve(data).health_timeout

def fine(data: dict) -> int:
    return settings.resolve(data).db_port + len(settings.resolve(data).profile.line)
'''


def test_mypy_knows_the_settings_fields(tmp_path):
    sample = tmp_path / "uses_settings.py"
    sample.write_text(USES)
    done = subprocess.run([sys.executable, "-m", "mypy", "--config-file", str(ROOT / "mypy.ini"),
                           "--cache-dir", str(tmp_path / "cache"), str(sample)],
                          cwd=ROOT, capture_output=True, text=True, timeout=300)
    errors = [line for line in done.stdout.splitlines() if ": error:" in line]
    assert done.returncode == 1, done.stdout + done.stderr
    assert len(errors) == 2, errors
    assert '"Settings" has no attribute "db_prot"' in errors[0]
    assert 'Incompatible return value type (got "int", expected "str")' in errors[1]
