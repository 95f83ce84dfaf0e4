"""Verified backups off the db host (``backup_offsite``), and back again for a restore.

Two operations, each one ``python.call`` whose function runs when the operation runs
(so after the backup operation before it on the same host), moving files through the
controller with pyinfra's ``get_file`` / ``put_file``:

- :func:`copy_offsite` (backup.py, after the backup): ``<backups_path>/<NAME>/`` of this
  host goes to ``controller:PATH`` (``<PATH>/<NAME>/`` on the controller) or to
  ``group:NAME`` (``<backups_path>/<NAME>/`` of each host of that group, through a
  private temporary folder on the controller: the hosts need no keys to each other).
  Each place receives ``<NAME>.partial``, checks it against its SHA256SUMS, renames it
  to ``<NAME>``, and only then prunes to ``backup_keep`` verified backups of this stack
  (the ``stack=`` of their ``info``: a place shared by stacks never prunes another's). Anything that
  fails (a group host left out, unreachable, a bad copy) fails this host's operation
  with one line, so the run fails and ``alert_command`` fires (tasks/alerting.py).
- :func:`fetch_offsite` (restore.py): NAME, or "latest", to this host's backups_path;
  nothing is fetched when it is verified there already. A copy that does not match its
  manifest is refused with one line naming the file, and the host keeps nothing of it.
  The name chosen is known only when the operation runs: it is on the returned
  :class:`Fetched` (``.name``), also kept in the run's state (``run.of(state).fetched``).

Sudo (the fleet's ``deploy`` login with ``_sudo``): backups are root's (0700 folders,
0600 files). pyinfra's sudo download copies the file to a temporary file, ``chmod +r``,
and its sudo upload lands first in a temporary file of the login user; both default to
``/tmp``, where another user could read a database dump. Every transfer here therefore
names its temporary file inside a fresh ``mktemp -d`` folder of the login user (0700),
removed afterwards. On the controller the files are written 0600 in 0700 folders.

Checked before any host is touched (at preparation): backup_offsite parses, a group
exists and each of its hosts is in this run (not left out by --limit) with stack_role
"backup", and a controller PATH is not the project itself (:func:`postgrest_stack.backups.controller_folder`).
"""

from __future__ import annotations

import os
import posixpath
import shlex
import shutil
import subprocess
import tempfile
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator, Protocol

from pyinfra import host as current_host
from pyinfra import logger
from pyinfra import state as current_state
from pyinfra.api import StringCommand
from pyinfra.api.exceptions import PyinfraError
from pyinfra.api.host import Host
from pyinfra.api.state import State
from pyinfra.operations import python

from postgrest_stack import backups, project_root
from postgrest_stack.settings import Settings, SettingsError
from tasks import controller, files, run

COPY_OPERATION = "Copy the backup off the host"
FETCH_OPERATION = "Fetch the backup to restore"
#: Where a sudo transfer's private temporary folder is made on a host (disk-backed, unlike a tmpfs /tmp).
HOST_STAGING_PARENT = "/var/tmp"
_SUDO_KEYS = ("_sudo", "_su_", "_use_sudo", "_use_su", "_preserve_", "_doas", "_dzdo")


class Named(Protocol):
    name: str | None


@dataclass
class Fetched:
    """What :func:`fetch_offsite` chose. ``name`` is None until its operation has run on
    the host; then the backup ``<backups_path>/<name>`` is verified on that host.
    ``copied``: it was brought from the offsite place (False: it was there already)."""

    wanted: str
    name: str | None = None
    copied: bool = False


@dataclass(frozen=True)
class Place:
    """A checked backup_offsite: a controller ``folder``, or the ``hosts`` of a group."""

    offsite: backups.Offsite
    folder: Path | None = None
    hosts: tuple[Host, ...] = ()


# --- Preparation: checked before any host is touched -----------------------------------


def _tracked_files(root: Path) -> list[str]:
    """The project's files git tracks (none when it is no git checkout)."""
    try:
        done = subprocess.run(["git", "-C", str(root), "ls-files", "-z"], capture_output=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired):
        return []
    return [f for f in done.stdout.decode(errors="replace").split("\0") if f] if done.returncode == 0 else []


