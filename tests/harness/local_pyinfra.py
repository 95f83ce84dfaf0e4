"""pyinfra's own API against ``@local``: the project's operations and host steps run for
real, in this process, on a directory of this machine, with no SSH and no Docker.

For the fast tests of what otherwise only an end-to-end deploy shows (the key file's
``.prev`` on every path, a rotation's rollback, what ``--diff`` prints). The commands
are the ones a host runs; what they call (``bin/compose``, ``docker``, ``curl``) the
tests put in place as stand-ins.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from pyinfra.api import Config, Inventory, State
from pyinfra.api.connect import connect_all, disconnect_all
from pyinfra.api.deploy import add_deploy
from pyinfra.api.host import Host
from pyinfra.api.operations import run_ops
from pyinfra.context import ctx_host, ctx_state


@contextmanager
def local_host(*, diff: bool = False) -> Iterator[tuple[State, Host]]:
    """A connected pyinfra state whose one host is ``@local`` (``diff``: as with ``--diff``)."""
    inventory = Inventory((["@local"], {}))
    state = State(inventory, Config(DIFF=diff))
    connect_all(state)
    try:
        yield state, inventory.get_host("@local")
    finally:
        disconnect_all(state)


def run_deploy(state: State, deploy_function, *args, **kwargs) -> None:
    """Add a ``@deploy`` function's operations, as deploy.py does, then run them; raise if one failed."""
    add_deploy(state, deploy_function, *args, **kwargs)
    run_ops(state)
    failed = [host.name for host in state.inventory if state.results[host].error_ops]
    assert not failed, f"operations failed on {failed}"


@contextmanager
def in_context(state: State, host: Host) -> Iterator[None]:
    """Where pyinfra runs a python.call callback: this state and host are the current ones."""
    with ctx_state.use(state), ctx_host.use(host):
        yield


# --- Shell helpers for the stand-ins of what a host's scripts call -----------------------
# A stand-in script is "#!/bin/sh\n" + one or more of these + its own case on "$@".

#: ``curl_answer CODE DESCRIPTION "$@"``: print what curl prints, given its own arguments,
#: for a response with status CODE: the header lines when asked with ``-D -`` (for a 401
#: with a DESCRIPTION, ``WWW-Authenticate`` carrying it as PostgREST's error_description),
#: then the ``-w`` format with ``%{http_code}`` filled in (``\n`` as a newline). CODE 000:
#: no answer (no headers; curl's exit status 28, as for its timeout).
CURL_ANSWER = r"""
curl_answer() {
  _code=$1 _description=$2; shift 2
  _format= _dump= _previous=
  for _arg in "$@"; do
    case "$_previous" in -w) _format=$_arg ;; -D) _dump=$_arg ;; esac
    _previous=$_arg
  done
  if [ "$_code" != 000 ] && [ "$_dump" = - ]; then
    printf 'HTTP/1.1 %s Stand-in\r\n' "$_code"
    [ -n "$_description" ] &&
      printf 'WWW-Authenticate: Bearer error="invalid_token", error_description="%s"\r\n' "$_description"
    [ "$_code" = 401 ] && [ -z "$_description" ] && printf 'WWW-Authenticate: Bearer\r\n'
    printf '\r\n'
  fi
  printf "$(printf '%s' "$_format" | sed "s/%{http_code}/$_code/g")"
  [ "$_code" = 000 ] && exit 28
  return 0
}
"""

#: ``docker_kill_signal "$@"`` (the arguments of ``docker kill``): the signal it sends, as
#: docker reads ``-s``/``--signal`` (with or without ``SIG``, or a number; none: KILL), in
#: upper case without ``SIG``: USR2, USR1, KILL, ... PostgREST re-reads its config and the
#: key file on USR2 only; USR1 reloads its schema cache only; KILL and the others end it.
DOCKER_KILL_SIGNAL = r"""
docker_kill_signal() {
  _signal=KILL _previous=
  for _arg in "$@"; do
    case "$_previous" in -s|--signal) _signal=$_arg ;; esac
    case "$_arg" in --signal=*) _signal=${_arg#--signal=} ;; -s?*) _signal=${_arg#-s} ;; esac
    _previous=$_arg
  done
  _signal=$(printf '%s' "$_signal" | tr '[:lower:]' '[:upper:]')
  _signal=${_signal#SIG}
  case "$_signal" in 10) _signal=USR1 ;; 12) _signal=USR2 ;; 9) _signal=KILL ;; 15) _signal=TERM ;; esac
  echo "$_signal"
}
"""


def stand_ins(directory: Path, scripts: dict[str, str]) -> Path:
    """Write each stand-in command (name -> script text) into ``directory``, executable,
    and return it, to put first on PATH."""
    directory.mkdir(parents=True, exist_ok=True)
    for name, text in scripts.items():
        (directory / name).write_text(text)
        (directory / name).chmod(0o755)
    return directory
