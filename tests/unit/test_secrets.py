"""The secrets' sources (postgrest_stack/secrets.py): the dotenv secrets file, its mode,
misspelt keys, the password alphabet and secrets_command (needs python-dotenv)."""

from __future__ import annotations

import os
import shlex
import shutil
import stat
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest
import yaml

from postgrest_stack import PROJECT_ROOT, render, settings
from postgrest_stack import secrets as stack_secrets

PG = "STACK_POSTGRES_PASSWORD"
AUTH = "STACK_AUTHENTICATOR_PASSWORD"
P1 = "p" * 20
P2 = "a" * 20
#: Every character a secret may hold, once each (91, so within 128).
EVERY_ALLOWED = "".join(sorted(stack_secrets.ALPHABET))
#: As `openssl rand -base64 32` prints them.
OPENSSL = "q3Z+9v/8Yh0xkT4dVtV2n1m+Wb6cOe/4jL3sPa7uRkE="
#: As a password manager's generator with symbols gives them.
MANAGER = "#k7!Q@x%^&*-_.,~:;?()[]{}=+/Zp`\\|<>"


@pytest.fixture(autouse=True)
def fresh_command_results():
    """secrets_command runs once per process: each test starts with none run."""
    stack_secrets._command_results.clear()
    yield
    stack_secrets._command_results.clear()


def secrets_file(tmp_path: Path, text: str, mode: int = 0o600) -> Path:
    path = tmp_path / "prod.env"
    path.write_text(text)
    path.chmod(mode)
    return path


def refusal(data: dict, environ: dict | None = None) -> str:
    with pytest.raises(settings.SettingsError) as error:
        stack_secrets.load(data, environ or {})
    message = str(error.value)
    assert "\n" not in message
    return message


# --- The file's format: python-dotenv's --------------------------------------------------------


def test_export_quotes_and_comments_are_read_as_dotenv(tmp_path):
    path = secrets_file(tmp_path, f"""# Secrets for prod
export {PG}='{"#k7!p" * 4}'   # single-quoted: the leading '#' kept

{AUTH}="dq{MANAGER}" # a comment after the value
""")
    assert stack_secrets.load({"secrets_file": str(path)}, {}) == {
        "postgres_password": "#k7!p" * 4, "authenticator_password": "dq" + MANAGER}


def test_unquoted_values_keep_hash_and_equals(tmp_path):
    path = secrets_file(tmp_path, f"{PG}=#{OPENSSL}\n  export  {AUTH}={MANAGER}\n")
    assert stack_secrets.load({"secrets_file": str(path)}, {}) == {
        "postgres_password": "#" + OPENSSL, "authenticator_password": MANAGER}


def test_quoted_value_with_a_refused_space_is_named(tmp_path):
    path = secrets_file(tmp_path, f"{PG}='{'x' * 10} {'y' * 10}'\n{AUTH}={P2}\n")
    message = refusal({"secrets_file": str(path)})
    assert message.startswith(f"secret 'postgres_password' ({PG} in {path}) contains ' ' (space:")
    assert "x" * 10 not in message


@pytest.mark.parametrize(("text", "wanted"), [
    (f"{PG}='unclosed\n{AUTH}={P2}\n", ":1: not a KEY=value line"),
    (f"{AUTH}={P2}\n{PG}\n", f":2: {PG} has no '=value'"),
    (f"{PG}={P1}\n{AUTH}={P2}\n{PG}={P1}x\n", f":3: {PG} is given twice (first on line 1)"),
])
def test_unreadable_lines_are_refused_with_their_number(tmp_path, text, wanted):
    path = secrets_file(tmp_path, text)
    message = refusal({"secrets_file": str(path)})
    assert message.startswith(f"{path}{wanted}"), message


def test_a_hash_after_a_space_starts_a_comment_so_the_value_is_empty(tmp_path):
    path = secrets_file(tmp_path, f"{PG} = {P1}\n{AUTH}= {MANAGER}\n")
    assert refusal({"secrets_file": str(path)}) == (
        f"{path}:2: {AUTH} is empty (a '#' after a space starts a comment: quote the value)")


def test_export_line_was_missing_before_and_is_read_now(tmp_path):
    # The old parser took 'export STACK_...' as a key of its own and then said "missing".
    path = secrets_file(tmp_path, f"export {PG}={P1}\nexport {AUTH}=\"{P2}\"\n")
    assert stack_secrets.load({"secrets_file": str(path)}, {}) == {
        "postgres_password": P1, "authenticator_password": P2}