def place_of(settings: Settings, state: State, this: Host | None = None) -> Place:
    """backup_offsite of ``settings``, checked; raises SettingsError with one line."""
    if not settings.backup_offsite:
        raise SettingsError("setting 'backup_offsite' is not set: there is no offsite place to copy to or fetch from")
    try:
        offsite = backups.parse_offsite(settings.backup_offsite)
        if offsite.kind == "controller":
            root = project_root()
            return Place(offsite, folder=backups.controller_folder(offsite.where, root, _tracked_files(root)))
    except backups.BackupError as error:
        raise SettingsError(str(error)) from None
    groups = {name: members for name, members in state.inventory.groups.items() if members}
    members = groups.get(offsite.where)
    if not members:
        known = ", ".join(sorted(groups)) or "none"
        raise SettingsError(f"setting 'backup_offsite' ({offsite}): the inventory has no group {offsite.where!r} with "
                            f"hosts (groups: {known})")
    for target in members:
        if this is not None and target.name == this.name:
            raise SettingsError(f"setting 'backup_offsite' ({offsite}): {target.name} is in that group itself; "
                                "backups must leave the host")
        if not state.is_host_in_limit(target):
            raise SettingsError(f"setting 'backup_offsite' ({offsite}): host {target.name} of that group is left out "
                                "of this run (--limit); include it")
        role = controller.host_settings(target).stack_role
        if role != "backup":
            raise SettingsError(f"setting 'backup_offsite' ({offsite}): host {target.name} has stack_role {role!r}, "
                                "not 'backup' (put it in group_data with stack_role = \"backup\")")
    return Place(offsite, hosts=tuple(members))


def _checked_place(settings: Settings) -> Place:
    try:
        return place_of(settings, current_state, current_host)
    except controller.CONTROLLER_ERRORS as error:
        raise PyinfraError(f"{current_host.name}: {error}") from None


def _name_of(name: str | Named) -> str:
    chosen = name if isinstance(name, str) else name.name
    if not chosen or not backups.is_name(chosen):
        raise ValueError(f"not a backup name: {chosen!r}")
    return chosen


def copy_offsite(settings: Settings, name: str | Named) -> None:
    """Register, on this db host, the copy of its verified backup ``name`` (a NAME, or an
    object whose ``.name`` holds it once earlier operations ran) to backup_offsite, and the
    pruning there to backup_keep. Without backup_offsite: one info line, no operation.
    A backup_offsite that cannot work stops the run here, before any host is touched."""
    if not settings.backup_offsite:
        logger.info(f"{current_host.print_prefix}backup_offsite is not set: the backup stays on this host only")
        return
    place = _checked_place(settings)
    if isinstance(name, str):
        _name_of(name)
    python.call(name=f"{COPY_OPERATION} ({place.offsite})", function=_copy, settings=settings, place=place,
                backup=name)


def fetch_offsite(settings: Settings, wanted: str) -> Fetched:
    """Register, on this host, bringing backup ``wanted`` (a NAME or "latest") to its
    backups_path. Returns a :class:`Fetched` whose ``.name`` is filled when the operation
    runs (read it in a later operation's function, never while preparing); the same object
    is ``run.of(state).fetched[host.name]``. Without backup_offsite only this host's own
    backups are looked at."""
    if wanted != "latest" and not backups.is_name(wanted):
        raise PyinfraError(f"{current_host.name}: {wanted!r} is no backup name (YYYYMMDDTHHMMSSZ[-label]) nor 'latest'")
    place = _checked_place(settings) if settings.backup_offsite else None
    fetched = Fetched(wanted)
    run.of(current_state).fetched[current_host.name] = fetched
    python.call(name=f"{FETCH_OPERATION} ({wanted})", function=_fetch, settings=settings, place=place,
                fetched=fetched)
    return fetched


# --- Moving files ------------------------------------------------------------------------


def _arguments(target: Host) -> tuple[dict, dict]:
    """(the host's connector arguments, the same without sudo/su/doas: as the login user)."""
    arguments = files.connector_arguments(target)
    return arguments, {k: v for k, v in arguments.items() if not k.startswith(_SUDO_KEYS)}


