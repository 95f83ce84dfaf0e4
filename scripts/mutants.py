#!/usr/bin/env python3
"""Mutation check: do the tests catch the bugs that matter?

Each entry of MUTANTS is one realistic bug that removes one guarantee of the stack (the
exact text it replaces, the new text, why it is realistic, and the narrowest set of
tests that should catch it). For each, this script applies the bug, runs those tests,
and puts the file back: a mutant is *killed* when the tests fail, a *survivor* when
they pass (a guarantee no test holds). Run by `make mutants` (docs/maintainers.md: Tests); not part
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
MIGRATIONS = "tests/unit/test_migrations.py"
MIGRATE = "tests/contract/test_migrate_script.py"
IMAGE_LOAD = "tests/unit/test_image_load.py"
LINT_SHELL = "tests/unit/test_lint_shell.py"
PACKAGING = "tests/unit/test_packaging.py"
PROJECT_DIR = "tests/unit/test_project_dir.py"
INSTALLED = "tests/unit/test_installed_command.py"
VALUES = "tests/unit/test_settings_values.py"
RESTORE_UNIT = "tests/unit/test_restore.py"
RESTORE_E2E = "tests/e2e/test_restore.py"
#: The e2e tests are one scenario: each needs the first (deploy, rows, the backup) before it.
FIRST_RESTORE = f"{RESTORE_E2E}::test_a_deployed_stack_with_rows_is_backed_up"
BACKUP_E2E = "tests/e2e/test_backup.py"
BACKUP_SCRIPT = "tests/e2e/test_backup_script.py::test_counts_are_the_dumps_under_concurrent_writes"
BACKUPS_UNIT = "tests/unit/test_backup_ages.py"
NO_SECRETS = "tests/unit/test_status_without_secrets.py"
DB_ADDRESS = "tests/unit/test_db_address_check.py"
UNKNOWN_KEYS = "tests/unit/test_unknown_settings.py"
REFUSALS = "tests/unit/test_refusals.py"
COMPOSE_LOGGING = "tests/unit/test_compose_logging.py"
LOGS_UNIT = "tests/unit/test_logs_command.py"
SECRETS_TESTS = "tests/unit/test_secrets.py"
PROOF = "tests/unit/test_key_proof.py"
SKEW = "tests/contract/test_key_proof_skew.py"
HOST_SCRIPTS = "tests/unit/test_host_scripts.py"
PROBE_CONTAINERS = "tests/unit/test_probe_containers.py"
STAGING = "tests/unit/test_staging_rename.py"

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
    mutant("health gate: a starting database is healthy", "templates/bin/health-gate.j2",
           "db_healthy() {\n  id=$(bin/compose ps -q db 2>/dev/null)\n  [ -n \"$id\" ] && [ \"$(docker inspect -f "
           "'{{ \"{{\" }}.State.Health.Status{{ \"}}\" }}' \"$id\" 2>/dev/null)\" = healthy ]",
           "db_healthy() {\n  id=$(bin/compose ps -q db 2>/dev/null)\n  [ -n \"$id\" ] && [ \"$(docker inspect -f "
           "'{{ \"{{\" }}.State.Health.Status{{ \"}}\" }}' \"$id\" 2>/dev/null)\" != unhealthy ]",
           "'not unhealthy' taken for healthy", [GATE]),
    mutant("health gate: any answer from the OpenAPI root passes", "templates/bin/health-gate.j2",
           '[ "$code" = 200 ] || fail postgrest "GET / (OpenAPI)',
           '[ "$code" != 000 ] || fail postgrest "GET / (OpenAPI)',
           "'it answers': a 401 (a role PostgREST may not switch to, a guard it may not run) passes", [GATE]),
    mutant("health gate: no schema cache reload", "templates/bin/health-gate.j2",
           "bin/compose kill -s SIGUSR1 postgrest >/dev/null 2>&1 || fail",
           "true || fail",
           "a PostgREST whose listener missed the migrations' NOTIFY keeps a stale schema cache",
           [f"{GATE}::test_the_schema_cache_is_reloaded_once_then_the_root_is_asked"]),
    mutant("health gate: an unready PostgREST is no change", "postgrest_stack/plan.py",
           "or bool(plan.record) or unhealthy)", "or bool(plan.record))",
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
    mutant("0-change rerun: secret files by plain digest", "postgrest_stack/compare.py",
           "return digest_key is not None and current.keyed_sha256 == digests.keyed(digest_key, content)",
           "return current.keyed_sha256 == hashlib.sha256(content).hexdigest()",
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
    # --- image_source = controller: the host-side load
    mutant("image load: the controller's ID as a fallback when docker load names none", "tasks/images.py",
           "\"loaded=$(printf '%s\\\\n' \\\"$out\\\" | sed -n 's/^Loaded image ID: *//p' | paste -sd ' ' -);\",",
           "\"loaded=$(printf '%s\\\\n' \\\"$out\\\" | sed -n 's/^Loaded image ID: *//p' | paste -sd ' ' -);\", "
           "f'loaded=${{loaded:-{image.image_id}}};',",
           "the fallback the load used to have: an archive whose docker load reports no image ID (a named or "
           "swapped archive) passes the check and the controller's ID gets tagged, not what docker load loaded",
           [f"{IMAGE_LOAD}::test_any_other_loaded_id_is_refused_in_one_line_and_nothing_is_tagged"]),
    mutant("image load: loaded ID not compared with the controller's", "tasks/images.py",
           "        'if [ \"$loaded\" != ', controller_id, \" ]; then\",\n"
           "        \"printf\", QuoteString(REFUSAL), QuoteString(image.setting), QuoteString(image.pin),\n"
           "        '\"${loaded:-(none)}\"', controller_id, \">&2; exit 1; fi;\",\n",
           "",
           "the check dropped: whatever image the archive on the host held is tagged under the pinned reference",
           [f"{IMAGE_LOAD}::test_any_other_loaded_id_is_refused_in_one_line_and_nothing_is_tagged"]),
    mutant("image load: a mismatch warned about, then tagged anyway", "tasks/images.py",
           "'\"${loaded:-(none)}\"', controller_id, \">&2; exit 1; fi;\",",
           "'\"${loaded:-(none)}\"', controller_id, \">&2; fi;\",",
           "the refusal line printed but the script goes on to tag the other image (a forgotten exit)",
           [f"{IMAGE_LOAD}::test_any_other_loaded_id_is_refused_in_one_line_and_nothing_is_tagged"]),
    mutant("image load: the predictable /var/tmp upload path back", "tasks/images.py",
           "archive = posixpath.join(directory, UPLOAD_NAME)",
           "archive = posixpath.join(self.upload_parent, f\"postgrest-stack-image-{self.image.image_id[7:]}.tar.gz\")",
           "the path the upload used to take: a file another local user created there first is written into "
           "(and stays theirs, so they can swap it before docker load)",
           [f"{IMAGE_LOAD}::test_the_archive_is_loaded_from_a_fresh_root_only_directory_removed_after"]),
    mutant("image load: a fixed upload directory name instead of mktemp", "tasks/images.py",
           'return StringCommand("mktemp", "-d", QuoteString(posixpath.join(parent, UPLOAD_DIR_PREFIX + "XXXXXXXXXX")))',
           'return StringCommand("mkdir", "-m", "0700", QuoteString(posixpath.join(parent, UPLOAD_DIR_PREFIX + "XXXXXXXXXX")), '
           '"&& echo", QuoteString(posixpath.join(parent, UPLOAD_DIR_PREFIX + "XXXXXXXXXX")))',
           "mktemp 'simplified' to mkdir of a fixed name: any local user who creates that name first blocks every load",
           [f"{IMAGE_LOAD}::test_the_archive_is_loaded_from_a_fresh_root_only_directory_removed_after"]),
    mutant("image load: upload directory left behind when the load fails", "tasks/images.py",
           "            ok, _out = run(load_command(archive, self.image))\n"
           "            return ok\n"
           "        finally:\n"
           "            run(StringCommand(\"rm\", \"-rf\", QuoteString(directory)))\n",
           "            ok, _out = run(load_command(archive, self.image))\n"
           "            if ok:\n"
           "                run(StringCommand(\"rm\", \"-rf\", QuoteString(directory)))\n"
           "            return ok\n"
           "        finally:\n"
           "            pass\n",
           "cleanup on the success path only: a refused or failed load leaves the archive's directory in /var/tmp",
           [f"{IMAGE_LOAD}::test_a_refused_load_fails_the_operation_and_leaves_no_directory",
            f"{IMAGE_LOAD}::test_a_failed_upload_fails_the_operation_and_leaves_no_directory"]),
    # --- the key proof under clock skew (issue 19, 5)
    mutant("key proof: the controller's iat back in the tokens", "postgrest_stack/key_proof.py",
           '        "exp": now + LIFETIME_SECONDS,\n',
           '        "iat": now,\n        "exp": now + LIFETIME_SECONDS,\n',
           "the claims every token 'should' have: with the controller 45 s ahead, PostgREST refuses the token "
           "as issued in the future before it shows whether it verified the signature",
           [f"{PROOF}::test_no_clock_skew_makes_the_tokens_refused_for_their_claims",
            f"{SKEW}::test_a_file_read_as_a_secret_fails_the_proof_whatever_the_skew"]),
    mutant("key proof: a 15-minute token lifetime", "postgrest_stack/key_proof.py",
           "LIFETIME_SECONDS = 366 * 24 * 3600", "LIFETIME_SECONDS = 900",
           "a 'short-lived' proof token, as before: a controller 17 min behind makes it expired on the host",
           [f"{PROOF}::test_no_clock_skew_makes_the_tokens_refused_for_their_claims",
            f"{SKEW}::test_a_file_read_as_a_secret_fails_the_proof_whatever_the_skew"]),
    mutant("key proof: any 401 counts as read as keys", "templates/bin/prove-keys.j2",
           """        case "$why" in {% for text in pgrst.signature_failures %}'{{ text }}'{{ "|" if not loop.last }}"""
           """{% endfor %}) continue ;; esac\n""", "        continue\n",
           "'401 means refused': a 401 for the claims (expired, issued in the future) comes after the "
           "signature was verified, i.e. from a file read as a secret",
           [f"{PROOF}::test_any_other_answer_fails_closed_with_one_line",
            f"{SKEW}::test_a_401_for_another_reason_fails_the_proof"]),
    mutant("key proof: only the release's own wording of the signature failure", "postgrest_stack/versions.py",
           "return (self.signature_refused, *(text for text in SIGNATURE_FAILURES if text != self.signature_refused))",
           "return (self.signature_refused,)",
           "one text per release: a build that words the refusal as another release does (the 14 ready shim of "
           "the e2e tests, or 13+ whose text is read from source) fails every proof and loses its PostgREST",
           [f"{PROOF}::test_every_release_takes_either_wording_of_the_signature_failure"]),
    # --- bin/prove-keys fails closed (issue 25, text-only kill)
    mutant("key proof: bin/prove-keys never fails", "templates/bin/prove-keys.j2",
           "    exit 3\n", "    exit 0\n",
           "'a warning is enough'",
           [f"{ROTATION}::test_a_key_file_read_as_a_secret_is_rolled_back_and_reloaded",
            f"{PROOF}::test_any_other_answer_fails_closed_with_one_line"]),
    mutant("key proof: a 503 passes", "templates/bin/prove-keys.j2",
           "      5??)\n", "      5??) continue ;;\n      5__)\n",
           "'PostgREST is busy, not wrong': a PostgREST that cannot answer proves nothing",
           [f"{PROOF}::test_any_other_answer_fails_closed_with_one_line"]),
    mutant("key proof: a 403 passes", "templates/bin/prove-keys.j2",
           '      *)\n        echo "PostgREST read the key file as a shared secret',
           '      403) continue ;;\n      *)\n        echo "PostgREST read the key file as a shared secret',
           "'forbidden is refused too': 403 comes after the signature was verified (role not granted)",
           [f"{PROOF}::test_any_other_answer_fails_closed_with_one_line"]),
    mutant("key proof: no answer passes", "templates/bin/prove-keys.j2",
           "      ''|000)\n", "      ''|000) continue ;;\n      none)\n",
           "'nothing answered, nothing accepted': a timeout or a PostgREST not listening proves nothing",
           [f"{PROOF}::test_no_answer_fails_closed"]),
    # --- bin/reload-postgrest sends SIGUSR2 (issue 25, text-only kill)
    mutant("reload: SIGUSR1 instead of SIGUSR2", "templates/bin/reload-postgrest.j2",
           'docker kill -s SIGUSR2 "$id" >/dev/null', 'docker kill -s SIGUSR1 "$id" >/dev/null',
           "the two PostgREST signals swapped: SIGUSR1 reloads the schema cache only, the old keys stay loaded",
           [f"{HOST_SCRIPTS}::test_the_reload_makes_postgrest_reread_its_config_and_keys",
            f"{ROTATION}::test_a_rotation_writes_reloads_and_keeps_the_previous_file"]),
    mutant("reload: docker kill without a signal", "templates/bin/reload-postgrest.j2",
           'docker kill -s SIGUSR2 "$id" >/dev/null', 'docker kill "$id" >/dev/null',
           "a forgotten -s: docker sends SIGKILL and PostgREST is gone",
           [f"{HOST_SCRIPTS}::test_the_reload_makes_postgrest_reread_its_config_and_keys"]),
    # --- the health gate with an edge (issue 25, 6)
    mutant("health gate: any answer on the edge's plain port", "templates/bin/health-gate.j2",
           ':{{ s.edge_http_port }}/")" = 308 ]', ':{{ s.edge_http_port }}/")" != 000 ]',
           "'it answers, so the edge is up': a plain port serving the API over HTTP (200) passes",
           [f"{GATE}::test_an_edge_whose_plain_port_answers_anything_but_the_redirect_fails"]),
    # --- app_dir (issue 19, 6)
    mutant("app_dir: any managed file name counts as ours", "postgrest_stack/app_dir.py",
           '    if any(entries.get(marker) is not None and entries[marker].kind == "f" for marker in MARKERS):',
           "    if any(relative in managed_files() for relative in entries):",
           "compose.yaml and .env taken as a stack of ours: another compose project's directory would be "
           "made root's 0700 and its compose.yaml overwritten",
           ["tests/unit/test_app_dir.py::test_a_directory_holding_something_else_is_refused"]),
    # --- directory modes (issue 19, 7)
    mutant("directory mode keeps setgid", "tasks/files.py",
           'chmod 0{mode:04o} {q_path}"', 'chmod {mode:o} {q_path}"',
           "a plain 'chmod 700': GNU chmod keeps a directory's setgid bit, so a directory made in a setgid parent "
           "reads 2700 on every probe and every deploy reports a change",
           ["tests/unit/test_files.py::test_a_directory_in_a_setgid_parent_gets_exactly_its_mode"]),
    # --- the smoke_token_command example (docs/runbooks.md) (issue 19, 8)
    mutant("docs: client secret on curl's command line", "docs/runbooks.md",
           'printf %s \\"$SMOKE_SECRET\\" | curl -s https://TENANT/oauth/token -d grant_type=client_credentials '
           '-d client_id=... --data-urlencode client_secret@- -d audience=API',
           'curl -s https://TENANT/oauth/token -d grant_type=client_credentials -d client_id=... '
           '-d client_secret=\\"$SMOKE_SECRET\\" -d audience=API',
           "the obvious curl example: the Auth0 client secret in curl's argv, shown by ps to every user of the "
           "controller",
           ["tests/unit/test_smoke_token_example.py"]),
    # --- published addresses (issue 25, 1 and 2; default-value sweep)
    mutant("admin port follows postgrest_bind", "templates/compose.yaml.j2",
           '      - "127.0.0.1:{{ s.postgrest_admin_port }}:3001"',
           '      - "{{ s.postgrest_bind }}:{{ s.postgrest_admin_port }}:3001"',
           "both PostgREST ports on the same address: /live, /ready (and /metrics) published wherever the API is",
           ["tests/unit/test_published_addresses.py::test_the_admin_server_stays_on_loopback_whatever_postgrest_bind"]),
    mutant("Swagger UI published on loopback whatever swagger_bind", "templates/compose.yaml.j2",
           '      - "{{ s.swagger_bind }}:{{ s.swagger_port }}:8080"', '      - "127.0.0.1:{{ s.swagger_port }}:8080"',
           "swagger_bind hard-coded as its default: every test with the default renders the same bytes",
           ["tests/unit/test_published_addresses.py::test_each_service_is_published_on_its_own_setting"]),
    mutant("db published on postgrest_bind", "templates/compose.yaml.j2",
           '      - "{{ s.db_bind }}:{{ s.db_port }}:5432"', '      - "{{ s.postgrest_bind }}:{{ s.db_port }}:5432"',
           "one bind for the whole stack: postgrest_bind 0.0.0.0 would publish the database on all interfaces",
           ["tests/unit/test_published_addresses.py::"
            "test_a_db_and_swagger_left_at_their_defaults_do_not_follow_postgrest_bind"]),
    mutant("scripts reach PostgREST on loopback whatever postgrest_bind", "templates/bin/health-gate.j2",
           '"{{ api_url }}$2"', '"http://127.0.0.1:{{ s.postgrest_port }}$2"',
           "the health gate asks loopback: with postgrest_bind 10.0.0.5 nothing listens there and every deploy fails",
           ["tests/unit/test_published_addresses.py::"
            "test_the_health_gate_asks_the_published_address_and_the_loopback_admin_port"]),
    # --- 25.3: the running container of a service wins over an exited leftover
    mutant("probe: the first container listed per service wins", "postgrest_stack/probe.py",
           'if state.services.get(name) is None or state.services[name].status != "running":',
           "if name not in state.services:",
           "'keep the first line per service': docker ps -a lists the newest container first, so a newer exited "
           "leftover (a recreate that failed) hides the running PostgREST and a key change becomes a plain upload, "
           "with no reload and no key proof",
           ["tests/unit/test_probe_details.py::test_the_running_container_of_a_service_wins_over_an_exited_leftover",
            f"{PROBE_CONTAINERS}::test_the_running_container_wins_wherever_the_leftover_is_listed",
            f"{PROBE_CONTAINERS}::test_a_key_change_with_a_leftover_listed_first_is_still_a_rotation"]),
    # --- 25.5: status reports a container running another image ID than its tag
    mutant("status: image ID drift dropped", "postgrest_stack/compare.py",
           "        if service.status == \"running\" and service.image_id and held and held != service.image_id:",
           "        if False:",
           "the reference compared, not the image ID: a host that loaded a new image under the same tag but never "
           "recreated the container reports no drift while it runs the old image",
           ["tests/unit/test_status.py::test_a_container_running_another_image_than_its_tag_is_drift",
            f"{PROBE_CONTAINERS}::test_status_reports_a_container_running_another_image_than_the_tag"]),
    mutant("compare: the image compose names not compared", "postgrest_stack/compare.py",
           "        if service.image != wanted:", "        if False:",
           "a container running another image than compose.yaml names (a pin changed by hand, an old tag) "
           "shows no drift and is never brought up",
           ["tests/unit/test_compare.py::test_every_difference_is_acted_on_and_reported"]),
    # --- the staging file beside its destination (a same-directory rename)
    mutant("put: staging file in /tmp", "tasks/files.py",
           'staging = posixpath.join(posixpath.dirname(dest), f".{posixpath.basename(dest)}.new")',
           'staging = posixpath.join("/tmp", f".{posixpath.basename(dest)}.new")',
           "'stage in the temp directory', as pyinfra's own sudo upload does: mv across filesystems copies the bytes "
           "into the destination, and PostgREST or compose can read it half written",
           [f"{STAGING}::test_an_upload_is_staged_beside_its_destination_and_renamed_over_it",
            f"{STAGING}::test_a_rollback_copy_is_staged_beside_its_destination_and_renamed_over_it",
            f"{STAGING}::test_the_deploys_put_operation_renames_within_the_directory"]),
    mutant("controller write: temporary file in the system temp directory", "postgrest_stack/atomic_write.py",
           'fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)',
           'fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.")',
           "mkstemp's default directory: os.replace is then no longer a rename within one directory (EXDEV across "
           "filesystems, a half-visible file on the way)",
           [f"{STAGING}::test_the_controller_writes_beside_the_destination_and_renames"]),
    # --- the alert of a run stopped before any host ran
    mutant("alert: the error that stopped the run is no reason", "tasks/alerting.py",
           "return reasons + collector.fatal", "return reasons",
           "reasons gathered per failed host only: a run stopped before any host ran (an invalid JWKS, a refused "
           "setting) fails with no failed host, and nobody is alerted",
           ["tests/unit/test_alerts.py::test_a_run_stopped_before_any_host_ran_alerts_with_its_error",
            "tests/unit/test_alerts.py::test_a_real_run_stopped_by_an_invalid_jwks_sends_one_line"]),
    mutant("alert: only connected hosts' alert_command", "tasks/alerting.py",
           'hosts = [host for host in getattr(state, "inventory", None) or () if _in_run(state, host)]',
           'hosts = [host for host in getattr(state, "inventory", None) or () if host in state.activated_hosts]',
           "'the run's hosts' read as the ones pyinfra connected to: with every host unreachable the run stops "
           "before any host ran, and no alert_command is found",
           ["tests/unit/test_alerts.py::test_a_real_run_with_every_host_unreachable_sends_one_line"]),
    mutant("alert: a hung alert_command's children outlive the timeout", "postgrest_stack/alerts.py",
           "        os.killpg(process.pid, signal.SIGKILL)\n", "        process.kill()\n",
           "the shell killed, not what it started: a hung curl or mail lives on (and under pyinfra's gevent-patched "
           "subprocess.run, the previous form, the run waited for it well past the 60 s bound)",
           ["tests/unit/test_alerts.py::test_a_hung_alert_command_is_stopped_with_what_it_started"]),
    # --- the probe reads the stack its settings name (a default value hid each of these)
    mutant("probe: compose's default project name", "tasks/probe_host.py",
           "arguments = dict(app_dir=settings.app_dir, stack_name=settings.stack_name,",
           'arguments = dict(app_dir=settings.app_dir, stack_name=settings.app_dir.rstrip("/").rsplit("/", 1)[-1],',
           "compose's own default project (the directory's name) assumed: the same 'postgrest' for the default "
           "app_dir and stack_name, another stack's containers or none for any other",
           [f"{PROBE_CONTAINERS}::test_the_probe_reads_the_stack_its_settings_name"]),
    mutant("probe: /ready on the API port", "tasks/probe_host.py",
           "admin_port=settings.postgrest_admin_port,", "admin_port=settings.postgrest_port,",
           "the published port taken for the admin one: PostgREST 12 serves /ready on the admin server only, so "
           "every run finds it not ready and runs the health gate (and status reports it not ready)",
           [f"{PROBE_CONTAINERS}::test_the_probe_reads_the_stack_its_settings_name"]),
    mutant("probe: image IDs never asked for", "tasks/probe_host.py",
           'images = tuple(references.values()) if settings.image_source == "controller" else ()',
           "images = ()",
           "the image lines left out of the probe: every controller deploy loads every image again, and status "
           "never sees a container running another image than its tag",
           [f"{PROBE_CONTAINERS}::test_status_reports_a_container_running_another_image_than_the_tag"]),
    # --- what the services loaded (state/ records): a run that stopped half-way is finished
    mutant("plan: a conf in place but never reloaded is left", "postgrest_stack/plan.py",
           "(any(name in plan.files for name in RELOADED_BY_SIGNAL) or loaded.CONFIG in plan.record))",
           "any(name in plan.files for name in RELOADED_BY_SIGNAL))",
           "comparing files only (as before): a run that stopped before the reload leaves the old audience enforced",
           ["tests/unit/test_loaded.py::test_conf_in_place_but_not_loaded_is_reloaded"]),
    mutant("plan: a key file in place but never proven is left", "postgrest_stack/plan.py",
           '"postgrest" in running and (JWKS_FILE in plan.files or loaded.KEYS in plan.record)',
           '"postgrest" in running and JWKS_FILE in plan.files',
           "a rotation stopped after the write: revoked key still accepted, the file looks current",
           ["tests/unit/test_loaded.py::test_key_file_in_place_but_not_proven_is_rotated_without_a_write"]),
    mutant("plan: compose/.env in place but never brought up is left", "postgrest_stack/plan.py",
           "or any(name in plan.files for name in RECREATE_ON_CHANGE) or loaded.STACK in plan.record)",
           "or any(name in plan.files for name in RECREATE_ON_CHANGE))",
           "an up that failed after the new .env was written is never retried",
           ["tests/unit/test_loaded.py::test_compose_and_env_in_place_but_never_brought_up"]),
    mutant("plan: a loaded image never brought up is left", "postgrest_stack/plan.py",
           'plan.up = (bool(subjects("service", "missing", "stopped", "extra")) or bool(subjects("image"))',
           'plan.up = (bool(subjects("service", "missing", "stopped", "extra")) or bool(subjects("image", "load"))',
           "the image is on the host under its tag, so nothing is loaded and nothing comes up",
           ["tests/unit/test_loaded.py::test_an_image_loaded_but_never_brought_up"]),
    mutant("plan: SQL always after up", "postgrest_stack/plan.py",
           'plan.sql_first = plan.sql and ("db" not in compare.expected_services(files) or "db" in running)',
           "plan.sql_first = False",
           "up first recreates PostgREST with a new password the database does not know yet: fleet-wide 503s",
           ["tests/unit/test_loaded.py::test_sql_goes_in_before_up_when_the_database_answers"]),
    mutant("status: what was never loaded not reported", "postgrest_stack/status.py",
           "            if not all(compare.file_is_current(", "            if True or not all(compare.file_is_current(",
           "status comparing files only: a host half-way through a rotation shows ok",
           ["tests/unit/test_loaded.py::test_status_reports_what_was_never_loaded"]),
    mutant("rotation: rolls back on a step's error only", "tasks/keys.py",
           "    except BaseException as error:  # noqa: B036", "    except Exception as error:  # noqa: B036",
           "Ctrl-C (KeyboardInterrupt is no Exception) between write and proof leaves new file, old keys",
           ["tests/unit/test_rotation_interrupted.py::test_ctrl_c_rolls_back_then_stops_the_run"]),
    mutant("rotation: a key file already in place written again", "tasks/keys.py",
           "        if not file_current:\n            _replace_key_file(target, app, content=key_file)",
           "        _replace_key_file(target, app, content=key_file)",
           "rewriting the same bytes makes jwks.json.prev the new file: no way back to the old keys",
           ["tests/unit/test_rotation_interrupted.py::test_a_rotation_stopped_before_its_reload_is_finished_without_a_rewrite"]),
    mutant("rotation: a passing smoke token erases a failed key proof", "tasks/keys.py",
           "        if reason is None and settings.smoke_token_command:\n",
           "        if settings.smoke_token_command:\n",
           "the smoke token as the last word: a key file read as a shared secret passes when the tenant's token "
           "is accepted too (issue 25, 4)",
           ["tests/unit/test_rotation_interrupted.py::test_a_failed_key_proof_is_final_whatever_the_smoke_token_says"]),
    mutant("rotation: a host's rotation not marked before it runs", "tasks/rotation.py",
           '                rotation.outcome = f"{target.name}: the rotation stopped before it reported"\n', "",
           "a rotation that raised stays 'not run': the next host's operation runs it again",
           ["tests/unit/test_rotation_order.py::test_a_rotation_that_raised_is_never_run_again_by_the_next_host"]),
    # --- issue 20: the migrations folder's rules
    mutant("migrations: ordered by file name", "postgrest_stack/migrations.py",
           "return sorted(found.values(), key=lambda m: m.version)", "return sorted(found.values(), key=lambda m: m.name)",
           "sorting the files by name, as a directory listing does: 10000_x.sql then runs before 9999_y.sql",
           [f"{MIGRATIONS}::test_files_are_ordered_by_number_not_by_name"],
           also=(Edit("postgrest_stack/migrations.py",
                      "new = [m for m in sorted(migrations, key=lambda m: m.version) if m.version not in applied_versions]",
                      "new = [m for m in sorted(migrations, key=lambda m: m.name) if m.version not in applied_versions]"),)),
    mutant("migrations: an edited applied file accepted", "postgrest_stack/migrations.py",
           "if migration.sha256 != row.sha256:", "if not row.sha256:",
           "checking the ledger recorded a digest instead of comparing it with the file's: an applied migration "
           "edited afterwards is silently skipped, so databases applied before and after the edit differ",
           [f"{MIGRATIONS}::test_an_applied_file_that_changed_is_refused_with_both_digests"]),
    mutant("migrations: below-highest file accepted", "postgrest_stack/migrations.py",
           "highest = rows[-1]", "highest = rows[0]",
           "the wrong end of the sorted ledger: a file merged late with a lower number than one already applied "
           "runs after it on that database but before it on a fresh one",
           [f"{MIGRATIONS}::test_a_new_file_numbered_below_the_highest_applied_one_is_refused"]),
    mutant("migrations: duplicate numbers accepted", "postgrest_stack/migrations.py",
           "if other is not None:", "if other is not None and other.name == migration.name:",
           "duplicates looked for by file name, which a folder never repeats: of 0007_a.sql and 0007_b.sql one "
           "silently wins and the other is never applied",
           [f"{MIGRATIONS}::test_two_files_with_the_same_number_are_refused_naming_both"]),
    mutant("migrations: no-transaction marker ignored", "postgrest_stack/migrations.py",
           "no_transaction=first_line == NO_TRANSACTION,", "no_transaction=False,",
           "every file run in a transaction: CREATE INDEX CONCURRENTLY then always fails",
           [f"{MIGRATIONS}::test_only_an_exact_first_line_runs_outside_a_transaction[marker]"]),
    mutant("migrations: missing applied file accepted", "postgrest_stack/migrations.py",
           "if migration is None or migration.name != row.name:", "if migration is not None and migration.name != row.name:",
           "an applied migration deleted from the folder goes unnoticed: a fresh database then lacks what the "
           "others have",
           [f"{MIGRATIONS}::test_an_applied_file_missing_from_the_folder_is_refused"]),
    # --- bin/migrate: one lock, the ledger check, transactions, the owner, the reload
    mutant("migrate: no advisory lock", "templates/bin/migrate.j2",
           "SELECT pg_advisory_lock({{ migrate_lock }}) AS locked \\gset\n",
           "",
           "the lock forgotten (or taken per file, after the ledger check): two deploys at once both find a "
           "migration pending and both run it",
           [f"{MIGRATE}::test_two_runs_at_once_never_apply_a_migration_twice"]),
    mutant("migrate: the ledger not checked before a file runs", "templates/bin/migrate.j2",
           "SELECT EXISTS (SELECT FROM {{ ledger_table }} WHERE version = $number) AS done \\\\gset",
           "SELECT false AS done \\\\gset",
           "every file treated as pending: a rerun applies each migration again (an ALTER TABLE ... ADD COLUMN "
           "fails, a data fix runs twice)",
           [f"{MIGRATE}::test_pending_migrations_apply_once_in_numeric_order"]),
    mutant("migrate: the no-transaction marker ignored", "templates/bin/migrate.j2",
           "  [ \"$(head -n 1 \"$stage/migrations/$1\" | sed 's/[[:space:]]*$//')\" = "
           "{{ no_transaction_marker | shell }} ]\n",
           "  false\n",
           "every file wrapped in BEGIN/COMMIT: CREATE INDEX CONCURRENTLY can never be applied",
           [f"{MIGRATE}::test_a_no_transaction_file_runs_outside_one"]),
    mutant("migrate: the marker compared with its trailing white space", "templates/bin/migrate.j2",
           "  [ \"$(head -n 1 \"$stage/migrations/$1\" | sed 's/[[:space:]]*$//')\" = ",
           "  [ \"$(head -n 1 \"$stage/migrations/$1\")\" = ",
           "the controller (migrations.py) strips the first line's trailing white space, the host did not: a "
           "marker followed by a space or a CR (a file saved on Windows) runs in a transaction and fails",
           [f"{MIGRATE}::test_a_no_transaction_file_runs_outside_one"]),
    mutant("migrate: psql goes on after an error", "templates/bin/migrate.j2",
           "\\set ON_ERROR_STOP on\n\\set VERBOSITY terse\n",
           "\\set VERBOSITY terse\n",
           "psql's default: a failing statement is reported and the run goes on, so later migrations run after a "
           "failed one, a failed no-transaction file is recorded as applied, and the script exits 0",
           [f"{MIGRATE}::test_a_failing_migration_rolls_back_whole_and_stops_the_run",
            f"{MIGRATE}::test_a_no_transaction_file_runs_outside_one"]),
    mutant("migrate: no transaction per file", "templates/bin/migrate.j2",
           "    if no_transaction \"$name\"; then\n",
           "    if true; then\n",
           "each file run statement by statement in autocommit: a file failing halfway leaves its first "
           "statements applied, and a rerun of the fixed file fails on them",
           [f"{MIGRATE}::test_a_failing_migration_rolls_back_whole_and_stops_the_run"]),
    mutant("migrate: a file's own COMMIT not noticed", "templates/bin/migrate.j2",
           "SELECT pg_current_xact_id() = :'xact'::xid8 AS intact \\\\gset",
           "SELECT true AS intact \\\\gset",
           "a file with its own BEGIN/COMMIT ends the run's transaction: what follows runs as the superuser "
           "and the row is recorded outside the file's transaction, with no word about it",
           [f"{MIGRATE}::test_a_file_that_ends_its_own_transaction_is_not_recorded"]),
    mutant("migrate: files run as the superuser", "templates/bin/migrate.j2",
           "SET LOCAL ROLE {{ s.db_owner_role }};\n",
           "",
           "SET ROLE forgotten: what migrations create belongs to the superuser, not the owner role",
           [f"{MIGRATE}::test_what_migrations_create_belongs_to_the_owner_role"]),
    mutant("migrate: no-transaction files run as the superuser", "templates/bin/migrate.j2",
           "SET ROLE {{ s.db_owner_role }};\n",
           "",
           "SET ROLE forgotten in the branch outside a transaction only",
           [f"{MIGRATE}::test_a_no_transaction_file_runs_outside_one"]),
    mutant("migrate: PostgREST not told to reload its schema", "templates/bin/migrate.j2",
           "NOTIFY pgrst, 'reload schema';\n",
           "",
           "the NOTIFY forgotten: a new table is not in PostgREST's schema cache (no OpenAPI path, a POST is "
           "refused with 404) until PostgREST restarts",
           [f"{MIGRATE}::test_postgrest_serves_a_migrated_table_with_the_grants_it_gives"]),
    # --- sql/04-migrations.sql: the owner role, the hand-over, the ledger's privileges
    mutant("04: what the project SQL made in the schema stays the superuser's", "templates/sql/04-migrations.sql.j2",
           "    EXECUTE format('ALTER %s %s OWNER TO %I', item.kind, item.name, {{ s.db_owner_role | literal }});\n"
           "  END LOOP;\n  FOR item IN",
           "    NULL;\n  END LOOP;\n  FOR item IN",
           "only the schema handed over: an existing stack's api.todos stays the superuser's, and the first "
           "migration that alters it fails with 'must be owner of table todos'",
           [f"{MIGRATE}::test_the_schema_and_what_the_project_sql_made_there_belong_to_the_owner"]),
    mutant("04: the external admin not made a member of the owner role", "templates/sql/04-migrations.sql.j2",
           "    EXECUTE format('GRANT %I TO %I', {{ s.db_owner_role | literal }}, current_user);\n",
           "    NULL;\n",
           "fine as a superuser, but a hosted database's CREATEROLE admin may neither hand the schema to the "
           "owner nor SET ROLE to it: the project SQL fails there",
           [f"{MIGRATE}::test_a_managed_database_admin_without_superuser_applies_them"]),
    mutant("04: the ledger readable by every role", "templates/sql/04-migrations.sql.j2",
           "REVOKE ALL ON {{ ledger_table }} FROM PUBLIC;\n",
           "GRANT USAGE ON SCHEMA {{ ledger_schema }} TO PUBLIC;\nGRANT SELECT ON {{ ledger_table }} TO PUBLIC;\n",
           "a grant copied from a table meant to be read: PostgREST's roles and the owner role (so any "
           "migration) read the ledger",
           [f"{MIGRATE}::test_what_migrations_create_belongs_to_the_owner_role"]),
    # --- issue 20: the deploy's side of the migrations
    mutant("plan: migrations never run once the ledger exists", "postgrest_stack/compare.py",
           "        if state.ledger_digest != migrations.digest_of_files(",
           "        if state.ledger_digest is None and migrations.digest_of_files(",
           "'the ledger is there, so they were applied': a new migration is never applied",
           ["tests/unit/test_plan_migrations.py::test_a_ledger_behind_the_folder_migrates_after_the_files"]),
    mutant("plan: files the folder dropped stay on the host", "postgrest_stack/layout.py",
           'APPLIED_FOLDERS = (f"{SQL_DIR}/", f"{MIGRATIONS_DIR}/")', 'APPLIED_FOLDERS = (f"{SQL_DIR}/",)',
           "a pending migration deleted from the folder would still be applied from the host's copy",
           ["tests/unit/test_plan_migrations.py::test_a_file_the_folder_dropped_is_removed_from_the_host"]),
    mutant("plan: the old demo SQL stays on the host", "postgrest_stack/layout.py",
           'APPLIED_FOLDERS = (f"{SQL_DIR}/", f"{MIGRATIONS_DIR}/")', 'APPLIED_FOLDERS = (f"{MIGRATIONS_DIR}/",)',
           "sql/02-api.sql of a release before migrations keeps running: a todos table the operator dropped "
           "comes back on every SQL change",
           ["tests/unit/test_plan_migrations.py::"
            "test_the_demo_sql_of_a_release_before_migrations_is_removed_from_the_host"]),
    mutant("migrate: the example run over an existing stack's todos", "templates/bin/migrate.j2",
           "    if [ \"$name\" = {{ adopted_name | shell }} ]; then", "    if false; then",
           "no adoption: CREATE TABLE todos fails on a stack deployed before migrations, and every deploy stops",
           [f"{MIGRATE}::test_a_stack_deployed_before_migrations_adopts_the_example_without_running_it"]),
    mutant("migrate: the settings' names not given to migrations", "templates/bin/migrate.j2",
           "\\set anon_role {{ s.db_anon_role }}\n", "\\set anon_role api_anon\n",
           "the example's grants go to the default role names, not the renamed ones",
           [f"{MIGRATE}::test_a_fresh_database_runs_the_example_with_the_role_names_of_its_settings"]),
    mutant("render: migrations not shipped", "postgrest_stack/render.py",
           "            files[name] = file(name, migration.content)\n",
           "            pass\n",
           "the folder read but never put on the host: bin/migrate finds nothing to apply",
           ["tests/unit/test_plan_migrations.py::test_the_folder_is_shipped_where_the_sql_is_applied"]),
    mutant("status: a ledger behind the folder not reported", "postgrest_stack/status.py",
           "    if state.ledger_digest == migrations.folder_digest(folder):",
           "    if state.ledger_digest is not None:",
           "status comparing files only: migrations never applied show ok",
           ["tests/unit/test_plan_migrations.py::test_status_reports_a_ledger_behind_the_folder"]),
    # --- scripts/lint_shell.py: the shell half of `make lint`
    mutant("lint shell: a finding does not fail the lint", "scripts/lint_shell.py",
           "    return 1 if findings else 0\n", "    return 0\n",
           "findings printed but the exit status 0: `make lint` (and so `make test`) passes whatever shellcheck says",
           [f"{LINT_SHELL}::test_a_script_with_a_finding_is_refused_by_file_line_and_code"]),
    mutant("lint shell: only warnings and errors count", "scripts/lint_shell.py",
           '"--format=json1"', '"--format=json1", "--severity=warning"',
           "a severity filter added to quiet the output: info and style findings (unquoted expansions, SC2086) pass",
           [f"{LINT_SHELL}::test_a_style_level_finding_counts_too"]),
    mutant("lint shell: a tls_mode never rendered", "scripts/lint_shell.py",
           '        "acme": {"public_hostname": HOST, "acme_email": "ops@example.com"},\n', "",
           "a variant dropped from the matrix: the bin/ scripts of that mode are never checked",
           [f"{LINT_SHELL}::test_every_line_tls_mode_and_role_is_rendered"]),
    mutant("lint shell: variants counted per distinct script", "scripts/lint_shell.py",
           "shown = sum(len(hit.labels) for _comment, hit in hits)", "shown = len(hits)",
           "the report says how many distinct scripts, not how many variants, carry the finding",
           [f"{LINT_SHELL}::test_a_finding_in_a_rendered_script_names_its_template_and_variants"]),
    mutant("lint shell: a misspelt --skip accepted", "scripts/lint_shell.py",
           "    if skip - templates:\n", "    if False:\n",
           "--skip heath-gate skips nothing and says nothing",
           [f"{LINT_SHELL}::test_skipping_a_template_that_does_not_exist_is_refused"]),
    mutant("lint shell: sourced shell without a #! line not linted", "scripts/lint_shell.py",
           '        if path.suffix == ".sh" or _SHELL_SHEBANG.match(first):\n',
           '        if _SHELL_SHEBANG.match(first):\n',
           "images/lib.sh (sourced, no #! line) left out of the lint",
           [f"{LINT_SHELL}::test_shipped_files_are_the_shell_of_scripts_and_images"]),
    # --- the command line outside the core (stackctl/)
    mutant("CLI: gevent patch gated on the module's own __name__", "stackctl/main.py",
           'if _started_as_program() and (_WORDS[:1] in (["status"], ["logs"])',
           'if __name__ == "__main__" and (_WORDS[:1] in (["status"], ["logs"])',
           "the check as it was in postgrest_stack/__main__.py: stackctl.main is never __main__, so status "
           "would patch only when pyinfra_cli is imported, after the core imported ssl (TLS: RecursionError)",
           ["tests/unit/test_cli.py::test_status_and_migration_list_patch_the_stdlib_for_gevent_before_ssl_is_imported"]),
    mutant("CLI: python -m stackctl drops the exit status", "stackctl/__main__.py",
           "raise SystemExit(main())", "main()",
           "the second launcher written as a call: every refusal and drift would exit 0",
           ["tests/unit/test_cli.py::test_both_entry_points_are_the_same_program"]),
    mutant("CLI: python -m postgrest_stack drops the exit status", "postgrest_stack/__main__.py",
           "raise SystemExit(main())", "main()",
           "the launcher written as a call: status drift and every error would exit 0 for cron and CI",
           ["tests/unit/test_cli.py::test_an_inventory_that_does_not_load_is_one_line_for_every_command"]),
    mutant("core: a module imports pyinfra", "postgrest_stack/secrets.py",
           "import secrets as random_source\n",
           "import secrets as random_source\n\nfrom pyinfra import logger\n",
           "pyinfra's logger for a warning about generated secrets: the pure core would load pyinfra",
           ["tests/unit/test_core_imports.py::test_no_core_module_imports_tasks_stackctl_or_pyinfra",
            "tests/unit/test_core_imports.py::test_importing_every_core_module_loads_none_of_them"]),
    mutant("core: a lazy import of pyinfra in a function", "postgrest_stack/secrets.py",
           "    environ = os.environ if environ is None else environ\n",
           "    from pyinfra import host\n\n    environ = os.environ if environ is None else environ\n",
           "the current host's data read inside load(): invisible at import time, the core would need pyinfra",
           ["tests/unit/test_core_imports.py::test_no_core_module_imports_tasks_stackctl_or_pyinfra"]),
    mutant("core: a module imports the command line", "postgrest_stack/secrets.py",
           "from .atomic_write import write_atomic\n",
           "from .atomic_write import write_atomic\nfrom tasks.host_data import parse_data_args  # noqa: F401\n",
           "a helper of the command line reused in the core: postgrest_stack would depend on stackctl and pyinfra",
           ["tests/unit/test_core_imports.py::test_no_core_module_imports_tasks_stackctl_or_pyinfra"]),
    # --- rewritten: the file only (postgrest_stack/settings.py -> settings/checks.py, settings/resolution.py)
    mutant("settings: acme_email may start with '#'", "postgrest_stack/settings/checks.py",
           '        if value.startswith("#"):  # valid mail,', '        if False:  # valid mail,',
           "'#' is a legal character of a mail address, but the Caddyfile reads `email #...` as a comment",
           ["tests/unit/test_edge.py::test_acme_email_starting_with_a_hash_is_refused"]),
    mutant("app_dir: system directories accepted", "postgrest_stack/settings/checks.py",
           "        reason = _system_directory(path)\n", "        reason = None\n",
           "the old rule (absolute, not /): /etc, /srv, /tmp, /var/lib or a user's home pass, and the deploy then "
           "runs chown 0:0 and chmod 700 on it",
           ["tests/unit/test_app_dir.py::test_a_system_or_shared_directory_is_refused",
            "tests/unit/test_app_dir.py::test_a_place_inside_a_system_tree_or_open_to_every_user_is_refused"]),
    mutant("app_dir: '..' accepted", "postgrest_stack/settings/checks.py",
           '        if any(part in ("", ".", "..") for part in path.split("/")[1:]):',
           '        if any(part == "" for part in path.split("/")[1:]):',
           "only '//' refused: /opt/postgrest/../../etc passes the system-directory check as text and is /etc",
           ["tests/unit/test_app_dir.py::test_a_path_that_is_not_normalised_is_refused"]),
    mutant("edge: postgrest_bind refused only for 0.0.0.0", "postgrest_stack/settings/resolution.py",
           "    if settings.runs_api and not ipaddress.ip_address(settings.postgrest_bind).is_loopback:",
           '    if settings.runs_api and settings.postgrest_bind == "0.0.0.0":',
           "refusing 'all interfaces' only: a private address such as 10.0.0.5 publishes plain HTTP beside the edge",
           ["tests/unit/test_edge.py::test_with_the_edge_postgrest_bind_other_than_loopback_is_refused"]),
    mutant("port check: admin port on postgrest_bind", "postgrest_stack/settings/resolution.py",
           '        published.append(("postgrest_admin_port", "127.0.0.1", settings.postgrest_admin_port))',
           '        published.append(("postgrest_admin_port", settings.postgrest_bind, settings.postgrest_admin_port))',
           "the clash check compares another address than compose publishes: a loopback db_port equal to the admin "
           "port passes and compose up fails on the host",
           ["tests/unit/test_published_addresses.py::test_the_port_clash_check_knows_the_admin_server_is_on_loopback"]),
    # --- new: the written-out Settings class and its derived profile (issue 24, 3)
    mutant("Settings: a field's type edited on the class only", "postgrest_stack/settings/declared.py",
           "    db_port: int\n", "    db_port: str\n",
           "the class and the declaration are two texts now: a type changed on one side only, and type checkers "
           "believe the class while resolve() builds what the declaration says",
           ["tests/unit/test_settings_declaration.py::test_the_written_out_settings_class_follows_the_declaration"]),
    mutant("Settings: a default of its own on the class", "postgrest_stack/settings/declared.py",
           "    health_timeout: int\n", "    health_timeout: int = 120\n",
           "a default added on the class 'for convenience': a second copy of SETTINGS' default that can drift "
           "from group_data/all.py and docs/settings.md",
           ["tests/unit/test_settings_declaration.py::test_the_written_out_settings_class_follows_the_declaration"]),
    mutant("Settings.profile of the tested release", "postgrest_stack/settings/declared.py",
           "        return versions.profile(self.postgrest_version)\n",
           "        return versions.profile(versions.TESTED_RELEASE)\n",
           "the profile of the release the tests run: every host renders 12.0.2's postgrest.conf, healthcheck and "
           "gate whatever postgrest_image says, and 16.x's refusals (PostgreSQL 13, information_schema) pass",
           ["tests/unit/test_settings_package.py::test_the_profile_is_the_hosts_postgrest_release",
            "tests/unit/test_settings_values.py::test_setting_value"]),
    mutant("resolve() returns another Settings than the one it checked", "postgrest_stack/settings/resolution.py",
           "    return _resolved(data, origin, runner_keys)[1]\n",
           "    values = _resolved(data, origin, runner_keys)[0]\n"
           "    return Settings(**{name: values[name] for name in FIELD_NAMES})\n",
           "the copy as before the split: the profile is derived again on the copy, and the Settings returned is "
           "not the one its cross-checks saw",
           ["tests/unit/test_settings_package.py::test_the_profile_is_derived_once_at_resolve_time"]),

    # --- rewritten: the /ready branch moved to templates/shell/ready.sh.j2 (replaces the entry
    # of the same name, whose text is no longer in templates/bin/health-gate.j2)
    mutant("health gate: any /ready answer is ready", "templates/shell/ready.sh.j2",
           '  [ "$(ready_code)" = 200 ]', '  [ "$(ready_code)" != 000 ]',
           "'it answers, so it is up': a 503 passes", [GATE]),

    # --- new: the readiness partial (issue 24.6)
    mutant("reload: waits on the container's health, not postgrest --ready", "templates/bin/reload-postgrest.j2",
           '{{ ready.functions("exec", s.postgrest_admin_port,',
           '{{ ready.functions("health", s.postgrest_admin_port,',
           "the gate's wait copied into the reload: on 14+ the health lags a reload by a healthcheck interval, and "
           "the reload signals (or reports ready) from a stale answer",
           ["tests/unit/test_host_scripts.py::test_the_reload_makes_postgrest_reread_its_config_and_keys"]),
    mutant("probe: no PostgREST container reads as not ready", "templates/shell/ready.sh.j2",
           "  if ready; then echo 200; elif [ -n \"$id\" ]; then echo 503; fi",
           "  if ready; then echo 200; else echo 503; fi",
           "'not ready' for 'nothing to ask': status shows 503 for a host whose PostgREST is not there at all",
           ["tests/unit/test_version_scripts.py::test_probe_ready_line_without_a_postgrest_container_is_left_out"]),

    # --- new: the lighter probe (issue 24.9)
    mutant("probe: a keyed file digested plainly too", "templates/probe.sh.j2",
           "-type f{% for path in secret_files %} ! -path {{ (\"./\" ~ path)|shell }}{% endfor %} -exec",
           "-type f -exec",
           "the keyed files not left out of the one sha256sum: -vvv prints a fast hash of each password file",
           ["tests/unit/test_probe_script.py::test_secret_files_never_show_a_plain_digest"]),
    mutant("probe: a digest program per file", "templates/probe.sh.j2",
           "-exec sha256sum {} + |", "-exec sha256sum {} \\; |",
           "find's -exec with ';' instead of '+': one sha256sum per file again, the cost this change removed",
           ["tests/unit/test_probe_script.py::test_one_digest_program_for_all_files"]),
    mutant("probe: a name cut at its first space", "templates/probe.sh.j2",
           "\"${line#*  ./}\"", "\"${line##* }\"",
           "the name taken as the last word of sha256sum's line: a migration named with a space is never found, "
           "so it is rewritten on every run",
           ["tests/unit/test_probe_script.py::test_odd_file_names_are_digested_each_under_its_own_name"]),
    mutant("probe: sha256sum's escaped names read as printed", "postgrest_stack/probe.py",
           "digest, relative = digest[1:], _unescape(relative)", "digest = digest[1:]",
           "a name with a backslash keeps sha256sum's doubled one: that file never matches and is rewritten every run",
           ["tests/unit/test_probe_outputs.py::test_recorded_output_parses_to_its_state",
            "tests/unit/test_probe_script.py::test_odd_file_names_are_digested_each_under_its_own_name"]),
    mutant("probe: a symlinked keyed file digested", "templates/probe.sh.j2",
           'if [ -f "$f" ] && [ ! -L "$f" ] && digest=', 'if [ -f "$f" ] && digest=',
           "a keyed file that is a link (to anywhere on the host) reported by its target's keyed digest: the deploy "
           "takes it as current and never replaces the link",
           ["tests/unit/test_probe_script.py::test_a_symlink_is_no_file_to_digest"]),
    mutant("secrets file: group-readable accepted", "postgrest_stack/secrets.py",
       "    if mode & 0o077:", "    if mode & 0o007:",
       "only 'world-readable' checked: a 0640 file in a shared group hands the passwords to the group",
       [f"{SECRETS_TESTS}::test_file_open_to_group_or_others_is_refused_with_the_chmod"]),
    mutant("secrets: $ in the alphabet", "postgrest_stack/secrets.py",
       """ALPHABET = frozenset(chr(c) for c in range(0x21, 0x7F)) - set("$'\\"")""",
       """ALPHABET = frozenset(chr(c) for c in range(0x21, 0x7F)) - set("'\\"")""",
       "'every generator symbol' taken literally: Compose v2 expands $NAME in .env, PostgREST logs in with "
       "another password than the database holds",
       [f"{SECRETS_TESTS}::test_refused_character_is_named",
        f"{SECRETS_TESTS}::test_rendered_env_gives_compose_the_password_as_is"]),
    mutant("secrets: a bare password line echoed as an unknown key", "postgrest_stack/secrets.py",
       'return f"a key that is no secret variable (not shown: it may be a value; known: {\', \'.join(known)})"',
       'return f"unknown key \'{key}\' (known: {\', \'.join(known)})"',
       "the helpful message: a password on a line of its own (base64 ends in '=') is printed",
       [f"{SECRETS_TESTS}::test_a_bare_password_line_is_refused_without_showing_it"]),
    mutant("secrets file: a key given twice, the last wins", "postgrest_stack/secrets.py",
       "        if binding.key in seen:", "        if False:",
       "dotenv's own rule kept: an old and a new password in one file, the one used is a guess",
       [f"{SECRETS_TESTS}::test_unreadable_lines_are_refused_with_their_number"]),
    mutant("secrets: the file or command overrides the environment", "postgrest_stack/secrets.py",
       "        if name not in found and other.get(variable):", "        if other.get(variable):",
       "sources merged the other way round: a CI job's override is silently ignored",
       [f"{SECRETS_TESTS}::test_environment_wins_over_the_command_and_the_command_runs_once",
        "tests/unit/test_settings.py::test_secrets_from_file_and_environment_wins"]),
    mutant("secrets_command: its standard error reaches the terminal", "postgrest_stack/secrets.py",
       "stdout=subprocess.PIPE, stderr=subprocess.PIPE)", "stdout=subprocess.PIPE)",
       "stderr left to the run 'for debugging': a vault's error quoting a token lands in CI logs",
       [f"{SECRETS_TESTS}::test_failing_command_is_one_line_without_its_output"]),
    mutant("secrets_command: no timeout", "postgrest_stack/secrets.py",
       "        output, _ = process.communicate(timeout=COMMAND_TIMEOUT)", "        output, _ = process.communicate()",
       "a manager waiting for an unlock nobody gives hangs the deploy (and the 15-minute rotation timer) forever",
       [f"{SECRETS_TESTS}::test_command_that_hangs_is_killed_and_refused"]),
    mutant("secrets_command: run for every host", "postgrest_stack/secrets.py",
       "    if command not in _command_results:", "    if True:",
       "no cache: deploy.py loads the secrets per host, so a fleet of 20 asks the vault (and the operator's "
       "unlock) 20 times",
       [f"{SECRETS_TESTS}::test_environment_wins_over_the_command_and_the_command_runs_once",
        f"{SECRETS_TESTS}::test_failure_is_kept_for_the_run_so_the_command_runs_once"]),
    mutant("secrets_command: a stale secrets_file beside it accepted", "postgrest_stack/secrets.py",
       "    if path and path.exists():", "    if False:",
       "the file silently ignored (or read) beside the manager: two sources that may disagree",
       [f"{SECRETS_TESTS}::test_command_and_an_existing_secrets_file_are_refused"]),
    mutant("secrets_command: whitespace output taken as output", "postgrest_stack/secrets.py",
       "    if not text.strip():", "    if not text:",
       "a manager printing a blank line is read as a file with no secrets: 'missing secret' blames the wrong thing",
       [f"{SECRETS_TESTS}::test_failing_command_is_one_line_without_its_output"]),
    mutant("run lock not held past the probe", "postgrest_stack/runs.py",
           'while kill -0 "$1" 2>/dev/null; do sleep 0.2; done', ':',
           "the holder exits at once: the lock is free as soon as the probe's command ends, two runs interleave",
           ["tests/unit/test_runs.py::test_second_run_is_refused_naming_the_first_then_takes_it_once_the_first_ended"]),
    mutant("--limit matching no host goes on", "tasks/limit_guard.py",
           "if initial_limit is not None and not list(initial_limit):", "if False:",
           "pyinfra's own behaviour: a warning, no host, exit 0 (a misspelt canary passes)",
           ["tests/unit/test_limit_guard.py"]),
    mutant("audit.log never rotated at its size", "postgrest_stack/runs.py",
           '-ge {AUDIT_MAX} ]', '-gt {AUDIT_MAX} ]',
           "a log of exactly AUDIT_MAX bytes grows on (off by one: the bound is not kept)",
           ["tests/unit/test_runs.py::test_audit_log_rotates_past_its_size"]),
    mutant("--data values in the audit and lock lines", "postgrest_stack/runs.py",
           "words.append(f\"--data {given.partition('=')[0]}=…\")", "words.append(f\"--data {given}\")",
           "a secret given with --data would be written to every host's audit.log and lock file",
           ["tests/unit/test_runs.py::test_command_line_leaves_out_data_values_and_passwords"]),
    mutant("audit.log readable by all", "postgrest_stack/runs.py",
           'chmod 600 "$log', 'chmod 644 "$log',
           "who ran what, from where, readable by every user of the host",
           ["tests/unit/test_runs.py::test_second_run_is_refused_naming_the_first_then_takes_it_once_the_first_ended"]),
    mutant("compose: a service without the logging limits", "templates/compose.yaml.j2",
       "    restart: always\n{{ logging_block.strip(\"\\n\") }}\n    volumes:\n      # The directory, not the Caddyfile",
       "    restart: always\n    volumes:\n      # The directory, not the Caddyfile",
       "the block forgotten on a service added later (here the edge): its log grows until the disk is full",
       [f"{COMPOSE_LOGGING}::test_every_service_logs_to_json_file_with_the_settings_rotation"]),
    mutant("compose: max-file from the wrong setting", "templates/compose.yaml.j2",
       'max-file: "{{ s.log_max_files }}"', 'max-file: "5"',
       "the default written in instead of the setting: log_max_files silently ignored",
       [f"{COMPOSE_LOGGING}::test_every_service_logs_to_json_file_with_the_settings_rotation"]),
    mutant("postgrest.conf: log-level fixed again", "templates/postgrest.conf.j2",
       "log-level = {{ s.postgrest_log_level | conf }}", 'log-level = "error"',
       "the setting declared but not rendered: no 401 is ever logged whatever the operator sets",
       ["tests/contract/test_log_level.py::test_a_token_refused_for_its_signature_is_logged_from_warn_on",
        f"{COMPOSE_LOGGING}::test_postgrest_log_level_is_rendered"]),
    mutant("compose: the level not in PostgREST's environment", "templates/compose.yaml.j2",
       "      PGRST_LOG_LEVEL: {{ s.postgrest_log_level | compose }}\n", "",
       "'postgrest.conf has it and is reloaded': a changed level then never takes effect (a reload does not "
       "apply log-level) until something else recreates the container",
       ["tests/contract/test_log_level.py::test_a_token_refused_for_its_signature_is_logged_from_warn_on",
        f"{COMPOSE_LOGGING}::test_postgrest_log_level_is_rendered"]),
    mutant("settings: log_max_size takes any text", "postgrest_stack/settings/declared.py",
       '_LOG_SIZE = re.compile(r"^[1-9][0-9]{0,5}[kmg]$")', '_LOG_SIZE = re.compile(r"^\\S+$")',
       "'Docker will check it': a '10mb' then stops compose at the next container start",
       ["tests/unit/test_settings_values.py::test_setting_value"]),
    mutant("logs: sudo ignored", "tasks/fleet_logs.py",
       "if key in CONNECTOR_ARGUMENT_KEYS and key not in _NOT_IN_COMMAND}",
       "if key in CONNECTOR_ARGUMENT_KEYS and key not in _NOT_IN_COMMAND and not key.startswith('_sudo')}",
       "the command run as the SSH user: a deploy user without docker access reads nothing",
       [f"{LOGS_UNIT}::test_sudo_wraps_the_command_where_host_data_sets_it_as_pyinfra_does"]),
    mutant("logs: --follow not passed on", "postgrest_stack/logs.py",
       '        parts.append("-f")\n', "        pass\n",
       "the flag parsed but not given to compose: --follow prints once and ends",
       [f"{LOGS_UNIT}::test_the_host_runs_its_compose_logs_with_the_arguments_quoted"]),
    mutant("logs: arguments not quoted", "postgrest_stack/logs.py",
       "    run = f\"{compose} {' '.join(shlex.quote(part) for part in parts)}\"",
       "    run = f\"{compose} {' '.join(parts)}\"",
       "'the checks only let safe text through': a later, looser check (or a Request built elsewhere) then "
       "reaches the host's shell",
       [f"{LOGS_UNIT}::test_every_argument_is_quoted_even_past_the_checks"]),
    mutant("logs: a host without the stack runs compose anyway", "postgrest_stack/logs.py",
       'check = f"if [ ! -x {shlex.quote(script)} ]; then echo {missing} >&2; exit {NO_STACK}; fi; "',
       'check = "true; "',
       "the test dropped: the host's line is sh's 'not found', not which host lacks the stack",
       [f"{LOGS_UNIT}::test_a_host_without_the_stack_says_so_in_one_line_and_exits_3"]),
    mutant("logs: --since not checked", "postgrest_stack/logs.py",
       "    if since is not None and not (_DURATION.match(since)",
       "    if False and not (_DURATION.match(since)",
       "'compose will refuse it': the refusal then comes once per host after connecting, not one line before",
       [f"{LOGS_UNIT}::test_a_bad_argument_is_one_line_naming_it",
        f"{LOGS_UNIT}::test_a_refused_argument_is_one_line_exit_2_and_no_host_is_connected"]),
    mutant("logs: connect_all instead of each host alone", "tasks/fleet_logs.py",
       "            reason = greenlet.get()\n",
       "            reason = greenlet.get()\n            if reason is not None and 'key' in reason:\n"
       "                raise RuntimeError(reason)\n",
       "one host's missing key file stops every host's connection (as connect_all's greenlet.get() does)",
       [f"{LOGS_UNIT}::test_each_unreachable_host_is_one_line_and_exit_1"]),
    mutant("logs: --follow leaves compose running after Ctrl-C", "postgrest_stack/logs.py",
       "    if not request.follow:\n        return check + \"exec \" + run\n",
       "    if True:\n        return check + \"exec \" + run\n",
       "the plain exec for --follow too: with no terminal, the host's compose logs -f outlives the session "
       "until its next line fails to write",
       [f"{LOGS_UNIT}::test_follow_stops_compose_when_the_session_s_stdin_closes"]),
    # --- the prod example serves its public_api_url (issue 23, 8)
    mutant("prod example: both api hosts under one ACME name", "inventories/prod.py",
           '"public_hostname": "api-2.prod.example.com"', '"public_hostname": "api-1.prod.example.com"',
           "one shared public name for two hosts each asking Let's Encrypt for it: the HTTP challenge lands on "
           "either host, so issuance fails on one of them",
           ["tests/unit/test_inventories.py::test_the_prod_example_serves_its_public_api_url_through_the_edge"]),
    mutant("prod example: api hosts without the edge", "inventories/prod.py",
           '("api-1.prod.example.com", {"ssh_user": "deploy", "tls_mode": "acme",',
           '("api-1.prod.example.com", {"ssh_user": "deploy", "tls_mode": "off",',
           "the example as before: PostgREST on loopback with no edge, while public_api_url names a public "
           "https origin nobody serves",
           ["tests/unit/test_inventories.py"]),
    # --- the settings table lives in docs/settings.md (issue 23, 8)
    mutant("settings-doc checks the README again", "postgrest_stack/settings_doc.py",
           'SETTINGS_MD = PROJECT_ROOT / "docs" / "settings.md"', 'SETTINGS_MD = PROJECT_ROOT / "README.md"',
           "the generator's target left on the old page: --check and --write look for the table where it no "
           "longer is",
           ["tests/unit/test_settings_declaration.py::test_settings_doc_check_passes_and_detects_drift",
            "tests/unit/test_settings_declaration.py::test_settings_doc_command_prints_the_settings_table_and_checks_it"]),
    mutant("postgrest_version: a number is refused again", "postgrest_stack/settings/checks.py",
       "        if isinstance(value, (int, float)) and not isinstance(value, bool):\n",
       "        if False:\n",
       "pyinfra's --data makes 16.2 a float: 'must be a string, got 16.2'",
       [f"{VALUES}::test_setting_value"]),
    mutant("postgrest_version: a bool taken as a version", "postgrest_stack/settings/checks.py",
       "        if isinstance(value, (int, float)) and not isinstance(value, bool):\n",
       "        if isinstance(value, (int, float)):\n",
       "True is an int: --data postgrest_version=true would read as 'True' (refused, but not as a string)",
       [f"{VALUES}::test_setting_value"]),
    mutant("versions: 16.2.0 gets the generic 'supported' list", "postgrest_stack/versions.py",
       "    if len(numbers) == 3 and numbers[0] >= 14 and numbers[2] == 0:\n",
       "    if False:\n",
       "'no configuration for 16.2.0 (supported: ... 16.x)' reads as a contradiction",
       [f"{VALUES}::test_setting_value"]),
    mutant("jwks: a byte order mark read as bad JSON", "postgrest_stack/jwks.py",
       '    if raw.startswith(b"\\xef\\xbb\\xbf"):\n', "    if False:\n",
       "an editor's BOM is called 'not valid JSON ...; truncated?'",
       ["tests/unit/test_jwks_guard.py::test_bad_key_sets_refused_with_their_own_message"]),
    mutant("render --out: OSError not caught", "stackctl/main.py",
       "        render.write_tree(files, Path(args.out))\n    except OSError as error:",
       "        render.write_tree(files, Path(args.out))\n    except RuntimeError as error:",
       "render --out /proc/nope prints a traceback",
       [f"{REFUSALS}::test_render_to_an_unwritable_out_is_one_line"]),
    mutant("jwks fetch --out: OSError not caught", "stackctl/main.py",
       "        result = jwks.fetch_to_file(args.url, Path(args.out))\n    except OSError as error:",
       "        result = jwks.fetch_to_file(args.url, Path(args.out))\n    except RuntimeError as error:",
       "jwks fetch --out to an unwritable place prints a traceback",
       [f"{REFUSALS}::test_jwks_fetch_to_an_unwritable_out_is_one_line"]),
    mutant("token: --ttl 0 accepted", "stackctl/main.py", "    if not seconds:\n", "    if not match:\n",
       "a token expired when it is minted",
       [f"{REFUSALS}::test_token_refuses_bad_arguments_before_creating_the_dev_key"]),
    mutant("token: --role not checked", "stackctl/main.py",
       "    role, ttl_seconds = _check_role(args.role), _parse_ttl(args.ttl)",
       "    role, ttl_seconds = args.role, _parse_ttl(args.ttl)",
       "'bad role!' minted into a token PostgREST then refuses at SET ROLE",
       [f"{REFUSALS}::test_token_refuses_bad_arguments_before_creating_the_dev_key"]),
    mutant("token: arguments checked after the dev key is made", "stackctl/main.py",
       "    key = signing_keys.ensure_dev_key(project_path(data[\"dev_signing_key\"]), resolved.jwks_url)\n",
       "    key = signing_keys.ensure_dev_key(project_path(data[\"dev_signing_key\"]), resolved.jwks_url)\n"
       "    role, ttl_seconds = _check_role(args.role), _parse_ttl(args.ttl)\n",
       "with the early check also removed (also=): --ttl 5y creates the key, then refuses",
       [f"{REFUSALS}::test_token_refuses_bad_arguments_before_creating_the_dev_key"],
       also=(Edit("stackctl/main.py", "    role, ttl_seconds = _check_role(args.role), _parse_ttl(args.ttl)\n    host = one_host(",
                  "    host = one_host("),)),
    mutant("unknown keys: a group_data helper function is a setting", "postgrest_stack/settings/resolution.py",
       "if key not in known and not _is_code(data[key])]", "if key not in known]",
       "`def helper()` in group_data/prod.py refused as an unknown setting",
       [f"{UNKNOWN_KEYS}::test_helpers_defined_in_a_group_data_file_are_not_settings"]),
    mutant("pyinfra keys: values not type-checked", "postgrest_stack/settings/resolution.py",
       "    _check_runner_values(data, origin, runner_keys)\n", "",
       "_sudo=maybe accepted (a str is truthy: sudo on), ssh_port=abc fails mid-run",
       [f"{UNKNOWN_KEYS}::test_pyinfra_keys_with_a_value_of_the_wrong_type_are_refused"]),
    mutant("pyinfra keys: a bool passes as a whole number", "postgrest_stack/settings/resolution.py",
       "and not isinstance(value, bool))", ")",
       "ssh_port=true accepted as port 1",
       [f"{UNKNOWN_KEYS}::test_pyinfra_keys_with_a_value_of_the_wrong_type_are_refused"]),
    mutant("db_host: any address accepted", "tasks/controller.py",
       "        if resolved.db_host in binds:\n", "        if True:\n",
       "an api host's db_host that no db host binds is deployed, and its gate times out",
       [f"{DB_ADDRESS}::test_a_db_host_that_is_not_the_db_hosts_bind_is_one_line_naming_both"]),
    mutant("db_host: loopback bind suggested as the fix", "tasks/controller.py",
       "        if not reachable:", "        if False:",
       "'set db_host to 127.0.0.1' on an api host: advice that cannot work",
       [f"{DB_ADDRESS}::test_a_db_host_left_at_loopback_is_named"]),
    mutant("status: unknown files compared against their stand-in", "postgrest_stack/status.py",
       "        if _depends_on_unknown(difference, files, unknown):\n            continue\n", "",
       "an ops box without the passwords reports .env as drift on every host (exit 1)",
       [f"{NO_SECRETS}::test_an_api_host_without_any_password_is_ok_with_its_skipped_checks"]),
    mutant("status: missing secret file hidden", "postgrest_stack/status.py",
       'return difference.subject in unknown and difference.code == "content"',
       "return difference.subject in unknown",
       "a .env deleted (or chmod 644) on the host is not reported when the secrets are not here",
       [f"{NO_SECRETS}::test_without_secrets_an_api_hosts_other_drift_is_still_found"]),
    mutant("status: skipped checks not said", "postgrest_stack/status.py",
       "    report.skipped = _skipped(files, unknown, state)\n", "",
       "an ok that compared less reads as a full one",
       [f"{NO_SECRETS}::test_an_api_host_without_any_password_is_ok_with_its_skipped_checks"]),
    mutant("status: only files named secret are unknown", "tasks/fleet_status.py",
       "if rendered.secret or other[name].content != rendered.content}",
       "if rendered.secret}",
       "bin/apply-sql (it holds the SQL's digest, roles included) compared against the stand-in: drift on a db host",
       [f"{NO_SECRETS}::test_a_db_host_without_the_passwords_skips_its_secret_checks_one_line_each"]),
    mutant("-C without changing into the folder", "postgrest_stack/project.py",
       "        os.chdir(folder)\n        postgrest_stack.PROJECT_ROOT = Path.cwd()\n",
       "        postgrest_stack.PROJECT_ROOT = folder.resolve()\n",
       "-C taken as 'where group_data is' only: `-C ~/deploy settings inventories/prod.py` then looks for the "
       "inventory in the operator's current directory",
       [f"{PROJECT_DIR}::test_minus_c_changes_into_the_project",
        f"{INSTALLED}::test_minus_c_reads_the_project_and_its_relative_paths"]),
    mutant("project: the inventory's folder only, no walk up", "postgrest_stack/project.py",
       "            for candidate in (folder, *folder.parents):", "            for candidate in (folder,):",
       "the brief's 'directory of the inventory file' taken literally: inventories/prod.py then finds no "
       "group_data/ and renders with the defaults",
       [f"{PROJECT_DIR}::test_else_the_project_above_the_inventory_file",
        f"{INSTALLED}::test_render_finds_the_project_from_the_inventory_path_and_matches_the_checkout"]),
    mutant("project: discovery also in a checkout", "postgrest_stack/project.py",
       "    elif postgrest_stack.INSTALLED:\n", "    else:\n",
       "one rule for both: a checkout's command started in another project's folder then reads that project "
       "with the checkout's code, and in-process callers lose a PROJECT_ROOT they set",
       [f"{PROJECT_DIR}::test_without_minus_c_a_checkout_keeps_its_own_folder"]),
    mutant("templates looked up beside the package only", "postgrest_stack/__init__.py",
       'TEMPLATES = _PACKAGE / "templates" if INSTALLED else _PACKAGE.parent / "templates"',
       'TEMPLATES = _PACKAGE.parent / "templates"',
       "the checkout's layout assumed: installed, templates/ is looked up in site-packages' parent",
       [f"{INSTALLED}::test_render_finds_the_project_from_the_inventory_path_and_matches_the_checkout"]),
    mutant("inventory read against the current directory", "tasks/host_data.py",
       "        return make_inventory_from_files(inventory_file, override_data, cwd=str(project_root()))",
       "        return make_inventory_from_files(inventory_file, override_data, cwd=os.getcwd())",
       "as pyinfra's own command line does: started outside the project, group_data/ is not read",
       [f"{INSTALLED}::test_render_finds_the_project_from_the_inventory_path_and_matches_the_checkout"]),
    mutant("console script not seen as the program", "stackctl/main.py",
       '    return _is_script(getattr(launcher, "__file__", None))\n', "    return False\n",
       "only the two `python -m` launchers recognised: the installed status runs pyinfra's SSH in gevent "
       "with ssl imported unpatched (TLS RecursionError)",
       [f"{INSTALLED}::test_status_patches_the_stdlib_for_gevent_before_ssl_under_the_installed_command"]),
    mutant("gevent check reads the word after the program", "stackctl/main.py",
       "_WORDS = _command_words(sys.argv[1:])", "_WORDS = sys.argv[1:]",
       "the check written before -C existed: `-C DIR status ...` is not patched",
       [f"{INSTALLED}::test_status_patches_the_stdlib_for_gevent_before_ssl_under_the_installed_command"]),
    mutant("wheel: templates one level deep only", "pyproject.toml",
       '"postgrest_stack.templates" = ["**/*.j2"]', '"postgrest_stack.templates" = ["*.j2"]',
       "package data globbed like a flat folder: bin/, sql/ and shell/ templates are left out of the wheel",
       [f"{INSTALLED}::test_the_wheel_carries_every_template_and_no_checkout_file"]),
    mutant("docker SDK taken for a test dependency", "requirements.txt",
       "# image_source = controller: images exported from the controller's Docker engine\ndocker==7.1.0\n", "",
       "the tests use it too, so it went to requirements-dev.txt: a controller with image_source = controller "
       "then fails on import docker",
       [f"{PACKAGING}::test_the_runtime_code_imports_only_what_the_runtime_pins_install",
        f"{PACKAGING}::test_pyproject_dependencies_are_the_runtime_pins_of_requirements_txt"],
       also=(Edit("pyproject.toml", '    "docker==7.1.0",\n', ""),
             Edit("requirements-dev.txt", "ruff==0.17.6\n", "ruff==0.17.6\ndocker==7.1.0\n"))),
    mutant("venv installs the runtime pins only", "Makefile",
       "$(VENV)/bin/pip install --quiet -r requirements-dev.txt -c requirements.lock",
       "$(VENV)/bin/pip install --quiet -r requirements.txt -c requirements.lock",
       "the old line kept: a fresh clone's `make test` has no pytest, ruff or mypy",
       [f"{PACKAGING}::test_the_virtualenv_installs_both_files_and_is_remade_when_either_changes"]),
    # --- the scheduled backup's timer (backup_schedule)
    mutant("backup timer: schedule not checked", "stackctl/main.py",
           "calendar = schedule.check_calendar(schedule.one_schedule(schedules or all_schedules))",
           "calendar = schedule.one_schedule(schedules or all_schedules)",
           "the check left out: a backup_schedule systemd cannot read is printed into the timer, which then "
           "never fires (systemd only logs a warning) and no backup is taken",
           ["tests/unit/test_ops_schedules.py::"
            "test_the_timer_command_takes_the_inventorys_schedule_and_refuses_one_systemd_cannot_read"]),
    mutant("backup timer: the default, not the inventory's schedule", "stackctl/main.py",
           'print(schedule.backup_timer(calendar), end="")',
           'print(schedule.backup_timer(settings.SETTINGS_BY_NAME["backup_schedule"].default), end="")',
           "the setting has no effect: every inventory gets OnCalendar=daily whatever backup_schedule says",
           ["tests/unit/test_ops_schedules.py::"
            "test_the_timer_command_takes_the_inventorys_schedule_and_refuses_one_systemd_cannot_read"]),
    mutant("backup timer: api hosts' schedule counts too", "stackctl/main.py",
           "schedule.one_schedule(schedules or all_schedules)", "schedule.one_schedule(all_schedules)",
           "the value read from every host, not the db hosts backup.py acts on: an api host's stray value "
           "refuses the command or, alone, would set the timer",
           ["tests/unit/test_ops_schedules.py::test_the_timer_command_refuses_db_hosts_that_disagree"]),