# --- The file's mode --------------------------------------------------------------------------


@pytest.mark.parametrize("mode", [0o644, 0o640, 0o604, 0o660, 0o602, 0o610])
def test_file_open_to_group_or_others_is_refused_with_the_chmod(tmp_path, mode):
    path = secrets_file(tmp_path, f"{PG}={P1}\n{AUTH}={P2}\n", mode)
    message = refusal({"secrets_file": str(path)})
    assert message == (f"secrets_file {path} is open to group or others (mode {mode:04o}): "
                       f"run chmod 600 {path}")


def test_file_open_to_others_is_refused_even_when_the_environment_has_all(tmp_path):
    path = secrets_file(tmp_path, f"{PG}={P1}\n", 0o644)
    assert "run chmod 600" in refusal({"secrets_file": str(path)}, {PG: P1, AUTH: P2})


@pytest.mark.parametrize("mode", [0o600, 0o400])
def test_owner_only_file_is_read(tmp_path, mode):
    path = secrets_file(tmp_path, f"{PG}={P1}\n{AUTH}={P2}\n", mode)
    assert stack_secrets.load({"secrets_file": str(path)}, {})["authenticator_password"] == P2


# --- Keys that are no secret variable -------------------------------------------------------


@pytest.mark.parametrize(("key", "meant"), [
    ("STACK_POSTGRES_PASWORD", PG),
    ("STACK_AUTHENTICATER_PASSWORD", AUTH),
    ("stack_postgres_password", PG),
    ("POSTGRES_PASSWORD", PG),
])
def test_misspelt_key_gets_a_did_you_mean(tmp_path, key, meant):
    path = secrets_file(tmp_path, f"# x\n{key}={P1}\n")
    assert refusal({"secrets_file": str(path)}) == f"{path}:2: unknown key '{key}'; did you mean '{meant}'?"


def test_a_bare_password_line_is_refused_without_showing_it(tmp_path):
    # base64 ends in '=': dotenv takes the password for a key with an empty value.
    path = secrets_file(tmp_path, f"{PG}={P1}\n{OPENSSL}\n")
    message = refusal({"secrets_file": str(path)})
    assert message.startswith(f"{path}:2: a key that is no secret variable (not shown")
    assert OPENSSL.rstrip("=") not in message and OPENSSL[:8] not in message


# --- The alphabet -----------------------------------------------------------------------------


@pytest.mark.parametrize("value", [EVERY_ALLOWED, OPENSSL, MANAGER, "#" + OPENSSL, "x" * 16, "y" * 128])
def test_generator_passwords_are_accepted(value):
    assert stack_secrets.load({}, {PG: value, AUTH: P2})["postgres_password"] == value


def test_the_alphabet_is_printable_ascii_but_four():
    assert set(EVERY_ALLOWED) | set(" $'\"") == {chr(c) for c in range(0x20, 0x7F)}
    assert set("+/=#!@%^&*-_.,~:;?()[]{}") <= stack_secrets.ALPHABET


@pytest.mark.parametrize(("character", "named"), [
    (" ", "' ' (space:"),
    ("$", "'$' (Compose v2 expands $NAME"),
    ("'", "\"'\" (single quote:"),
    ('"', "'\"' (double quote:"),
    ("\t", "U+0009 (whitespace or a control character)"),
    ("\x7f", "U+007F (whitespace or a control character)"),
    ("\u00a0", "U+00A0 (whitespace or a control character)"),
    ("é", "'é' (latin small letter e with acute: not ASCII"),
])
def test_refused_character_is_named(character, named):
    message = refusal({}, {PG: "k" * 10 + character + "k" * 10, AUTH: P2})
    assert message.startswith(f"secret 'postgres_password' (${PG}) contains {named}"), message
    assert "k" * 10 not in message


@pytest.mark.parametrize("value", ["x" * 15, "x" * 129])
def test_length_is_16_to_128(value):
    assert f"is {len(value)} characters long: it must be 16-128" in refusal({}, {PG: value, AUTH: P2})


def compose_reads(directory: Path, command: list[str]) -> dict:
    env = {k: v for k, v in os.environ.items() if k not in ("AUTHENTICATOR_PASSWORD", "POSTGRES_PASSWORD")}
    done = subprocess.run([*command, "config"], cwd=directory, capture_output=True, text=True, timeout=60, env=env)
    assert done.returncode == 0, done.stderr
    return yaml.safe_load(done.stdout)["services"]


