"""The facts the deploy decides on: a read-only probe of the host and its stack, and the
migrations ledger's rows when the probe's digest of it differs from the folder's."""

from __future__ import annotations

import posixpath
import shlex

from pyinfra.api import FactBase

from postgrest_stack import probe, runs


class StackProbe(FactBase):
    """Init system, Docker/compose, the stack's files, containers, /ready and SQL digest."""

    def command(self, app_dir, stack_name, admin_port, postgrest_version, external=None, images=(), secret_files=(),
                details=False, backups_path=None):
        return probe.command(app_dir, stack_name, admin_port, tuple(external) if external else None,
                             images=tuple(images), secret_files=tuple(secret_files), details=details,
                             postgrest_version=postgrest_version, backups_path=backups_path)

    def process(self, output):
        return probe.parse(list(output))


class LedgerRows(FactBase):
    """The migrations ledger of the database this host applies SQL to: ``(version, sha256, name)``."""

    def command(self, app_dir, stack_name, external=None):
        return probe.ledger_rows_command(app_dir, stack_name, tuple(external) if external else None)

    def process(self, output):
        return probe.parse_ledger_rows(list(output))


class LastRun(FactBase):
    """``last run: TIME user@host SCRIPT RESULT`` from app_dir/audit.log's last line (None: no run recorded)."""

    def command(self, app_dir):
        return f"tail -n 1 {shlex.quote(posixpath.join(app_dir, runs.AUDIT_LOG))} 2>/dev/null || true"

    def process(self, output):
        lines = [line for line in output if line.strip()]
        return runs.last_run(lines[-1]) if lines else None
