"""A host whose PostgREST never becomes ready fails its deploy with one line and the logs."""

from __future__ import annotations

import io
import tarfile

import pytest

from tests.e2e.harness import Target

BROKEN_TAG = "postgrest/postgrest:v12.0.2-broken-e2e"
# Stands in for a PostgREST build that dies at start: same path, same uid, exits 1.
FAKE_POSTGREST = b"#!/bin/sh\necho 'simulated start-up failure: cannot load config' >&2\nexit 1\n"


@pytest.fixture(scope="module")
def broken_image(docker_engine):
    context = io.BytesIO()
    with tarfile.open(fileobj=context, mode="w") as tar:
        for name, data, mode in (
            ("Dockerfile", b"FROM postgres:15.14-bookworm\nCOPY postgrest /bin/postgrest\nUSER 1000\n", 0o644),
            ("postgrest", FAKE_POSTGREST, 0o755),
        ):
            info = tarfile.TarInfo(name)
            info.size, info.mode = len(data), mode
            tar.addfile(info, io.BytesIO(data))
    context.seek(0)
    docker_engine.images.build(fileobj=context, custom_context=True, tag=BROKEN_TAG, rm=True)
    yield BROKEN_TAG
    docker_engine.images.remove(BROKEN_TAG, force=True)


@pytest.fixture
def target(jwks_endpoint):
    t = Target.create("gate", jwks_endpoint.url)
    yield t
    t.destroy()


def test_failed_gate_fails_the_host_with_reason_and_logs(target, broken_image):
    run = target.deploy(postgrest_image=broken_image, health_timeout=8)
    assert run.returncode != 0
    reasons = [line for line in run.output.splitlines() if "health gate:" in line]
    assert len(reasons) == 1 and "PostgREST /ready not 200 within 8 s" in reasons[0], run.output[-3000:]
    assert "simulated start-up failure" in run.output
    assert "Health gate" in run.output
