#!/usr/bin/env python3
"""Mutation check: do the tests catch the bugs that matter?

Each entry of MUTANTS is one realistic bug that removes one guarantee of the stack (the
exact text it replaces, the new text, why it is realistic, and the narrowest set of
tests that should catch it). For each, this script applies the bug, runs those tests,
and puts the file back: a mutant is *killed* when the tests fail, a *survivor* when
they pass (a guarantee no test holds). Run by `make mutants` (README: Tests); not part
of `make test`.

The working tree is never edited: the bugs go into a copy of it under build/mutants/
(the files git tracks or would track, as they are on disk now, or a commit's with
``--rev``), removed at the end, also on Ctrl-C or an error. Before the first bug, the
union of all selected tests runs once on the unmodified copy (the *baseline*): a test
that already fails would kill every mutant and prove nothing. Each run's pytest output
is kept in build/mutants/logs/.

    .venv/bin/python scripts/mutants.py            # all mutants
    .venv/bin/python scripts/mutants.py --list     # what they are, changing nothing
    .venv/bin/python scripts/mutants.py -k guard   # those whose name contains 'guard'
    .venv/bin/python scripts/mutants.py --rev HEAD # a commit instead of the working tree
    .venv/bin/python scripts/mutants.py -k redirects --tests tests/e2e/test_jwks_redirect.py
                                                   # other tests than the entry's, e.g. slower ones

Exit status: 0 when every mutant was killed; 1 with a survivor, a stale mutant (its
text is no longer in the file: update the entry) or a failing baseline; 130 on Ctrl-C.

Adding a mutant: a bug someone could plausibly write (a dropped line, a wrong
comparison, a forgotten argument), an ``old`` text that occurs exactly once in its file,
and the tests that are meant to hold that guarantee (node ids, no ``-k``), the fewest
and fastest that do.
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
WORK = ROOT / "build" / "mutants"
PYTHON = ROOT / ".venv" / "bin" / "python"
#: What the copy borrows from the working tree rather than copying (large, not project code).
SHARED = ("build/bin",)
TIMEOUT_SECONDS = 900
STOP_SECONDS = 60


@dataclass(frozen=True)
class Edit:
    file: str
    old: str
    new: str


@dataclass(frozen=True)
class Mutant:
    name: str
    why: str
    tests: tuple[str, ...]
    edits: tuple[Edit, ...]


def mutant(name: str, file: str, old: str, new: str, why: str, tests: list[str], also: tuple[Edit, ...] = ()) -> Mutant:
    return Mutant(name, why, tuple(tests), (Edit(file, old, new), *also))


GUARD = "tests/unit/test_jwks_guard.py::test_each_rule_alone_refuses_the_set_it_is_about"
ROTATION = "tests/unit/test_key_rotation_local.py"
GATE = "tests/unit/test_health_gate_script.py"
PRE_REQUEST = "tests/contract/test_postgrest_contract.py::test_pre_request_refuses_weak_tokens"
RERUN = "tests/unit/test_plan.py::test_nothing_changed_means_nothing_to_do"
GUARD_REFUSAL = "  IF NOT claims ? '{claim}' THEN\n    RAISE SQLSTATE 'PT401' USING MESSAGE = 'JWT has no {claim} claim';\n  END IF;\n"

MUTANTS: tuple[Mutant, ...] = (
    # --- the authenticator role and PostgREST's own configuration
    mutant("authenticator inherits (db service)", "templates/sql/01-roles.sql.j2",
           "ALTER ROLE authenticator WITH LOGIN NOINHERIT NOSUPERUSER",
           "ALTER ROLE authenticator WITH LOGIN NOSUPERUSER",
           "NOINHERIT dropped: the authenticator's password alone would read what api_anon and api_user may",
           ["tests/contract/test_authenticator.py::test_the_authenticators_login_alone_reads_no_table"]),
    mutant("authenticator inherits (external database)", "templates/sql/01-roles.sql.j2",
           "ALTER ROLE authenticator WITH LOGIN NOINHERIT NOCREATEDB NOCREATEROLE;",
           "ALTER ROLE authenticator WITH LOGIN NOCREATEDB NOCREATEROLE;",
           "the same, in the branch for a managed database",
           ["tests/contract/test_authenticator.py::test_the_same_holds_on_an_external_database"]),
    mutant("in-database config switched on", "templates/postgrest.conf.j2",
           "db-config = false", "db-config = true",
           "someone wants pgrst.* settings in the database and relaxes render's check with it: an ALTER ROLE "
           "would then override the deployed audience on the next reload",
           ["tests/contract/test_authenticator.py::test_in_database_settings_do_not_change_the_accepted_audience"],
           also=(Edit("postgrest_stack/versions.py", 'if values.get("db-config", "false") != "false":',
                      'if values.get("db-config", "false") not in ("false", "true"):'),)),
    # --- the JWKS fetch and guard
    mutant("JWKS fetch follows redirects", "postgrest_stack/jwks.py",
           "allow_redirects=False", "allow_redirects=True",
           "requests' default: the https/loopback/credential checks then hold for the first URL only",
           ["tests/unit/test_jwks_fetch.py::test_a_redirect_to_a_valid_jwks_is_refused_not_followed"]),
    mutant("guard: only d is private", "postgrest_stack/jwks.py",
           'PRIVATE_MEMBERS = ("d", "p", "q", "dp", "dq", "qi", "oth")', 'PRIVATE_MEMBERS = ("d",)',
           "looking for the private exponent only: the CRT members (p, q, ...) give the key away as well",
           [GUARD]),
    mutant("guard: x5c[0] not compared with n/e", "postgrest_stack/jwks.py",
           "if not isinstance(cert_key, rsa.RSAPublicKey) or cert_key.public_numbers() != numbers:",
           "if not isinstance(cert_key, rsa.RSAPublicKey):",
           "checking the certificate parses and holds an RSA key, not that it is this key", [GUARD]),
    mutant("guard: x5t not compared", "postgrest_stack/jwks.py",
           'elif key["x5t"] != _b64url(sha1):', 'elif not key["x5t"]:',
           "x5t checked for presence only", [GUARD]),
    mutant("guard: x5t#S256 not compared", "postgrest_stack/jwks.py",
           'if "x5t#S256" in key and key["x5t#S256"] != _b64url(hashlib.sha256(der).digest()):',
           'if "x5t#S256" in key and not key["x5t#S256"]:',
           "x5t#S256 checked for presence only", [GUARD]),
    mutant("guard: any use", "postgrest_stack/jwks.py",
           'if key.get("use", "sig") != "sig":', 'if key.get("use", "sig") not in ("sig", "enc"):',
           "accepting every registered use: PostgREST then verifies tokens signed with an encryption key", [GUARD]),
    mutant("guard: any RS algorithm", "postgrest_stack/jwks.py",
           'if key.get("alg", "RS256") != "RS256":', 'if not str(key.get("alg", "RS256")).startswith("RS"):',
           "'any RSA algorithm will do'", [GUARD]),
    mutant("guard: key_ops not read", "postgrest_stack/jwks.py",
           'if key_ops is not None and (not isinstance(key_ops, list) or "verify" not in key_ops):',
           "if key_ops is not None and not isinstance(key_ops, list):",
           "key_ops checked for its type only", [GUARD]),
    mutant("guard: 1024-bit keys", "postgrest_stack/jwks.py",
           "MIN_RSA_BITS = 2048", "MIN_RSA_BITS = 1024", "a lower minimum 'for old tenants'", [GUARD]),
    mutant("guard: exponent range not checked", "postgrest_stack/jwks.py",
           "if numbers.e % 2 == 0 or not 2**16 < numbers.e < 2**256:", "if numbers.e % 2 == 0:",
           "the range of SP 800-56B dropped, e=3 accepted", [GUARD]),
    mutant("guard: duplicate kids", "postgrest_stack/jwks.py",
           "_validate_key(key, where, [kid for kid, _ in validated], warnings)", "_validate_key(key, where, [], warnings)",
           "the kids seen so far never passed on", [GUARD]),
    # --- the canonical key file
    mutant("canonical: n with a leading zero octet", "postgrest_stack/jwks.py",
           'octets = value.to_bytes(max(1, (value.bit_length() + 7) // 8), "big")',
           'octets = value.to_bytes(value.bit_length() // 8 + 1, "big")',
           "an off-by-one in the octet count: a 2048-bit n as 257 octets, which PostgREST 12.0.2 reads as a secret",
           ["tests/unit/test_jwks_guard.py::test_canonical_file_is_fixed_and_minimal",
            "tests/unit/test_jwks_guard.py::test_leading_zero_in_n_is_dropped"]),
    mutant("canonical: the published bytes pushed", "postgrest_stack/jwks.py",
           "return Jwks(canonical=canonical_bytes(validated),", "return Jwks(canonical=raw,",
           "'it validated, so push it as is': x5c chains, x5u, key_ops reach PostgREST",
           ["tests/unit/test_jwks_guard.py::test_misread_by_postgrest_but_sound_becomes_canonical"]),
    # --- the database guard on every request
    mutant("pre-request: exp not required", "templates/sql/03-pre-request.sql.j2",
           GUARD_REFUSAL.format(claim="exp"), "",
           "'PostgREST checks exp': only when the token has one", [PRE_REQUEST]),
    mutant("pre-request: aud not required", "templates/sql/03-pre-request.sql.j2",
           GUARD_REFUSAL.format(claim="aud"), "",
           "'PostgREST checks aud': only when the token has one", [PRE_REQUEST]),
    mutant("pre-request: a token without iss passes", "templates/sql/03-pre-request.sql.j2",
           "IF claims->>'iss' IS DISTINCT FROM", "IF claims->>'iss' <>",
           "<> is NULL, so not raised, for a token without iss", [PRE_REQUEST]),
    # --- the key file's previous version
    mutant(".prev: not kept by the plain upload", "tasks/stack.py",
           "keep_previous=relative == JWKS_FILE,", "keep_previous=False,",
           "the key file treated as any other file when PostgREST is stopped",
           ["tests/unit/test_apply_stack_local.py::test_a_new_key_set_for_a_stopped_postgrest_keeps_the_previous_file"]),
    mutant(".prev: not kept by a rotation", "tasks/keys.py",
           "keep_previous=True, size=len(content))", "size=len(content))",
           "the rotation's write without .prev: a rollback restores nothing, or an older file",
           [f"{ROTATION}::test_a_rotation_writes_reloads_and_keeps_the_previous_file"]),
    # --- key rotation's rollback and the key proof
    mutant("rollback: restores the new file", "tasks/keys.py",
           'source=posixpath.join(app, JWKS_FILE + ".prev")', "source=posixpath.join(app, JWKS_FILE)",
           "the rollback copies the file it should replace", [ROTATION]),
    mutant("rollback: no reload after the restore", "tasks/keys.py",
           '_replace_key_file(target, app, source=posixpath.join(app, JWKS_FILE + ".prev"))\n        _reload(target, app)\n',
           '_replace_key_file(target, app, source=posixpath.join(app, JWKS_FILE + ".prev"))\n',
           "the old file back on disk, the bad keys still loaded in PostgREST", [ROTATION]),
    mutant("rollback: later hosts rotate after a failure", "tasks/rotation.py",
           "elif failed:", "elif False:",
           "every host tried whatever the ones before it did", ["tests/unit/test_rotation_order.py"]),
    mutant("key proof: outcome ignored by the rotation", "tasks/keys.py",
           "reason = _prove_read_as_keys(target, settings, key_file)", "_prove_read_as_keys(target, settings, key_file)",
           "the proof runs, its answer is dropped", [ROTATION]),
    mutant("key proof: bin/prove-keys never fails", "templates/bin/prove-keys.j2",
           "      exit 3\n", "      exit 0\n",
           "'a warning is enough'", [f"{ROTATION}::test_a_key_file_read_as_a_secret_is_rolled_back_and_reloaded"]),
    mutant("key proof: no token for the bytes less the newline", "postgrest_stack/key_proof.py",
           '    if key_file.endswith(b"\\n"):\n        forms.append(key_file[:-1])\n', "",
           "one secret form only: PostgREST 12.0.2 uses the other for some files",
           ["tests/contract/test_key_file.py::test_prove_keys_catches_the_form_read_less_its_trailing_newline"]),
    mutant("key proof: deploy keeps a PostgREST that read a secret", "tasks/stack.py",
           "{host_script(app_dir, 'compose', 'rm', '-fs', 'postgrest')} >/dev/null 2>&1; exit $status; }}",
           "exit $status; }}",
           "the host fails, and its PostgREST keeps accepting forged tokens",
           [f"{ROTATION}::test_the_deploys_key_proof_removes_a_postgrest_that_read_a_secret"]),
    # --- the health gate
    mutant("health gate: any /ready answer is ready", "templates/bin/health-gate.j2",
           "http://127.0.0.1:{{ s.postgrest_admin_port }}/ready)\" = 200 ]",
           "http://127.0.0.1:{{ s.postgrest_admin_port }}/ready)\" != 000 ]",
           "'it answers, so it is up': a 503 passes", [GATE]),
    mutant("health gate: a starting database is healthy", "templates/bin/health-gate.j2",
           "db_healthy() {\n  id=$(bin/compose ps -q db 2>/dev/null)\n  [ -n \"$id\" ] && [ \"$(docker inspect -f "
           "'{{ \"{{\" }}.State.Health.Status{{ \"}}\" }}' \"$id\" 2>/dev/null)\" = healthy ]",
           "db_healthy() {\n  id=$(bin/compose ps -q db 2>/dev/null)\n  [ -n \"$id\" ] && [ \"$(docker inspect -f "
           "'{{ \"{{\" }}.State.Health.Status{{ \"}}\" }}' \"$id\" 2>/dev/null)\" != unhealthy ]",
           "'not unhealthy' taken for healthy", [GATE]),
    mutant("health gate: anonymous writes not checked", "templates/bin/health-gate.j2",
           '[ "$code" = 401 ] && return 0', '[ "$code" != 404 ] && return 0',
           "only the schema-cache 404 retried, any other answer taken", [GATE]),
    mutant("health gate: an unready PostgREST is no change", "postgrest_stack/plan.py",
           "or bool(plan.files) or unhealthy)", "or bool(plan.files))",
           "the gate only after a change: a rerun on a host whose PostgREST is down reports success",
           ["tests/unit/test_plan.py::test_unready_postgrest_gets_the_gate"]),
    # --- secrets under --diff
    mutant("--diff: secret flag not passed", "tasks/stack.py",
           "            secret=rendered.secret,\n", "",
           "a new argument list without it: every secret file's diff printed",
           ["tests/unit/test_apply_stack_local.py::test_diff_names_secret_files_and_never_prints_them"]),
    mutant("--diff: a modified secret file shown", "tasks/files.py",
           "    if secret:\n", "    if secret and not exists:\n",
           "hiding only what is new: a changed password's diff printed",
           ["tests/unit/test_apply_stack_local.py::test_diff_names_secret_files_and_never_prints_them"]),
    # --- a rerun with nothing new changes nothing
    mutant("0-change rerun: secret files by plain digest", "postgrest_stack/plan.py",
           "return digest_key is not None and current.keyed_sha256 == digests.keyed(digest_key, content)",
           "return current.keyed_sha256 == _sha256(content)",
           "the probe's keyed digest compared with a plain one: every secret file 'changed' on every run", [RERUN]),
    mutant("0-change rerun: the gate on every run", "postgrest_stack/plan.py",
           "plan.gate = (plan.up or", "plan.gate = (True or",
           "'always check, to be safe': every rerun reports a change", [RERUN]),
    mutant("pre-request: decides from request.headers", "templates/sql/03-pre-request.sql.j2",
           "  IF claims = '{}'::jsonb OR claims = jsonb_build_object('role', {{ s.db_anon_role | literal }}) THEN\n",
           "  IF coalesce(current_setting('request.headers', true)::jsonb->>'authorization', '') !~* '^bearer\\s'"
           " THEN\n",
           "'no Bearer header, no token': with two Authorization headers PostgREST verifies the first and "
           "request.headers holds the last, so a weak token followed by 'Basic x' passes",
           ["tests/contract/test_postgrest_contract.py::test_a_second_authorization_header_does_not_bypass_the_guard"]),
    mutant("edge: several Authorization headers matched per value", "templates/Caddyfile.j2",
           '@several_authorizations expression `{http.request.header.Authorization}.contains(",")`',
           "@several_authorizations header_regexp Authorization ,",
           "header_regexp tests each value alone, so two headers (no comma in either) pass to PostgREST",
           ["tests/contract/test_edge_authorization.py::test_two_authorization_headers_are_refused_at_the_edge"]),
    mutant("settings: acme_email may start with '#'", "postgrest_stack/settings.py",
           '        if value.startswith("#"):  # valid mail,', '        if False:  # valid mail,',
           "'#' is a legal character of a mail address, but the Caddyfile reads `email #...` as a comment",
           ["tests/unit/test_edge.py::test_acme_email_starting_with_a_hash_is_refused"]),
    mutant("guard: legacy x5t in lower-case hex only", "postgrest_stack/jwks.py",
           'if key["x5t"] in (_b64url(sha1.hex().upper().encode()), _b64url(sha1.hex().encode())):',
           'if key["x5t"] == _b64url(sha1.hex().encode()):',
           "hashlib's hexdigest() is lower-case, real legacy Auth0 tenants publish upper-case: their sets refused",
           ["tests/unit/test_jwks_guard.py::test_legacy_auth0_key_set_is_accepted_with_one_warning_per_key",
            "tests/contract/test_key_file.py::test_legacy_auth0_set_in_upper_case_form_deploys_as_keys"]),
    mutant("pre-request: anonymous claims checked as a token", "templates/sql/03-pre-request.sql.j2",
           "  IF claims = '{}'::jsonb OR claims = jsonb_build_object('role', {{ s.db_anon_role | literal }}) THEN\n",
           "  IF claims = '{}'::jsonb THEN\n",
           "'no token, no claims': PostgREST sets {\"role\": <anon role>} for a request without one, so every "
           "anonymous request would get 401",
           ["tests/contract/test_postgrest_contract.py::test_good_token_and_anonymous_still_pass_the_guard_sent_raw"]),
)


# --- the copy --------------------------------------------------------------------------

def project_files() -> list[str]:
    listed = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"], cwd=ROOT,
                            check=True, capture_output=True).stdout.decode().split("\0")
    return [name for name in listed if name and (ROOT / name).is_file() and not (ROOT / name).is_symlink()]


def make_copy(rev: str | None) -> Path:
    WORK.mkdir(parents=True, exist_ok=True)
    tree = Path(tempfile.mkdtemp(prefix="tree-", dir=WORK))
    if rev:
        archive = subprocess.run(["git", "archive", "--format=tar", rev], cwd=ROOT, check=True, capture_output=True)
        subprocess.run(["tar", "-x", "-C", str(tree)], input=archive.stdout, check=True)
    else:
        for name in project_files():
            (tree / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / name, tree / name)
    for name in SHARED:
        if (ROOT / name).exists():
            (tree / name).parent.mkdir(parents=True, exist_ok=True)
            (tree / name).symlink_to(ROOT / name)
    return tree


# --- running -----------------------------------------------------------------------------

def run_tests(tree: Path, tests: tuple[str, ...], log: Path) -> int:
    command = [str(PYTHON), "-m", "pytest", "-x", "-q", "-p", "no:cacheprovider", *tests]
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTEST_ADDOPTS")}
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("w") as out:
        out.write(" ".join(command) + "\n\n")
        out.flush()
        # A session of its own: Ctrl-C reaches pytest from here, once, so its fixtures
        # (database clusters, PostgREST processes) still get torn down.
        process = subprocess.Popen(command, cwd=tree, env=env, stdout=out, stderr=subprocess.STDOUT,
                                   stdin=subprocess.DEVNULL, start_new_session=True)
        try:
            return process.wait(timeout=TIMEOUT_SECONDS)
        except subprocess.TimeoutExpired:
            out.write(f"\n(mutants.py: no result within {TIMEOUT_SECONDS} s)\n")
            stop(process)
            return -1
        except KeyboardInterrupt:
            stop(process)
            raise


def stop(process: subprocess.Popen) -> None:
    """SIGINT (pytest tears its fixtures down), then SIGKILL if it is not done within a minute."""
    process.send_signal(signal.SIGINT)
    try:
        process.wait(timeout=STOP_SECONDS)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def apply(tree: Path, edits: tuple[Edit, ...]) -> dict[Path, bytes] | str:
    """Apply every edit (each ``old`` must occur once); the originals, or why not."""
    originals: dict[Path, bytes] = {}
    texts: dict[Path, str] = {}
    for edit in edits:
        path = tree / edit.file
        if not path.is_file():
            return f"{edit.file} does not exist"
        text = texts.get(path, path.read_text())
        count = text.count(edit.old)
        if count != 1:
            return f"{edit.file}: the old text occurs {count} times, expected once"
        originals.setdefault(path, path.read_bytes())
        texts[path] = text.replace(edit.old, edit.new)
    for path, text in texts.items():
        path.write_text(text)
    return originals


def restore(originals: dict[Path, bytes]) -> None:
    for path, content in originals.items():
        path.write_bytes(content)


def slug(name: str) -> str:
    return "".join(c if c.isalnum() else "-" for c in name.lower()).strip("-")


def minutes(seconds: float) -> str:
    return f"{int(seconds // 60)} min {int(seconds % 60)} s"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--list", action="store_true", help="list the mutants and exit")
    parser.add_argument("-k", dest="select", default="", help="only mutants whose name contains this")
    parser.add_argument("--rev", help="mutate this commit (git archive) instead of the working tree")
    parser.add_argument("--no-baseline", action="store_true", help="skip the run on the unmodified copy")
    parser.add_argument("--keep", action="store_true", help="keep the copy (its path is printed)")
    parser.add_argument("--tests", nargs="+", help="run these tests for every chosen mutant instead of its own")
    args = parser.parse_args(argv)
    chosen = [m for m in MUTANTS if args.select.lower() in m.name.lower()]
    if args.tests:
        chosen = [Mutant(m.name, m.why, tuple(args.tests), m.edits) for m in chosen]
    if args.list:
        for m in chosen:
            edits = "; ".join(f"{e.file}: {e.old.strip()[:60]!r} -> {e.new.strip()[:60]!r}" for e in m.edits)
            print(f"{m.name}\n    why:   {m.why}\n    edit:  {edits}\n    tests: {' '.join(m.tests)}")
        return 0
    if not chosen:
        print(f"no mutant's name contains {args.select!r}", file=sys.stderr)
        return 1

    started = time.monotonic()
    logs = WORK / "logs"
    shutil.rmtree(logs, ignore_errors=True)
    tree = make_copy(args.rev)
    results: list[tuple[str, str, float]] = []
    try:
        print(f"copy of {'the working tree' if not args.rev else args.rev} in {tree}", flush=True)
        if not args.no_baseline:
            union = tuple(dict.fromkeys(t for m in chosen for t in m.tests))
            began = time.monotonic()
            code = run_tests(tree, union, logs / "baseline.log")
            print(f"baseline    {time.monotonic() - began:6.1f} s  the selected tests on the unmodified copy",
                  flush=True)
            if code != 0:
                print(f"baseline failed (pytest exit {code}): see {logs / 'baseline.log'}", file=sys.stderr)
                return 1
        for m in chosen:
            began = time.monotonic()
            originals = apply(tree, m.edits)
            if isinstance(originals, str):
                outcome = "STALE"
                print(f"STALE       {0:6.1f} s  {m.name}: {originals}", flush=True)
            else:
                try:
                    code = run_tests(tree, m.tests, logs / f"{slug(m.name)}.log")
                finally:
                    restore(originals)
                outcome = {0: "SURVIVED", 1: "killed"}.get(code, "ERROR")
                detail = "" if outcome != "ERROR" else f" (pytest exit {code})"
                print(f"{outcome:<10}  {time.monotonic() - began:6.1f} s  {m.name}{detail}", flush=True)
            results.append((m.name, outcome, time.monotonic() - began))
    except KeyboardInterrupt:
        print("\ninterrupted: the copy is removed, the working tree was never touched", file=sys.stderr)
        return 130
    finally:
        if args.keep:
            print(f"kept {tree}")
        else:
            shutil.rmtree(tree, ignore_errors=True)

    killed = sum(1 for _n, outcome, _t in results if outcome == "killed")
    survivors = [name for name, outcome, _t in results if outcome == "SURVIVED"]
    other = [f"{name} ({outcome})" for name, outcome, _t in results if outcome not in ("killed", "SURVIVED")]
    print(f"\n{len(results)} mutants: {killed} killed, {len(survivors)} survived"
          f"{f', {len(other)} not run' if other else ''}, in {minutes(time.monotonic() - started)}")
    for name in survivors:
        print(f"  survived: {name}")
    for name in other:
        print(f"  not run:  {name}")
    print(f"pytest output: {logs}/")
    return 0 if not survivors and not other else 1


if __name__ == "__main__":
    sys.exit(main())