# scripts/mutants.py MUTANTS.
    # --- backups: names, latest, retention, the manifest (postgrest_stack/backups.py)
    mutant("backups: prune keeps one too few", "postgrest_stack/backups.py",
           "return kept[:-keep] if len(kept) > keep else []",
           "return kept[:-keep + 1] if len(kept) >= keep else []",
           "an off-by-one in retention: every place keeps backup_keep - 1 backups (and with keep 1, none "
           "but the one being copied)",
           ["tests/unit/test_backups.py::test_prune_keeps_the_newest_and_touches_nothing_else",
            "tests/e2e/test_offsite.py::test_copy_to_the_controller_keeps_backup_keep"]),
    mutant("backups: prune counts .partial folders", "postgrest_stack/backups.py",
           "kept = sorted({n for n in names if is_name(n)})", "kept = sorted(set(names))",
           "every folder counts toward backup_keep: a .partial or unrelated folder pushes a verified backup "
           "out, or is itself deleted",
           ["tests/unit/test_backups.py::test_prune_keeps_the_newest_and_touches_nothing_else"]),
    mutant("backups: latest picks a restore's safety copy", "postgrest_stack/backups.py",
           "candidates = [n for n in names if is_name(n) and label(n) not in NOT_LATEST_LABELS]",
           "candidates = [n for n in names if is_name(n)]",
           "a second `restore latest` would restore the database the first restore replaced",
           ["tests/unit/test_backups.py::test_latest_is_the_greatest_name_but_never_a_restores_safety_copy"]),
    mutant("backups: host check trusts sha256sum -c alone", "postgrest_stack/backups.py",
           "for f in {members}; do [ \\\"$(grep -c",
           "for f in ; do [ \\\"$(grep -c",
           "a manifest that leaves out a file passes `sha256sum -c`: that file is never checked",
           ["tests/unit/test_backups.py::test_the_host_side_check_wants_the_four_members_in_the_manifest"]),
    mutant("backups: controller check skips the digests", "postgrest_stack/backups.py",
           "        if sha256_file(path) != digests[member]:\n",
           "        if not path.stat().st_size:\n",
           "only presence is checked on the controller: a truncated offsite copy is fetched and restored",
           ["tests/unit/test_backups.py::test_check_folder_names_the_bad_file",
            "tests/e2e/test_offsite.py"]),  # the e2e tests build on each other: the module, in order
    mutant("backups: the project root as controller place", "postgrest_stack/backups.py",
           "    if folder == root or folder in root.parents:\n",
           "    if folder in root.parents:\n",
           "controller:. writes database dumps among the project's files, where a `git add -A` commits them",
           ["tests/unit/test_backups.py::test_a_controller_folder_in_the_projects_own_files_is_refused",
            "tests/unit/test_backups.py::test_place_of_the_project_root_is_refused"]),
    # --- the copy off the host and back (tasks/offsite.py)
    mutant("offsite: a group host left out by --limit is skipped", "tasks/offsite.py",
           "        if not state.is_host_in_limit(target):\n            raise SettingsError(",
           "        if False:\n            raise SettingsError(",
           "`--limit db` quietly skips the backup hosts at preparation; the copy then fails mid-run after the "
           "backup instead of before any host is touched",
           ["tests/unit/test_backups.py::test_place_of_refusals_are_one_line"]),
    mutant("offsite: an unreachable backup host is not a failure", "tasks/offsite.py",
           "            if why:\n                raise TransferError(f\"backup {name} not copied off the host:",
           "            if why and False:\n                raise TransferError(f\"backup {name} not copied off the host:",
           "a backup that never left the host passes the run: no alert, the lost-disk case has no copy",
           ["tests/e2e/test_offsite.py::test_an_unreachable_backup_host_fails_the_run"]),
    mutant("offsite: a fetched copy is not checked on the controller", "tasks/offsite.py",
           "            bad = backups.check_folder(source / name, shown=f\"controller:{source / name}\")\n",
           "            bad = None\n",
           "only the host-side check is left: still refused, but the .partial is made on the db host first "
           "(and the refusal names the host's copy, not the offsite file)",
           ["tests/e2e/test_offsite.py"]),  # the e2e tests build on each other: the module, in order
    mutant("offsite: sudo transfers through /tmp", "tasks/offsite.py",
           "    if arguments == plain:\n        yield None\n        return\n",
           "    if True:\n        yield None\n        return\n",
           "pyinfra's defaults: a sudo download is copied world-readable (chmod +r) into /tmp; no test can see "
           "another user read it here, so the e2e test holds the staging folder's use through sudo's log",
           ["tests/e2e/test_offsite.py::test_copy_to_the_controller_keeps_backup_keep"]),
    mutant("backup hosts: deploy.py connects to them", "tasks/limit_guard.py",
           "        if skips_backup_hosts:\n", "        if False:\n",
           "deploy.py would probe a backup host and install a stack there (or fail it on missing settings)",
           ["tests/unit/test_backups.py::test_deploy_and_rotation_leave_backup_hosts_out"]),
    mutant("offsite: prune ignores which stack a backup is of", "postgrest_stack/backups.py",
           "    return to_prune([name for name, owner in entries if owner == stack], keep)",
           "    return to_prune([name for name, _owner in entries], keep)",
           "staging and production sharing a controller PATH or a backup host: each run's rotation deletes the "
           "other stack's backups",
           ["tests/unit/test_backups.py::test_prune_only_this_stacks_backups",
            "tests/e2e/test_offsite.py::test_copy_to_the_controller_keeps_backup_keep"]),
    # --- backups (issue 21)
    mutant("backup: the dump takes its own snapshot", "templates/bin/backup.j2",
           '\\! pg_dump --format=custom --snapshot="$SNAPSHOT" --file=/backup/db.dump',
           '\\! pg_dump --format=custom --file=/backup/db.dump',
           "the counts and the dump no longer see the same data: under writes counts.tsv says another number "
           "than the dump holds, and a restore check against it means nothing",
           [BACKUP_SCRIPT]),
    mutant("backup: restore errors ignored", "templates/bin/backup.j2",
           '--create --dbname=postgres /backup/db.dump >/dev/null 2>"$stage/restore.err" ||',
           '--create --dbname=postgres /backup/db.dump >/dev/null 2>"$stage/restore.err" || true ||',
           "a backup whose dump does not restore is kept when the counts happen to hold (here they do not: "
           "the failure is then named wrongly, and an empty table would pass)",
           [f"{BACKUP_E2E}::test_a_backup_that_does_not_restore_fails_and_keeps_the_good_ones"]),
    mutant("backup: retention keeps one fewer", "templates/bin/backup.j2",
           "verified | head -n $((count - keep)) | while IFS= read -r old; do",
           "verified | head -n $((count - keep + 1)) | while IFS= read -r old; do",
           "an off-by-one in the pruning: backup_keep=2 keeps one",
           [f"{BACKUP_E2E}::test_backup_keep_2_keeps_the_newest_two"]),
    mutant("status: no backup is no drift", "postgrest_stack/backups.py",
           '        return "no verified backup yet"', "        return None",
           "a db host that was never backed up reads as ok",
           [f"{BACKUPS_UNIT}::test_no_backup_at_all_is_drift_on_a_db_host"]),
    mutant("status: age compared in days", "postgrest_stack/backups.py",
           "    if age > max_age_hours:", "    if age > max_age_hours * 24:",
           "a unit slip: a backup days old is not flagged",
           [f"{BACKUPS_UNIT}::test_an_old_backup_is_drift_exit_1"]),
    mutant("probe: a .partial or unsummed folder counts", "templates/probe.sh.j2",
           '''if [ -f {{ backups_path|shell }}/"$name"/SHA256SUMS ]; then echo "$name"; break; fi''',
           '''echo "$name"; break''',
           "a backup that never passed its check (no SHA256SUMS) is reported as the newest verified one",
           [f"{BACKUPS_UNIT}::test_the_probe_reports_the_newest_verified_backup_only"]),
    mutant("deploy: backup before migrations on a first deploy", "deploy.py",
           "                and state.services.get(\"db\") is not None else None)",
           "                else None)",
           "a first deploy backs up an empty database (a useless backup, and a slower first deploy)",
           [f"{BACKUP_E2E}::test_a_first_deploy_takes_no_backup_and_status_flags_the_missing_one"]),
    mutant("deploy: backup after the migrations", "tasks/stack.py",
           "    if plan.migrate and backup_first:\n", "    if False:\n",
           "the pre-migrations backup is lost: migrations run on data no backup holds",
           [f"{BACKUP_E2E}::test_a_pending_migration_is_backed_up_first_and_a_rerun_takes_none"]),
    # --- restore (issue 21)
    mutant("restore: manifest not checked", "templates/bin/restore.j2",
           'if ! (cd "$folder" && sha256sum --quiet -c SHA256SUMS >/dev/null 2>&1); then',
           "if false; then",
           "the files' presence checked, not their bytes: a truncated db.dump goes on to the safety backup and "
           "a restore that fails half-way (or restores less)",
           [f"{RESTORE_UNIT}::test_a_corrupt_file_is_refused_in_one_line_naming_it_before_anything_runs"]),
    mutant("restore: a manifest that omits a file passes", "templates/bin/restore.j2",
           '    fail "$folder/SHA256SUMS does not list $file; nothing changed"',
           "    true",
           "sha256sum -c checks only what the manifest lists: a SHA256SUMS without db.dump vouches for nothing of it",
           [f"{RESTORE_UNIT}::test_a_missing_file_or_one_the_manifest_does_not_list_is_refused"]),
    mutant("restore: no safety backup", "templates/bin/restore.j2",
           'if ! bin/backup "$safety" 2>"$work/backup.err"; then',
           "if ! true; then",
           "the current database replaced with no way back: a restore of the wrong backup loses everything since",
           [f"{RESTORE_UNIT}::test_the_safety_backup_comes_first_then_the_restore_then_sql_and_migrations"]),
    mutant("restore: files read from the backup folder the safety backup may prune", "templates/bin/restore.j2",
           'tar -C "$work" -cf - restore.sh -C "$stage" db.dump roles.sql counts.tsv',
           'tar -C "$work" -cf - restore.sh -C "$folder" db.dump roles.sql counts.tsv',
           "with backup_keep reached, the safety backup's pruning deletes the very backup being restored",
           [f"{RESTORE_UNIT}::test_a_backup_the_safety_backup_pruned_is_still_restored"]),
    mutant("restore: no SQL and migrations after the swap", "templates/bin/restore.j2",
           'bin/apply-sql || fail "$name restored, but bin/apply-sql failed: run deploy.py"',
           'true || fail "$name restored, but bin/apply-sql failed: run deploy.py"',
           "the restored database keeps the backup's SQL digest and passwords-less roles: the authenticator's "
           "password and grants of the current project are not re-applied",
           [f"{RESTORE_UNIT}::test_the_safety_backup_comes_first_then_the_restore_then_sql_and_migrations"]),
    mutant("restore: row counts not compared", "templates/bin/restore.j2",
           'if [ -n "$differs" ]; then',
           "if false; then",
           "a restore that lost rows (or a dump that does not match its counts) is swapped in as the database",
           [FIRST_RESTORE, f"{RESTORE_E2E}::test_restored_rows_that_differ_from_counts_tsv_are_refused_before_the_swap"]),
    mutant("restore: roles not restored", "templates/bin/restore.j2",
           '-d postgres -f roles.sql >/dev/null 2>roles.err',
           "-d postgres -c 'SELECT 1' >/dev/null 2>roles.err",
           "onto a new db host the roles the dump's grants and owners name do not exist (here: the role created "
           "before the backup is not back)",
           [FIRST_RESTORE, f"{RESTORE_E2E}::test_restore_latest_brings_back_rows_roles_and_token_access"]),
    mutant("restore: swap without FORCE", "templates/bin/restore.j2",
           """echo 'DROP DATABASE IF EXISTS :"db" WITH (FORCE);'""",
           """echo 'DROP DATABASE IF EXISTS :"db";'""",
           "PostgREST's pool holds sessions on the database: the DROP fails and the restore never swaps",
           [FIRST_RESTORE, f"{RESTORE_E2E}::test_restore_latest_brings_back_rows_roles_and_token_access"]),
    mutant("restore.py: no confirmation needed when absent", "postgrest_stack/restore.py",
           "    if confirm != db_name:",
           "    if confirm and confirm != db_name:",
           "a restore (which replaces the database) runs without the operator typing the database's name",
           [f"{RESTORE_UNIT}::test_a_run_without_confirmation_or_with_a_bad_name_is_refused_in_one_line"]),
    mutant("restore.py: any name accepted", "postgrest_stack/restore.py",
           "    if source != LATEST and not backups.is_name(source):",
           "    if source != LATEST and not source:",
           "a name like ../x goes onto the host's command line and path",
           [f"{RESTORE_UNIT}::test_a_run_without_confirmation_or_with_a_bad_name_is_refused_in_one_line"]),
    mutant("run parameters accepted by every script", "tasks/controller.py",
           "    return pyinfra_keys(run.of(state).run_parameters if state is not None else ())",
           '    return pyinfra_keys(("restore_from", "restore_confirm"))',
           "deploy.py --data restore_from=... would pass silently instead of being an unknown setting",
           [f"{RESTORE_UNIT}::test_the_parameters_are_settings_of_no_run_but_restore_py"]),
    mutant("restore.py: api hosts do not wait for the db host", "restore.py",
           '    db_first.wait_for_db_hosts("not reloaded")',
           "    pass",
           "api hosts reload and prove while (or although) the db host's restore runs or failed",
           [f"{RESTORE_UNIT}::test_restore_py_restores_on_the_db_host_before_the_shared_wait_and_reloads_after_it"]),
    # --- PostgreSQL major versions: the refusal, the upgrade plan, bin/upgrade-db
    mutant("major change let through when the image is newer", "postgrest_stack/plan.py",
           "if data_major is None or image_major is None or data_major == image_major:",
           "if data_major is None or image_major is None or data_major <= image_major:",
           "'a newer server reads older data' assumed: compose recreates db with 17 on 15 data, which "
           "PostgreSQL refuses to start on, and the stack crash-loops",
           ["tests/unit/test_plan_upgrade.py::test_another_major_is_refused_naming_both_versions_and_the_runbook",
            "tests/e2e/test_pg_upgrade.py"]),
    mutant("downgrade attempted with dump-restore", "postgrest_stack/plan.py",
           "    if image_major < data_major:\n",
           "    if image_major < data_major and upgrade != \"dump-restore\":\n",
           "the setting read as 'move between majors' in both directions: pg_dump of a newer server by an "
           "older one is not supported",
           ["tests/unit/test_plan_upgrade.py::test_dump_restore_upgrades_but_never_downgrades"]),
    mutant("upgrade: SQL before up, on the stopped old server", "postgrest_stack/plan.py",
           "    plan.sql_first = False\n", "",
           "the upgrade reuses a plan whose SQL went first: bin/apply-sql then runs against the db container "
           "bin/upgrade-db has just stopped, and the host fails after the switch",
           ["tests/unit/test_plan_upgrade.py::test_the_upgrade_plan_runs_the_sql_after_up_and_the_gate"]),
    mutant("upgrade: roles without passwords at the switch", "templates/bin/upgrade-db.j2",
           "psql_in \"$work\" \"$db_name\" >/dev/null <{{ roles_sql | shell }} ||",
           "true ||",
           "the backup's roles.sql has no passwords: PostgREST meets the new server before the deploy's SQL, "
           "fails the authenticator's login and stops retrying (PostgREST 12: 'thread killed')",
           ["tests/e2e/test_pg_upgrade.py"]),
    mutant("upgrade: the kept data stays read-only", "templates/bin/upgrade-db.j2",
           "grep -v '^default_transaction_read_only' \"$auto\" >\"$auto.upgrade\" || true",
           "cp \"$auto\" \"$auto.upgrade\"",
           "the rollback would start the old server read-only: every write fails after a rollback",
           ["tests/e2e/test_pg_upgrade.py::test_dump_restore_upgrades_keeping_rows_roles_and_tokens"]),
    mutant("probe: PG_VERSION not read", "templates/probe.sh.j2",
           "    echo \"pgdata $(head -c 16 \"$pgdata/PG_VERSION\")\"\n",
           "    :\n",
           "no data major on the probe: neither refusal nor upgrade, the 17 image recreated on 15 data",
           ["tests/unit/test_commands.py::test_probe_command", "tests/e2e/test_pg_upgrade.py"]),
    # --- Debian 13 (trixie): docker_install = distro and the second test-host image
    mutant("distro Docker on Debian 13: no docker-cli", "postgrest_stack/docker_install.py",
           'DISTRO_PACKAGES_SPLIT_CLI = ("docker.io", "docker-cli", "docker-compose")',
           'DISTRO_PACKAGES_SPLIT_CLI = ("docker.io", "docker-compose")',
           "Debian 12's package list kept for Debian 13, where docker.io only recommends its CLI: a host "
           "with Install-Recommends off gets an engine and no `docker` command, and the deploy fails",
           ["tests/unit/test_docker_install.py::test_distro_packages_per_release"]),
    mutant("distro Docker: Debian 13 taken for an old release", "postgrest_stack/docker_install.py",
           "return DISTRO_PACKAGES_SPLIT_CLI if int(major) >= 13 else DISTRO_PACKAGES",
           "return DISTRO_PACKAGES_SPLIT_CLI if int(major) > 13 else DISTRO_PACKAGES",
           "an off-by-one in the release comparison: Debian 13 gets the pre-split package list",
           ["tests/unit/test_docker_install.py::test_distro_packages_per_release"]),
    mutant("fleet: the Debian 13 host silently booted from the Debian 12 image", "tests/fleet/conftest.py",
           'return ensure_image(suite="trixie")', "return ensure_image()",
           "the second release quietly dropped (a default argument, a copy-paste): every fleet test "
           "still passes on Debian 12 alone unless one checks what the host really runs",
           ["tests/fleet/test_production_hosts.py::test_first_deploy_from_nothing",
            "tests/fleet/test_production_hosts.py::test_each_host_runs_its_own_releases_docker_and_compose"]),
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
