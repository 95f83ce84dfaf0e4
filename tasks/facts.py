"""The facts the deploy decides on: a read-only probe of the host and its stack, and the
migrations ledger's rows when the probe's digest of it differs from the folder's."""

from __future__ import annotations

from pyinfra.api import FactBase

from postgrest_stack import probe


class StackProbe(FactBase):
    """Init system, Docker/compose, the stack's files, containers, /ready and SQL digest."""

    def command(self, app_dir, stack_name, admin_port, postgrest_version, external=None, images=(), secret_files=(),
                details=False):
        return probe.command(app_dir, stack_name, admin_port, tuple(external) if external else None,
                             images=tuple(images), secret_files=tuple(secret_files), details=details,
                             postgrest_version=postgrest_version)

    def process(self, output):
        return probe.parse(list(output))


class LedgerRows(FactBase):
    """The migrations ledger of the database this host applies SQL to: ``(version, sha256, name)``."""

    def command(self, app_dir, stack_name, external=None):
        return probe.ledger_rows_command(app_dir, stack_name, tuple(external) if external else None)

    def process(self, output):
        return probe.parse_ledger_rows(list(output))
