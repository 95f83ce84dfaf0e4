"""The one way the stack's files reach a host: an atomic, sudo-safe put that owns its "no change".

Every file under ``app_dir`` (the rendered files, the key file, a key rollback) is
written by :func:`replace_command`: a staging file beside the destination, created
under ``umask 077`` (0600 from the moment it exists, whatever its final mode), given
its owner and mode, the replaced file optionally kept as ``<dest>.prev`` (hard link),
then renamed over the destination (same directory, so readers see old or new bytes,
never a mix).

The bytes travel on the command's stdin, not by SFTP: with a non-root login and
pyinfra's ``_sudo``, an SFTP upload would land as the login user in a place it may not
write (``app_dir`` is root's 0700), or in /tmp with the login user's umask. Stdin goes
straight into the root-run command, and a secret is never on a command line.

The operations decide "no change" themselves from the probe's entry for their path
(digest, mode, owner), as pyinfra's own ``files.put`` does from its facts: a file that
is already right yields no command. The probe is one remote command for the whole
host, so a no-change rerun still costs exactly one.
"""

from __future__ import annotations

import posixpath
import shlex

from pyinfra import host, logger, state
from pyinfra.api import StringCommand, operation
from pyinfra.api.arguments import CONNECTOR_ARGUMENT_KEYS, pop_global_arguments
from pyinfra.api.host import Host
from pyinfra.facts.files import FileContents
from pyinfra.operations.util.files import generate_color_diff

from postgrest_stack.compare import directory_is_current, file_is_current
from postgrest_stack.probe import PathState


def replace_command(dest: str, *, mode: int, uid: int, gid: int = 0, keep_previous: bool = False,
                    size: int | None = None, source: str | None = None) -> str:
    """Shell that atomically replaces ``dest`` with ``size`` bytes of stdin, or a copy of ``source``."""
    staging = posixpath.join(posixpath.dirname(dest), f".{posixpath.basename(dest)}.new")
    if (size is None) == (source is None):
        raise ValueError("give exactly one of size (bytes on stdin) or source (a path on the host)")
    fill = f"head -c {int(size)}" if size is not None else f"cat {shlex.quote(str(source))}"
    q_staging, q_dest = shlex.quote(staging), shlex.quote(dest)
    steps = [
        "umask 077",
        f"rm -f {q_staging}",  # a leftover would keep its own mode through '>'
        f"{fill} > {q_staging}",
        f"chown {int(uid)}:{int(gid)} {q_staging}",
        f"chmod {mode:o} {q_staging}",
    ]
    if keep_previous:
        steps.append(f"if [ -e {q_dest} ]; then ln -f {q_dest} {shlex.quote(dest + '.prev')}; fi")
    steps.append(f"mv -f {q_staging} {q_dest}")
    return " && ".join(steps)


def directory_command(path: str, *, mode: int, uid: int, gid: int = 0) -> str:
    """Make ``path`` (and parents) with exactly ``mode``: the mode is given with a leading
    ``00`` (``chmod 00700``), since GNU chmod keeps a directory's setuid and setgid bits
    for a plain ``chmod 700``; a directory made in a setgid parent inherits that bit, and
    the probe would read 2700 on every run."""
    q_path = shlex.quote(path)
    return f"mkdir -p {q_path} && chown {int(uid)}:{int(gid)} {q_path} && chmod 0{mode:04o} {q_path}"


def stdin_bytes(content: bytes) -> str:
    """``content`` as pyinfra's stdin (text; a newline is added when missing, and
    ``head -c`` drops it again)."""
    try:
        return content.decode("utf-8")
    except UnicodeDecodeError:
        raise ValueError("only UTF-8 text files are put through stdin") from None


@operation(is_idempotent=True)
def directory(path: str, mode: int, uid: int, gid: int = 0, current: PathState | None = None):
    """Create ``path`` (and parents) with its numeric owner and mode, unless it already is so."""
    if directory_is_current(current, mode, uid, gid):
        host.noop(f"directory {path} is already {mode:o} {uid}:{gid}")
        return
    yield StringCommand(directory_command(path, mode=mode, uid=uid, gid=gid))


@operation(is_idempotent=True)
def put(dest: str, content: bytes, mode: int, uid: int, gid: int = 0, secret: bool = False,
        keep_previous: bool = False, current: PathState | None = None, digest_key: bytes | None = None):
    """Put ``content`` at ``dest`` atomically, unless ``current`` (the probe's entry) shows it is there.

    With ``keep_previous`` the file being replaced stays beside it as ``<dest>.prev``.
    A ``secret`` file is shown under ``--diff`` as changed, never with its content; the
    probe digests it with ``digest_key`` (digests.py).
    """
    if file_is_current(current, content, mode, uid, gid, digest_key=digest_key):
        host.noop(f"file {dest} is up to date")
        return
    if state.config.DIFF:
        _log_diff(dest, content, secret, exists=current is not None)
    yield StringCommand(replace_command(dest, mode=mode, uid=uid, gid=gid, keep_previous=keep_previous,
                                        size=len(content)), _stdin=stdin_bytes(content))


def connector_arguments(target: Host) -> dict:
    """The host's connection arguments (``_sudo`` and the rest, from its data), for
    commands run outside an operation (the key rotation's own steps)."""
    arguments, _found = pop_global_arguments(state, target, {})
    return {key: value for key, value in arguments.items() if key in CONNECTOR_ARGUMENT_KEYS}


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
