"""The main job: `pyinfra INVENTORY deploy.py`.

Per host: Docker when missing, the rendered files and the validated JWKS, then only the
actions that follow from what changed (compose up, SQL, reload, key rotation), and a
health gate. Settings (a key that is no setting is refused), secrets and the JWKS are
checked on the controller before any host is touched.
"""

from pyinfra import host
from pyinfra.api.exceptions import PyinfraError

from postgrest_stack import plan as planning
from postgrest_stack import render
from tasks import controller, rotation
from tasks.docker import ensure_docker
from tasks.images import image_ids, load_images
from tasks.probe_host import probe_host
from tasks.stack import apply_stack, health_gate

try:
    settings, secrets = controller.host_settings_and_secrets(host)
    jwks = controller.jwks_once(settings)
    files = planning.with_jwks(render.render(settings, secrets), jwks.canonical)
    carried = controller.images_once(settings)  # image_source = controller: exported here, once per run
except controller.CONTROLLER_ERRORS as error:
    raise PyinfraError(f"{host.name}: {error}") from None

state = probe_host(settings)
plan = planning.make_plan(files, state, image_ids(carried))
ensure_docker(settings, state, install=plan.install_docker, start=plan.start_docker)
load_images(carried, plan.load_images)
apply_stack(settings, files, state, plan)
if plan.rotate_keys:
    rotation.register(settings, jwks, state.jwks_kids)
if plan.gate:
    health_gate(settings, jwks.canonical)
