"""Key rotation: `pyinfra INVENTORY rotate_keys.py`.

Fetches and validates the JWKS once on the controller (an invalid or unreachable one
stops the run before any host is touched). Per host, one at a time: a key file that is
current and recorded as loaded and proven (state/jwks.json, loaded.py) means no change
and no signal; a different one is written atomically (previous kept), PostgREST
reloaded with SIGUSR2 (no restart, no compose up), /ready awaited, the key proof run
and, with `smoke_token_command`, a fresh token required to get 200. A key file written
by a rotation that stopped before its proof is reloaded and proven, not rewritten. A
failing host is rolled back and no later host is touched. A host with no deployed
stack fails on its own, with one line; the others rotate.
"""

import posixpath

from pyinfra import host, logger
from pyinfra.api.exceptions import PyinfraError

from postgrest_stack import loaded
from postgrest_stack.layout import JWKS_FILE
from tasks import controller, rotation, runlock
from tasks.refuse import refuse_host

PROVE_KEYS = "bin/prove-keys"

try:
    settings = controller.host_settings(host)
    jwks = controller.jwks_once(settings)
except controller.CONTROLLER_ERRORS as error:
    raise PyinfraError(f"{host.name}: {error}") from None

if not settings.runs_api:
    logger.info(f"{host.print_prefix}no PostgREST on this host (stack_role {settings.stack_role}): nothing to rotate")
else:
    state = runlock.probe_host(settings)  # and the run's lock on this host (tasks/runlock.py)
    deployed = state.paths.get(JWKS_FILE)
    if deployed is None or state.services.get("postgrest") is None:
        refuse_host(rotation.OPERATION, f"{host.name}: no deployed stack at "
                                        f"{posixpath.join(settings.app_dir, JWKS_FILE)}; run deploy.py first")
    elif PROVE_KEYS not in state.paths:
        refuse_host(rotation.OPERATION, f"{host.name}: the deployed stack has no {PROVE_KEYS} (it predates the key "
                                        "proof); run deploy.py first")
    elif deployed.sha256 == jwks.sha256 and loaded.keys_record_is_current(jwks.canonical, state):
        logger.info(f"{host.print_prefix}keys unchanged [{', '.join(jwks.kids)}]")
    else:
        runlock.mark_started(settings)
        rotation.register(settings, jwks, state.jwks_kids, file_current=deployed.sha256 == jwks.sha256)
