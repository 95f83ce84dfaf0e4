#!/usr/bin/env python3
"""Lint the shell this project ships with shellcheck (part of `make lint`).

What is checked:
  - scripts/*.sh and every shell script under images/ (``*.sh``, or a ``#!`` line
    naming sh or bash), sourced files followed (``shellcheck -x``);
  - every script rendered from templates/bin/*.j2, as a host gets it: rendered by
    ``postgrest_stack.render`` for each supported PostgREST line (versions.LINES), each
    tls_mode (off, internal, acme, files with a test certificate) and each stack_role
    (all, db, api with db_host, api with external_db_uri), written with
    ``render.write_tree``; each distinct script is checked once.

One line per finding, naming the file (for a rendered script, its template and the
variants that render those bytes) and shellcheck's code; exit status 1 on any finding,
2 when shellcheck is missing or cannot run. Every level counts, style included: a
finding is fixed in the code, or disabled on its line with a comment saying why the
code is right.

    .venv/bin/python scripts/lint_shell.py                       # everything
    .venv/bin/python scripts/lint_shell.py --skip health-gate    # all but a template
    .venv/bin/python scripts/lint_shell.py FILE...               # only these files
"""

from __future__ import annotations

import argparse
import ast
import hashlib
import json
import re
import runpy
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

TEMPLATE_DIR = ROOT / "templates" / "bin"
#: One release per supported line (checked against versions.LINES: a new line must be
#: added here, or the runner stops).
RELEASES = {"12.0": "12.0.2", "12.2": "12.2.12", "13": "13.0.8", "14": "14.17", "16": "16.2"}
HOST = "api.example.com"
ROLES = {
    "all": {},
    "db": {"stack_role": "db"},
    "api (db_host)": {"stack_role": "api", "db_host": "10.0.0.5"},
    "api (external_db_uri)": {"stack_role": "api", "external_db_uri": "postgres://db.example.com:6543/app?sslmode=require"},
}
SECRETS = {"postgres_password": "superuser-secret-0123456789",
           "authenticator_password": "authenticator-secret-0123456789"}
_SHELL_SHEBANG = re.compile(rb"^#!\s*\S*/(?:env\s+)?(?:sh|bash|dash)\b")


@dataclass(frozen=True, order=True)
class Finding:
    where: str   # the file, or the template, the rendered script and its variants
    line: int
    code: int
    level: str
    message: str

    def __str__(self) -> str:
        return f"{self.where}:{self.line}: SC{self.code} ({self.level}): {self.message}"


@dataclass(frozen=True)
class Rendered:
    """One distinct rendered script and the variants that render exactly these bytes."""

    name: str            # bin/<name>, from templates/bin/<name>.j2
    first: int           # the number of the first variant rendering it
    labels: tuple[str, ...]


def shipped_files() -> list[Path]:
    """scripts/*.sh and the shell scripts under images/."""
    files = sorted((ROOT / "scripts").glob("*.sh"))
    for path in sorted((ROOT / "images").rglob("*")):
        if not path.is_file() or path.is_symlink():
            continue
        with path.open("rb") as handle:
            first = handle.readline()
        if path.suffix == ".sh" or _SHELL_SHEBANG.match(first):
            files.append(path)
    return files


def group_defaults() -> dict:
    """group_data/all.py as pyinfra reads it: its names, less dunders and imported ones (as
    tests/unit/conftest.py does; not imported from there, which would import pytest)."""
    path = ROOT / "group_data" / "all.py"
    imported = {alias.asname or alias.name for node in ast.walk(ast.parse(path.read_text()))
                if isinstance(node, (ast.Import, ast.ImportFrom)) for alias in node.names}
    data = runpy.run_path(str(path))
    return {k: v for k, v in data.items() if not k.startswith("__") and k not in imported}


def variants(certificates: Path):
    """(label, settings mapping) for every line x tls_mode x stack_role."""
    from postgrest_stack import versions
    from tests.harness.certificates import TestCA

    if set(RELEASES) != set(versions.LINES):
        raise SystemExit(f"lint_shell: RELEASES names {sorted(RELEASES)}, versions.LINES is "
                         f"{list(versions.LINES)}: give each supported line a release")
    for line, release in RELEASES.items():
        if versions.profile(release).line != line:
            raise SystemExit(f"lint_shell: {release} is not on the {line} line")
    issued = TestCA(certificates).issue("api", (HOST,), with_chain=True)
    tls = {
        "off": {},
        "internal": {"public_hostname": HOST},
        "acme": {"public_hostname": HOST, "acme_email": "ops@example.com"},
        "files": {"public_hostname": HOST, "tls_cert_file": str(issued.cert_file), "tls_key_file": str(issued.key_file)},
    }
    base = dict(group_defaults(), auth0_domain="tenant.eu.auth0.com", jwt_audience="https://api.example.com")
    for release in RELEASES.values():
        for mode, edge in tls.items():
            for role, topology in ROLES.items():
                label = f"PostgREST {release}, tls_mode={mode}, stack_role={role}"
                yield label, dict(base, postgrest_image=f"postgrest/postgrest:v{release}", tls_mode=mode,
                                  **edge, **topology)


