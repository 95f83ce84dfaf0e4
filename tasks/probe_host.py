"""Gather the probe fact for a host's settings (shared by deploy.py and rotate_keys.py)."""

from __future__ import annotations

from pyinfra import host

from postgrest_stack.probe import HostState
from postgrest_stack.render import external_conninfo
from postgrest_stack.settings import Settings
from tasks.facts import StackProbe


def probe_host(settings: Settings) -> HostState:
    external = (settings.postgres_image, external_conninfo(settings)) if settings.external_db_uri else None
    return host.get_fact(StackProbe, app_dir=settings.app_dir, stack_name=settings.stack_name,
                         admin_port=settings.postgrest_admin_port, external=external)