@pytest.mark.parametrize("command", [["docker-compose"], ["docker", "compose"]], ids=["compose-v1", "compose-v2"])
@pytest.mark.parametrize("password", [EVERY_ALLOWED, "#" + OPENSSL, MANAGER], ids=["every", "openssl", "manager"])
def test_rendered_env_gives_compose_the_password_as_is(tmp_path, data, command, password):
    """Compose reads the host's .env into ${AUTHENTICATOR_PASSWORD}, PostgREST's PGPASSWORD."""
    if not shutil.which(command[0]) or (command[0] == "docker" and subprocess.run(
            ["docker", "compose", "version"], capture_output=True).returncode):
        pytest.skip(f"{' '.join(command)} is not installed")
    found = stack_secrets.load({}, {PG: "s" * 20, AUTH: password})
    files = render.render(settings.resolve(data), found)
    for name in ("compose.yaml", ".env"):
        (tmp_path / name).write_bytes(files[name].content)
    services = compose_reads(tmp_path, command)
    # `config` prints the file back with '$' doubled: none is in the alphabet to double.
    assert services["postgrest"]["environment"]["PGPASSWORD"] == password


# --- secrets_command --------------------------------------------------------------------------


def python_printing(text: str, *, stderr: str = "", status: int = 0) -> str:
    """A shell command printing ``text`` (and ``stderr``) and exiting with ``status``."""
    program = (f"import sys; sys.stdout.write({text!r}); sys.stderr.write({stderr!r}); sys.exit({status})")
    return f"{shlex.quote(sys.executable)} -c {shlex.quote(program)}"


def test_command_output_is_read(tmp_path):
    command = python_printing(f"export {PG}='{MANAGER}'\n# from the vault\n{AUTH}={OPENSSL}\n")
    assert stack_secrets.load({"secrets_command": command}, {}) == {
        "postgres_password": MANAGER, "authenticator_password": OPENSSL}


def test_environment_wins_over_the_command_and_the_command_runs_once(tmp_path):
    runs = tmp_path / "runs"
    command = f"echo run >> {runs}; echo {PG}={P1}; echo {AUTH}={P2}"
    assert stack_secrets.load({"secrets_command": command}, {AUTH: "e" * 20}) == {
        "postgres_password": P1, "authenticator_password": "e" * 20}
    stack_secrets.load({"secrets_command": command}, {})  # the next host of the same run
    assert runs.read_text() == "run\n"


def test_command_not_run_when_the_environment_has_all(tmp_path):
    runs = tmp_path / "runs"
    assert stack_secrets.load({"secrets_command": f"touch {runs}; exit 1"}, {PG: P1, AUTH: P2})
    assert not runs.exists()


def test_command_and_an_existing_secrets_file_are_refused(tmp_path):
    path = secrets_file(tmp_path, f"{PG}={P1}\n{AUTH}={P2}\n")
    message = refusal({"secrets_command": python_printing(f"{PG}={P1}\n"), "secrets_file": str(path)})
    assert message == (f"settings 'secrets_command' and 'secrets_file' are both set and {path} exists: keep one "
                       "source of secrets (delete the file, or set secrets_file = None)")
    # A secrets_file that does not exist (group_data/prod.py names one) is no second source.
    absent = {"secrets_command": python_printing(f"{PG}={P1}\n{AUTH}={P2}\n"), "secrets_file": str(tmp_path / "no")}
    assert stack_secrets.load(absent, {})["postgres_password"] == P1


def test_command_excludes_generate_secrets(tmp_path):
    message = refusal({"secrets_command": "true", "secrets_file": str(tmp_path / "s.env"), "generate_secrets": True})
    assert message.startswith("settings 'secrets_command' and 'generate_secrets' exclude each other")
    assert not (tmp_path / "s.env").exists()


def test_missing_secret_names_the_command():
    message = refusal({"secrets_command": python_printing(f"{PG}={P1}\n")})
    assert message == (f"missing secret 'authenticator_password': set {AUTH} in the environment "
                       f"or have secrets_command print {AUTH}=...")


LEAK = "LEAKED-" + "z" * 20


