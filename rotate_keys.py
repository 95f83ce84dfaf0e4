"""Key rotation: `pyinfra INVENTORY rotate_keys.py`.

Fetches and validates the JWKS once on the controller (an invalid or unreachable one
stops the run before any host is touched). Per host, one at a time: an unchanged key
file means no change and no signal; a different one is written atomically (previous
kept), PostgREST reloaded with SIGUSR2 (no restart, no compose up), /ready awaited and,
with `smoke_token_command`, a fresh token required to get 200. A failing host is
rolled back and no later host is touched.
"""

import posixpath

from pyinfra import host, logger
from pyinfra.api.exceptions import PyinfraError

from postgrest_stack.render import JWKS_FILE

PROVE_KEYS = "bin/prove-keys"
from tasks import controller, rotation
from tasks.probe_host import probe_host

try:
    settings = controller.host_settings(host)
    jwks = controller.jwks_once(settings)
except controller.CONTROLLER_ERRORS as error:
    raise PyinfraError(f"{host.name}: {error}") from None

if not settings.runs_api:
    logger.info(f"{host.print_prefix}no PostgREST on this host (stack_role {settings.stack_role}): nothing to rotate")
else:
    state = probe_host(settings)
    deployed = state.paths.get(JWKS_FILE)
    if deployed is None or state.services.get("postgrest") is None:
        raise PyinfraError(f"{host.name}: no deployed stack at {posixpath.join(settings.app_dir, JWKS_FILE)}; "
                           "run deploy.py first")
    if PROVE_KEYS not in state.paths:
        raise PyinfraError(f"{host.name}: the deployed stack has no {PROVE_KEYS} (it predates the key proof); "
                           "run deploy.py first")
    if deployed.sha256 == jwks.sha256:
        logger.info(f"{host.print_prefix}keys unchanged [{', '.join(jwks.kids)}]")
    else:
        rotation.register(settings, jwks, state.jwks_kids)
