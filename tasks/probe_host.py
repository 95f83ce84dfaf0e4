"""Gather the probe fact for a host's settings (shared by deploy.py and rotate_keys.py)."""

from __future__ import annotations

from pyinfra import host

from postgrest_stack.images import compose_references
from postgrest_stack.probe import HostState
from postgrest_stack.render import SECRET_FILES, external_conninfo
from postgrest_stack.settings import Settings
from tasks.facts import StackProbe


def probe_host(settings: Settings) -> HostState:
    references = compose_references(settings)
    external = (references["db"], external_conninfo(settings)) if settings.external_db_uri else None
    # image_source = controller: also which image the host holds under each reference.
    images = tuple(references.values()) if settings.image_source == "controller" else ()
    return host.get_fact(StackProbe, app_dir=settings.app_dir, stack_name=settings.stack_name,
                         admin_port=settings.postgrest_admin_port, external=external, images=images,
                         secret_files=SECRET_FILES)