@pytest.mark.parametrize(("command", "wanted"), [
    (python_printing(f"{PG}={LEAK}\n", stderr=f"vault: token {LEAK} expired", status=3),
     "setting 'secrets_command' failed with exit status 3 (its output is not shown, it may hold secrets: "
     "run the command by hand to see why)"),
    (f"echo {LEAK}; echo {LEAK} >&2; kill -9 $$",
     "setting 'secrets_command' was killed by signal 9 (its output is not shown"),
    (python_printing("", stderr=LEAK),
     f"setting 'secrets_command' exited 0 but printed nothing: it must print {PG}=... and {AUTH}=... lines"),
    (python_printing(" \n\n", stderr=LEAK), "setting 'secrets_command' exited 0 but printed nothing"),
    (f"printf '\\377{LEAK}'; echo {LEAK} >&2", "setting 'secrets_command' printed no UTF-8 text"),
    (python_printing(f"{PG}={P1}\n{LEAK}=\n"), "secrets_command's output:2: a key that is no secret variable"),
    (python_printing(f"{PG}={LEAK} $x\n{AUTH}={P2}\n"),
     f"secret 'postgres_password' ({PG} in secrets_command's output) contains ' ' (space:"),
])
def test_failing_command_is_one_line_without_its_output(capfd, command, wanted):
    message = refusal({"secrets_command": command})
    assert message.startswith(wanted), message
    assert LEAK not in message and "z" * 20 not in message
    captured = capfd.readouterr()
    assert LEAK not in captured.out + captured.err  # nothing of it reaches the terminal either


def test_command_that_hangs_is_killed_and_refused(monkeypatch, capfd):
    monkeypatch.setattr(stack_secrets, "COMMAND_TIMEOUT", 0.5)
    started = time.monotonic()
    # A child of the shell keeps the pipes open: the refusal must not wait for it.
    message = refusal({"secrets_command": f"echo {PG}={LEAK}; echo {LEAK} >&2; sleep 30; sleep 1"})
    assert time.monotonic() - started < 10
    assert message == "setting 'secrets_command' did not finish within 0.5 seconds (killed; its output is not shown)"
    captured = capfd.readouterr()
    assert LEAK not in message + captured.out + captured.err


def test_failure_is_kept_for_the_run_so_the_command_runs_once(tmp_path):
    runs = tmp_path / "runs"
    command = f"echo run >> {runs}; exit 2"
    for _ in range(3):
        assert "exit status 2" in refusal({"secrets_command": command})
    assert runs.read_text() == "run\n"


def tree(root: Path, skip: tuple[str, ...] = ()) -> set[str]:
    found = set()
    for directory, subdirectories, names in os.walk(root):
        subdirectories[:] = [d for d in subdirectories if d not in skip]
        found.update(os.path.join(directory, name) for name in names)
    return found


def test_command_output_is_never_written_to_disk(tmp_path, monkeypatch):
    # A temp dir of this test's own (others run beside it): Python's and the command's.
    private = tmp_path / "tmp"
    private.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(private))
    monkeypatch.setenv("TMPDIR", str(private))
    command = python_printing(f"{PG}={P1}\n{AUTH}={LEAK}\n")
    before_project = tree(PROJECT_ROOT, (".git",))
    found = stack_secrets.load({"secrets_command": command}, {})
    assert found["authenticator_password"] == LEAK
    assert tree(private) == set()
    assert tree(PROJECT_ROOT, (".git",)) - before_project == set()


def test_command_runs_in_the_project_root(tmp_path):
    refusal({"secrets_command": f"pwd > {tmp_path}/cwd; exit 1"})
    assert (tmp_path / "cwd").read_text().strip() == str(PROJECT_ROOT)


# --- The setting ------------------------------------------------------------------------------


def test_secrets_command_is_a_declared_setting(data):
    resolved = settings.resolve({**data, "secrets_command": "sops -d secrets/prod.sops.env"})
    assert resolved.stack_name  # accepted, not an unknown setting
    with pytest.raises(settings.SettingsError, match="setting 'secrets_command' must be a shell command string"):
        settings.resolve({**data, "secrets_command": ["sops", "-d"]})


def test_the_file_written_by_generate_secrets_reads_back(tmp_path):
    path = tmp_path / "local" / "secrets.env"
    data = {"secrets_file": str(path), "generate_secrets": True}
    first = stack_secrets.load(data, {})
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stack_secrets.load({"secrets_file": str(path)}, {}) == first