def rendered_scripts(out: Path, skip: set[str]) -> tuple[dict[Path, Rendered], int, set[str]]:
    """Render every variant under ``out``: {one path per distinct script: what it is},
    how many variants there are, and the template names rendered."""
    from postgrest_stack import render, settings

    seen: dict[tuple[str, bytes], tuple[Path, int, list[str]]] = {}
    names: set[str] = set()
    count = 0
    for count, (label, given) in enumerate(variants(out / "ca"), start=1):
        tree = out / f"variant-{count}"
        render.write_tree(render.render(settings.resolve(given), SECRETS), tree)
        for script in sorted((tree / "bin").iterdir()):
            names.add(script.name)
            if script.name in skip:
                continue
            key = (script.name, hashlib.sha256(script.read_bytes()).digest())
            seen.setdefault(key, (script, count, []))[2].append(label)
    scripts = {path: Rendered(name, first, tuple(labels)) for (name, _digest), (path, first, labels) in seen.items()}
    return scripts, count, names


def shellcheck(files: list[Path]) -> list[dict]:
    """shellcheck's comments on ``files`` (sourced files followed), every level."""
    if not files:
        return []
    done = subprocess.run(["shellcheck", "--norc", "--external-sources", "--format=json1", *map(str, files)],
                          capture_output=True, text=True)
    if done.returncode not in (0, 1):
        raise SystemExit(f"lint_shell: shellcheck failed (exit {done.returncode}): {done.stderr.strip()}")
    return json.loads(done.stdout)["comments"]


def file_findings(comments: list[dict]) -> list[Finding]:
    """One finding per comment, named by the file's path in the project."""
    return sorted(Finding(relative(Path(c["file"])), c["line"], c["code"], c["level"], c["message"]) for c in comments)


def rendered_findings(comments: list[dict], scripts: dict[Path, Rendered], variants_count: int) -> list[Finding]:
    """One finding per template, code and flagged source line, whichever variants show it
    (line numbers of one template line differ between variants)."""
    grouped: dict[tuple, list[tuple[dict, Rendered]]] = {}
    for comment in comments:
        script = scripts[Path(comment["file"])]
        lines = Path(comment["file"]).read_text().splitlines()
        text = lines[comment["line"] - 1].strip() if comment["line"] <= len(lines) else ""
        key = (script.name, comment["code"], comment["level"], comment["message"], text)
        grouped.setdefault(key, []).append((comment, script))
    findings = []
    for (name, code, level, message, _text), hits in grouped.items():
        comment, script = min(hits, key=lambda hit: hit[1].first)
        shown = sum(len(hit.labels) for _comment, hit in hits)
        where = (f"templates/bin/{name}.j2 (bin/{name} for {shown} of {variants_count} variants, "
                 f"e.g. {script.labels[0]})")
        findings.append(Finding(where, comment["line"], code, level, message))
    return sorted(findings)


def template_name(text: str) -> str:
    """health-gate, health-gate.j2, bin/health-gate, templates/bin/health-gate.j2 -> health-gate."""
    return Path(text).name.removesuffix(".j2")


def relative(path: Path) -> str:
    """``path`` from the project root when it is inside, else as given."""
    try:
        return str(path.resolve().relative_to(ROOT))
    except ValueError:
        return str(path)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("files", nargs="*", type=Path, help="lint only these files")
    parser.add_argument("--skip", action="append", default=[], metavar="TEMPLATE",
                        help="a templates/bin template not to check (health-gate or templates/bin/health-gate.j2)")
    args = parser.parse_args(argv)
    if shutil.which("shellcheck") is None:
        print("lint_shell: shellcheck is not installed (bash scripts/install-system-packages.sh, `make system`)",
              file=sys.stderr)
        return 2
    templates = {path.name.removesuffix(".j2") for path in TEMPLATE_DIR.glob("*.j2")}
    skip = {template_name(name) for name in args.skip}
    if skip - templates:
        parser.error(f"--skip {', '.join(sorted(skip - templates))}: no such template in templates/bin")

    if args.files:
        findings = file_findings(shellcheck(args.files))
        checked = len(args.files)
    else:
        with tempfile.TemporaryDirectory(prefix="lint-shell-") as scratch:
            scripts, count, rendered = rendered_scripts(Path(scratch), skip)
            # A template no variant renders would never be checked.
            if templates - rendered:
                print(f"lint_shell: no variant renders {', '.join(sorted(templates - rendered))}", file=sys.stderr)
                return 1
            shipped = shipped_files()
            comments = shellcheck([*shipped, *scripts])
            findings = file_findings([c for c in comments if Path(c["file"]) not in scripts])
            findings += rendered_findings([c for c in comments if Path(c["file"]) in scripts], scripts, count)
            checked = len(shipped) + len(scripts)
    for finding in findings:
        print(finding)
    skipped = f", skipped {', '.join(sorted(skip))}" if skip else ""
    print(f"lint_shell: {len(findings)} finding(s) in {checked} script(s){skipped}", file=sys.stderr)
    return 1 if findings else 0


if __name__ == "__main__":
    sys.exit(main())
