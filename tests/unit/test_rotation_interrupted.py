"""A rotation that stops for any reason leaves the host on the old file and old keys, or
on the new file and new keys, proven; the record of what PostgREST loaded (state/
jwks.json) says which, and a run that stopped between the write and the proof is
finished by the next one without rewriting the file. Run for real on @local with the
stand-ins of test_key_rotation_local (its ``host`` fixture)."""

from __future__ import annotations

import hashlib

import pytest

from postgrest_stack import loaded, settings
from tasks import keys
from tests.harness.local_pyinfra import in_context, local_host
from tests.unit.test_key_rotation_local import MISREAD, NEW, OLD, host  # noqa: F401 - host: the fixture, by name


def rotate(target, key_file, *, file_current=False, **overrides) -> str:
    resolved = settings.resolve({**target.data, **overrides})
    with local_host() as (state, pyinfra_host), in_context(state, pyinfra_host):
        return keys.rotate_host(pyinfra_host, resolved, key_file, ["k-old"], file_current=file_current)


def recorded(target) -> bytes | None:
    path = target.app / loaded.KEYS
    return path.read_bytes() if path.exists() else None


def record_of(key_file: bytes) -> bytes:
    return f"postgrest/jwks.json {hashlib.sha256(key_file).hexdigest()}\n".encode()


def test_a_proven_rotation_records_the_new_key_file(host):  # noqa: F811
    assert rotate(host, NEW) == ""
    assert (host.key_file, host.loaded, recorded(host)) == (NEW, NEW, record_of(NEW))


def test_a_connection_lost_after_the_reload_rolls_back_and_says_so(host, monkeypatch):  # noqa: F811
    def lost(*_args, **_kwargs):
        raise TimeoutError("timed out")

    monkeypatch.setattr(keys, "_prove_read_as_keys", lost)
    outcome = rotate(host, NEW, smoke_token_command="echo smoke-ok")
    assert (host.key_file, host.loaded, recorded(host)) == (OLD, OLD, record_of(OLD))
    assert outcome == ("@local: stopped during the rotation (TimeoutError: timed out); "
                       "rolled back to the previous keys [k-old]")
    assert "smoke_token_command" not in outcome


def test_ctrl_c_rolls_back_then_stops_the_run(host, monkeypatch):  # noqa: F811
    def interrupted(*_args, **_kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(keys, "_prove_read_as_keys", interrupted)
    with pytest.raises(KeyboardInterrupt):
        rotate(host, NEW)
    assert (host.key_file, host.loaded, recorded(host)) == (OLD, OLD, record_of(OLD))


def test_a_rotation_stopped_before_its_reload_is_finished_without_a_rewrite(host):  # noqa: F811
    # What a stopped run leaves: the new file written (old kept as .prev), the old keys
    # loaded, no record.
    (host.app / "postgrest/jwks.json.prev").write_bytes(OLD)
    (host.app / "postgrest/jwks.json").write_bytes(NEW)
    assert rotate(host, NEW, file_current=True) == ""
    assert (host.key_file, host.prev, host.loaded, recorded(host)) == (NEW, OLD, NEW, record_of(NEW))


def test_a_failed_key_proof_is_final_whatever_the_smoke_token_says(host):  # noqa: F811
    outcome = rotate(host, MISREAD, smoke_token_command="echo smoke-ok")
    assert (host.key_file, host.loaded) == (OLD, OLD)
    assert "PostgREST read the key file as a shared secret" in outcome and outcome.endswith(
        "rolled back to the previous keys [k-old]")


def test_a_smoke_command_that_cannot_start_is_named_as_such(host):  # noqa: F811
    outcome = rotate(host, NEW, smoke_token_command="exit 3")
    assert outcome.startswith("@local: smoke_token_command failed (exit 3)")
    assert (host.key_file, host.loaded) == (OLD, OLD)