def _shell(target: Host, command: str, login_user: bool = False) -> tuple[bool, str, str]:
    """Run ``command`` on ``target`` (as root through its sudo; ``login_user``: without):
    (ok, stdout, last stderr line)."""
    arguments, plain = _arguments(target)
    ok, output = target.run_shell_command(StringCommand(command), print_output=False,
                                          **(plain if login_user else arguments))
    errors = [line for line in output.stderr_lines if line.strip()]
    return ok, "\n".join(output.stdout_lines), errors[-1] if errors else ""


class TransferError(Exception):
    """One line: what could not be moved."""


@contextmanager
def _staging(target: Host) -> Iterator[str | None]:
    """A fresh 0700 folder of the login user for pyinfra's sudo transfers; None without sudo."""
    arguments, plain = _arguments(target)
    if arguments == plain:
        yield None
        return
    ok, out, err = _shell(target, f"mktemp -d {HOST_STAGING_PARENT}/postgrest-offsite.XXXXXXXXXX", login_user=True)
    folder = out.strip()
    if not ok or not folder.startswith(f"{HOST_STAGING_PARENT}/postgrest-offsite."):
        raise TransferError(f"{target.name}: could not make a private staging folder: {err or out}")
    try:
        yield folder
    finally:
        _shell(target, f"rm -rf {shlex.quote(folder)}")


def _private_file(path: Path):
    return os.fdopen(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "wb")


def _make_private_dirs(folder: Path) -> None:
    """``folder`` and its missing parents, each made 0700 (an existing one is left as it is)."""
    missing = []
    for candidate in (folder, *folder.parents):
        if candidate.exists():
            break
        missing.append(candidate)
    for candidate in reversed(missing):
        candidate.mkdir(mode=0o700)
        os.chmod(candidate, 0o700)


def _download(source: Host, remote_folder: str, local_folder: Path) -> None:
    """The backup files of ``remote_folder`` on ``source`` into ``local_folder`` (made 0700, files 0600)."""
    _make_private_dirs(local_folder)
    arguments, _plain = _arguments(source)
    with _staging(source) as staging:
        for name in backups.FILES:
            remote = posixpath.join(remote_folder, name)
            temp = {"remote_temp_filename": posixpath.join(staging, name)} if staging else {}
            try:
                with _private_file(local_folder / name) as stream:
                    ok = source.get_file(remote, stream, **temp, **arguments)
            except OSError as error:  # SFTP: no such file, permission denied
                raise TransferError(f"{source.name}: could not download {remote}: {error}") from None
            if not ok:
                raise TransferError(f"{source.name}: could not download {remote}")


def _upload(target: Host, local_folder: Path, backups_path: str, name: str) -> None:
    """``local_folder``'s backup files to ``<backups_path>/<name>`` on ``target``: into
    ``<name>.partial`` (0700 root, files 0600), checked with its manifest there, renamed.
    A bad copy is removed and raises TransferError naming the file."""
    q_root = shlex.quote(backups_path)
    partial = posixpath.join(backups_path, name + backups.PARTIAL)
    final = posixpath.join(backups_path, name)
    q_partial, q_final = shlex.quote(partial), shlex.quote(final)
    ok, _out, err = _shell(target, f"umask 077 && mkdir -p {q_root} && chown 0:0 {q_root} && chmod 0700 {q_root} "
                                   f"&& rm -rf {q_partial} && mkdir {q_partial}")
    if not ok:
        raise TransferError(f"{target.name}: could not make {partial}: {err}")
    arguments, _plain = _arguments(target)
    try:
        with _staging(target) as staging:
            for file_name in backups.FILES:
                remote = posixpath.join(partial, file_name)
                temp = {"remote_temp_filename": posixpath.join(staging, file_name)} if staging else {}
                try:
                    ok = target.put_file(str(local_folder / file_name), remote, **temp, **arguments)
                except OSError as error:
                    raise TransferError(f"{target.name}: could not upload {remote}: {error}") from None
                if not ok:
                    raise TransferError(f"{target.name}: could not upload {remote}")
        members = " ".join(shlex.quote(posixpath.join(partial, f)) for f in backups.FILES)
        ok, _out, err = _shell(target, f"chown 0:0 {q_partial} {members} && chmod 0700 {q_partial} && "
                                       f"chmod 0600 {members} && ( {backups.check_shell(partial)} ) && "
                                       f"rm -rf {q_final} && mv {q_partial} {q_final}")
        if not ok:
            raise TransferError(f"{target.name}: {err or 'the copy could not be checked'}")
    except BaseException:
        _shell(target, f"rm -rf {q_partial}")
        raise


