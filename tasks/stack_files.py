"""Operations that place the stack's directories and files, atomically and without leaking secrets.

pyinfra's files.put uploads straight onto the destination (readers could see half a
file) and prints both contents under --diff; these upload beside the destination and
rename over it, and show a secret file only as changed.
"""

from __future__ import annotations

import io
import posixpath

from pyinfra import host, logger, state
from pyinfra.api import FileUploadCommand, StringCommand, operation
from pyinfra.api.command import QuoteString
from pyinfra.facts.files import FileContents
from pyinfra.operations.util.files import generate_color_diff


@operation()
def directory(path: str, mode: int, uid: int, gid: int = 0):
    """Create ``path`` (and parents) and set its numeric owner and mode."""
    yield StringCommand("mkdir", "-p", QuoteString(path))
    yield StringCommand("chown", f"{uid}:{gid}", QuoteString(path))
    yield StringCommand("chmod", f"{mode:o}", QuoteString(path))


@operation()
def put(dest: str, content: bytes, mode: int, uid: int, gid: int = 0, secret: bool = False,
        keep_previous: bool = False, exists: bool = True):
    """Upload ``content`` to ``dest`` atomically (staging file + rename in the same directory).

    With ``keep_previous`` the file being replaced stays beside it as ``<dest>.prev``.
    """
    if state.config.DIFF:
        _log_diff(dest, content, secret, exists)
    staging = posixpath.join(posixpath.dirname(dest), f".{posixpath.basename(dest)}.new")
    yield FileUploadCommand(io.BytesIO(content), staging, remote_temp_filename=staging)
    yield StringCommand("chown", f"{uid}:{gid}", QuoteString(staging))
    yield StringCommand("chmod", f"{mode:o}", QuoteString(staging))
    if keep_previous:
        yield StringCommand("if [ -e", QuoteString(dest), "]; then ln -f", QuoteString(dest),
                            QuoteString(f"{dest}.prev"), "; fi")
    yield StringCommand("mv", "-f", QuoteString(staging), QuoteString(dest))


def _log_diff(dest: str, content: bytes, secret: bool, exists: bool) -> None:
    verb = "modify" if exists else "create"
    if secret:
        host.log(f"Will {verb} {dest} (holds secrets: content not shown)", logger.info)
        return
    host.log(f"Will {verb} {dest}", logger.info)
    current = (host.get_fact(FileContents, path=dest) or []) if exists else []
    try:
        desired = content.decode().splitlines(keepends=True)
    except UnicodeDecodeError:
        logger.info("  (binary content)")
        return
    for line in generate_color_diff([line + "\n" for line in current], desired):
        logger.info("  %s", line)
