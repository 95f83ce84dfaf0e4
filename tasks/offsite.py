"""Copying a verified backup off the db host (helper B2's module; a stub in this branch).

The real module copies ``<backups_path>/NAME`` to ``backup_offsite`` and prunes there;
this stand-in only keeps the interface backup.py calls, so the lead takes B2's at merge.
"""

from __future__ import annotations

from postgrest_stack.settings import Settings


def copy_offsite(settings: Settings, name: str) -> None:
    """Copy the verified backup ``name`` of this host to ``settings.backup_offsite`` (stub: nothing)."""
    del settings, name
