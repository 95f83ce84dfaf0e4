"""Fail one host of a run with one line, leaving the others to go on.

A ``PyinfraError`` raised while a deploy file is being prepared stops the whole run;
a refusal that concerns one host only (its app_dir holds someone else's files, it has
no stack to rotate) is an operation that fails that host alone.
"""

from __future__ import annotations

from pyinfra import logger
from pyinfra.operations import python


def refuse_host(name: str, reason: str) -> None:
    """Add an operation named ``name`` that fails this host with ``reason``."""
    def fail(state, host) -> bool:  # noqa: ARG001 - pyinfra passes both by name
        host.log_styled(reason, fg="red", log_func=logger.error)
        return False

    python.call(name=name, function=fail)
