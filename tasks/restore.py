"""restore.py's steps on hosts: bin/restore on the db host, then on every api host a
schema cache reload (then the health gate with the key proof, as after a deploy).

The backup's name is known only when the run executes (``latest`` is resolved on the
host, after it was fetched from the offsite place): the db host's step is a
``python.call`` that reads it then and runs ``bin/restore NAME`` as the host's other
commands run (``_sudo`` and the rest from its data).
"""

from __future__ import annotations

from pyinfra import logger
from pyinfra.api import StringCommand
from pyinfra.api.host import Host
from pyinfra.api.state import State
from pyinfra.operations import python, server

from postgrest_stack.layout import host_script
from postgrest_stack.settings import Settings
from tasks import files
from tasks.stack import operator

RESTORE_OPERATION = "Restore the database (bin/restore)"
RELOAD_OPERATION = "Reload PostgREST's schema cache (SIGUSR1)"


def restore_database(settings: Settings, fetched) -> None:
    """``fetched``: tasks/offsite.py's answer, whose ``.name`` is set once its operations ran."""
    python.call(name=RESTORE_OPERATION, function=_restore, settings=settings, fetched=fetched, who=operator())


def _restore(state: State, host: Host, settings: Settings, fetched, who: str) -> bool:  # noqa: ARG001
    name = getattr(fetched, "name", None)
    if not name:
        host.log_styled(f"{host.name}: no backup to restore was found; nothing changed", fg="red",
                        log_func=logger.error)
        return False
    ok, output = host.run_shell_command(StringCommand(host_script(settings.app_dir, "restore", name, who)),
                                        **files.connector_arguments(host))
    for line in output.stdout_lines:
        if line.strip():
            logger.info(f"{host.print_prefix}{line}")
    if ok:
        return True
    written = [line for line in output.stderr_lines if line.strip()]
    for line in written[:-1]:
        logger.warning(f"{host.print_prefix}{line}")
    host.log_styled(written[-1] if written else f"{host.name}: bin/restore {name} failed without a message",
                    fg="red", log_func=logger.error)
    return False


def reload_schema_cache(settings: Settings) -> None:
    """An api host after the restore: its schema cache describes the dropped database.
    (restore.py then runs the health gate and the key proof, tasks/stack.py's.)"""
    server.shell(name=RELOAD_OPERATION,
                 commands=[host_script(settings.app_dir, "compose", "kill", "-s", "SIGUSR1", "postgrest")])