def _host_entries(target: Host, backups_path: str) -> list[tuple[str, str | None]]:
    """(name, its info's stack) of each verified backup at ``backups_path`` on ``target``
    (none when it is missing), oldest first."""
    q_root = shlex.quote(backups_path)
    ok, out, err = _shell(target, f"[ -d {q_root} ] || exit 0; cd {q_root} && for d in *; do "
                                  f"[ -f \"$d/{backups.MANIFEST}\" ] || continue; "
                                  "printf '%s %s\\n' \"$d\" \"$(sed -n 's/^stack=\\([^ ]*\\).*/\\1/p' \"$d/info\" 2>/dev/null "
                                  "| head -n 1)\"; done; true")
    if not ok:
        raise TransferError(f"{target.name}: could not list {backups_path}: {err}")
    found = {}
    for line in out.splitlines():
        name, _sep, stack = line.strip().partition(" ")
        if backups.is_name(name):
            found[name] = stack.strip() or None
    return sorted(found.items())


def _host_backups(target: Host, backups_path: str) -> list[str]:
    """The verified backups at ``backups_path`` on ``target``, oldest first."""
    return [name for name, _stack in _host_entries(target, backups_path)]


def _prune_host(target: Host, backups_path: str, stack: str, keep: int) -> list[str]:
    doomed = backups.to_prune_of_stack(_host_entries(target, backups_path), stack, keep)
    if doomed:
        paths = " ".join(shlex.quote(posixpath.join(backups_path, n)) for n in doomed)
        ok, _out, err = _shell(target, f"rm -rf {paths}")
        if not ok:
            raise TransferError(f"{target.name}: could not prune {backups_path}: {err}")
    return doomed


def _controller_backups(folder: Path) -> list[str]:
    if not folder.is_dir():
        return []
    return backups.verified((entry.name, (entry / backups.MANIFEST).is_file()) for entry in folder.iterdir()
                            if entry.is_dir())


def _prune_controller(folder: Path, stack: str, keep: int) -> list[str]:
    def stack_of(name: str) -> str | None:
        try:
            return backups.stack_of((folder / name / "info").read_text(encoding="utf-8", errors="replace"))
        except OSError:
            return None

    doomed = backups.to_prune_of_stack([(n, stack_of(n)) for n in _controller_backups(folder)], stack, keep)
    for name in doomed:
        shutil.rmtree(folder / name)
    return doomed


def _usable(state: State, target: Host) -> str | None:
    """None when the run can use ``target``'s connection; else why not."""
    if not state.is_host_in_limit(target):
        return "is left out of this run (--limit)"
    if target in state.failed_hosts or target not in state.activated_hosts or not target.connected:
        return "could not be reached"
    return None


@contextmanager
def _controller_temp() -> Iterator[Path]:
    folder = Path(tempfile.mkdtemp(prefix="postgrest-offsite-"))  # 0700
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _fail(host: Host, line: str) -> bool:
    host.log_styled(line, fg="red", log_func=logger.error)
    return False


def _pruned_text(pruned: list[str]) -> str:
    return f", pruned {', '.join(pruned)}" if pruned else ""


# --- The operations' functions (run when the operation runs) -----------------------------


def _copy(state: State, host: Host, settings: Settings, place: Place, backup: str | Named) -> bool:
    try:
        name = _name_of(backup)
    except ValueError as error:
        return _fail(host, f"backup not copied off the host: {error}")
    source = posixpath.join(settings.backups_path, name)
    try:
        if place.folder is not None:
            folder = place.folder
            _make_private_dirs(folder)
            partial = folder / (name + backups.PARTIAL)
            shutil.rmtree(partial, ignore_errors=True)
            try:
                _download(host, source, partial)
                bad = backups.check_folder(partial, shown=f"{host.name}:{source}")
                if bad:
                    raise TransferError(bad)
                shutil.rmtree(folder / name, ignore_errors=True)
                partial.rename(folder / name)
            finally:
                shutil.rmtree(partial, ignore_errors=True)
            pruned = _prune_controller(folder, settings.stack_name, settings.backup_keep)
            host.log(f"backup {name} copied to the controller's {folder}{_pruned_text(pruned)}", logger.info)
            return True
        for target in place.hosts:  # all of them usable before any copy starts
            why = _usable(state, target)
            if why:
                raise TransferError(f"backup {name} not copied off the host: {place.offsite} host {target.name} {why}")
        with _controller_temp() as temp:
            _download(host, source, temp / name)
            bad = backups.check_folder(temp / name, shown=f"{host.name}:{source}")
            if bad:
                raise TransferError(bad)
            for target in place.hosts:
                target_path = controller.host_settings(target).backups_path
                _upload(target, temp / name, target_path, name)
                pruned = _prune_host(target, target_path, settings.stack_name, settings.backup_keep)
                host.log(f"backup {name} copied to {target.name}:{target_path}{_pruned_text(pruned)}", logger.info)
        return True
    except (TransferError, OSError, SettingsError) as error:
        return _fail(host, f"backup {name} not copied off the host: {error}")
    except Exception as error:  # noqa: BLE001 - an SSH error mid-copy: still one line, the run fails
        return _fail(host, f"backup {name} not copied off the host: {type(error).__name__}: {error}")


def _fetch(state: State, host: Host, settings: Settings, place: Place | None, fetched: Fetched) -> bool:
    wanted = fetched.wanted
    here = settings.backups_path
    try:
        local = _host_backups(host, here)
        if wanted in local:
            fetched.name = wanted
            host.log(f"backup {wanted} is already verified at {here}: nothing fetched", logger.info)
            return True
        # Where each backup can be had, in order of preference: here, then the offsite place.
        offered: dict[str, list[Host | Path]] = {}
        unreachable = []
        if place is not None and place.folder is not None:
            for found in _controller_backups(place.folder):
                offered.setdefault(found, []).append(place.folder)
        elif place is not None:
            for target in place.hosts:
                why = _usable(state, target)
                if why:
                    unreachable.append(f"{target.name} {why}")
                    continue
                for found in _host_backups(target, controller.host_settings(target).backups_path):
                    offered.setdefault(found, []).append(target)
        name = backups.choose_latest([*local, *offered]) if wanted == "latest" else wanted
        where = f" nor at backup_offsite {place.offsite}" if place else " (backup_offsite is not set)"
        gone = f" ({'; '.join(unreachable)})" if unreachable else ""
        if name is None:
            return _fail(host, f"no verified backup to restore: none at {here}{where}{gone}")
        if name in local:
            fetched.name = name
            host.log(f"backup {name} (latest) is already verified at {here}: nothing fetched", logger.info)
            return True
        if name not in offered:
            return _fail(host, f"backup {name} is neither at {here}{where}{gone}")
        source = offered[name][0]
        if isinstance(source, Path):
            bad = backups.check_folder(source / name, shown=f"controller:{source / name}")
            if bad:
                return _fail(host, f"backup {name} refused: {bad}")
            _upload(host, source / name, here, name)
        else:
            remote = posixpath.join(controller.host_settings(source).backups_path, name)
            with _controller_temp() as temp:
                _download(source, remote, temp / name)
                bad = backups.check_folder(temp / name, shown=f"{source.name}:{remote}")
                if bad:
                    return _fail(host, f"backup {name} refused: {bad}")
                _upload(host, temp / name, here, name)
        fetched.name, fetched.copied = name, True
        shown = f"controller:{source}" if isinstance(source, Path) else source.name
        host.log(f"backup {name} fetched from {shown} to {here}, verified", logger.info)
        return True
    except (TransferError, OSError, SettingsError) as error:
        return _fail(host, f"backup {wanted} not fetched: {error}")
    except Exception as error:  # noqa: BLE001 - an SSH error mid-copy: still one line, the run fails
        return _fail(host, f"backup {wanted} not fetched: {type(error).__name__}: {error}")
