"""Load each host's settings exactly as ``pyinfra INVENTORY ...`` would see them, and
say where each key came from.

Uses pyinfra's own inventory loader (inventory file + ``group_data/*.py`` + ``--data``)
so that ``render``, ``settings`` and ``token`` read the same values a deploy does.

pyinfra merges a host's data from layers (``pyinfra.api.host.HostData``), highest
first: values a deploy script sets, ``--data`` (the inventory's override data), the
host's own data in the inventory file, its groups' data (each group's data from the
inventory file merged with ``group_data/<group>.py``) and the ``all`` data
(``group_data/all.py``). :func:`origin_finder` walks the same layers to name where a
key came from, for the message that refuses an unknown key.

It drives pyinfra's internals, so it lives with the other pyinfra code in ``tasks/``
(the deploy and the command line both read it), not in the pure core (``postgrest_stack``).
"""

from __future__ import annotations

import ast
import os
import sys
import warnings
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, Callable, Iterable

from postgrest_stack import project_root
from postgrest_stack.settings import RunnerKeys, SettingsError

Origin = Callable[[str], str]


#: Keys pyinfra's connectors put into (or read from) host data outside their data_meta:
#: chroot.py and dockerssh.py (make_names_data, connect) in pyinfra 3.10; a unit test
#: checks each still appears in pyinfra's source.
CONNECTOR_HOST_KEYS = ("chroot_directory", "docker_image", "docker_container_id")


@lru_cache(maxsize=4)
def pyinfra_keys(run_parameters: tuple[str, ...] = ()) -> RunnerKeys:
    """Data keys pyinfra itself reads: its global arguments (``_sudo``, ``_su_user``, ...)
    and every installed connector's data (``ssh_*``, ``docker_*``, ...), with the type
    pyinfra declares for each (``_sudo``: bool, ``ssh_port``: int) so that a value of
    another type is refused before a run (settings.RunnerKeys); plus ``run_parameters``,
    the --data keys of one script's run (restore.py's), of no fixed type."""
    from typing import get_type_hints

    from pyinfra.api.arguments import all_global_arguments
    from pyinfra.api.connectors import get_all_connectors

    types: dict[str, Any] = {name: None for name in CONNECTOR_HOST_KEYS}
    for connector in get_all_connectors().values():
        hints = get_type_hints(connector.data_cls)
        types.update({name: hints.get(name) for name in connector.data_meta})
        types.update(hints)
    types.update(dict(all_global_arguments()))
    types.update({name: None for name in run_parameters})
    return RunnerKeys(types)


def parse_data_args(pairs: list[str]) -> dict[str, Any]:
    """``key=value`` strings, parsed the way ``pyinfra --data`` parses them."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from pyinfra_cli.util import parse_cli_arg

    data = {}
    for pair in pairs:
        if "=" not in pair:
            raise SettingsError(f"--data {pair!r}: expected key=value")
        key, value = pair.split("=", 1)
        data[key] = parse_cli_arg(value)
    return data


@dataclass
class LoadedHost:
    """One inventory host: its effective data and where each key of it came from."""

    name: str
    data: dict[str, Any]
    origin: Origin


def read_inventory(inventory_file: str, override_data: dict[str, Any]):
    """pyinfra's inventory of ``inventory_file`` (group_data and ``--data`` applied), as
    ``pyinfra INVENTORY ...`` reads it; call within a pyinfra state. A missing file, or
    one (or a group_data file) that does not load, is one line."""
    with warnings.catch_warnings():
        # pyinfra_cli monkey-patches the stdlib for gevent on import; nothing here uses
        # the network, so its warning about late patching is noise.
        warnings.simplefilter("ignore")
        from pyinfra_cli.inventory import make_inventory_from_files

    if not Path(inventory_file).is_file():
        raise SettingsError(f"{inventory_file}: no such inventory file")
    try:
        return make_inventory_from_files(inventory_file, override_data, cwd=str(project_root()))
    except SyntaxError as error:
        raise SettingsError(f"{error.filename or inventory_file}:{error.lineno}: not valid Python: {error.msg}") from None
    except Exception as error:  # pyinfra's inventory errors, a group_data file that raises
        raise SettingsError(f"{inventory_file}: the inventory does not load: {error.__class__.__name__}: "
                            f"{error}") from None


def load_hosts(inventory_file: str, override_data: dict[str, Any]) -> list[LoadedHost]:
    """Every host of the inventory, in inventory order."""
    from pyinfra.api import State
    from pyinfra.context import ctx_state

    with ctx_state.use(State(check_for_changes=False)):
        inventory = read_inventory(inventory_file, override_data)
        dirs = group_data_dirs(project_root(), inventory_file)
        return [LoadedHost(host.name, host.data.dict(),
                           origin_finder(host, inventory_file=inventory_file, group_data_dirs=dirs, cwd=project_root()))
                for host in inventory]


def one_host(inventory_file: str, override_data: dict[str, Any], host: str | None) -> LoadedHost:
    hosts = load_hosts(inventory_file, override_data)
    if not hosts:
        raise SettingsError(f"{inventory_file}: the inventory has no hosts")
    if host is None:
        return hosts[0]
    for loaded in hosts:
        if loaded.name == host:
            return loaded
    raise SettingsError(f"{inventory_file}: no host named {host!r} (hosts: {', '.join(h.name for h in hosts)})")


# --- Where a key came from ----------------------------------------------------------------


def group_data_dirs(cwd: str | Path, inventory_file: str | None, extra: Iterable[str] = ()) -> list[Path]:
    """The folders pyinfra reads group data from (pyinfra_cli.inventory.make_inventory_from_files):
    ``<cwd>/group_data``, ``<inventory's folder>/group_data``, then ``--group-data`` ones."""
    dirs = [Path(cwd) / "group_data"]
    if inventory_file:
        dirs.append(Path(inventory_file).resolve().parent / "group_data")
    dirs.extend(Path(d) for d in extra)
    unique: list[Path] = []
    for d in dirs:
        if d.resolve() not in [u.resolve() for u in unique]:
            unique.append(d)
    return unique


def _assigned_names(path: Path) -> set[str]:
    """Names a group data file assigns at its top level (read, not executed)."""
    try:
        tree = ast.parse(path.read_text(encoding="utf-8"))
    except (OSError, SyntaxError, ValueError):
        return set()
    names: set[str] = set()

    def targets(node) -> Iterable[ast.expr]:
        if isinstance(node, ast.Assign):
            return node.targets
        if isinstance(node, (ast.AnnAssign, ast.AugAssign)):
            return [node.target]
        return []

    def visit(body):
        for node in body:
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                names.add(node.name)  # pyinfra keeps these as group data too
            for target in targets(node):
                for leaf in ast.walk(target):
                    if isinstance(leaf, ast.Name):
                        names.add(leaf.id)
            for block in ("body", "orelse", "finalbody"):
                if isinstance(node, (ast.If, ast.Try, ast.With, ast.For)) and hasattr(node, block):
                    visit(getattr(node, block))
            if isinstance(node, ast.Try):
                for handler in node.handlers:
                    visit(handler.body)

    visit(tree.body)
    return names


def _shown(path: Path, cwd: Path) -> str:
    try:
        return str(path.resolve().relative_to(cwd.resolve()))
    except ValueError:
        return str(path)


def origin_finder(host, *, inventory_file: str | None = None, group_data_dirs: Iterable[Path] = (),
                  cwd: str | Path | None = None) -> Origin:
    """``origin(key)``: where ``key`` of a pyinfra ``host``'s data came from, every place
    that sets it, highest layer first (e.g. ``--data, group_data/prod.py``)."""
    cwd = Path(cwd or os.getcwd())
    dirs = list(group_data_dirs)
    inventory_label = _shown(Path(inventory_file), cwd) if inventory_file else "the inventory file"
    names_by_file: dict[Path, set[str]] = {}

    def group_places(group: str, key: str) -> list[str]:
        places = []
        for folder in dirs:
            path = folder / f"{group}.py"
            if path.is_file():
                if path not in names_by_file:
                    names_by_file[path] = _assigned_names(path)
                if key in names_by_file[path]:
                    places.append(_shown(path, cwd))
        return places or [f"{inventory_label}, group '{group}'"]

    def origin(key: str) -> str:
        inventory = host.inventory
        places = []
        if key in host.data.override_datas:
            places.append("set by a deploy script")
        if key in inventory.get_override_data():
            places.append("--data")
        if key in inventory.get_host_data(host.name):
            places.append(f"{inventory_label}, host '{host.name}'")
        groups = list(dict.fromkeys(host.groups))
        for group in reversed(groups):  # later groups win in pyinfra's merge
            if key in inventory.get_group_data(group):
                places.extend(group_places(group, key))
        if key in inventory.get_data():
            places.extend(group_places("all", key))
        return ", ".join(dict.fromkeys(places))

    return origin


def deploy_origin(host) -> Origin:
    """:func:`origin_finder` for a host of the running ``pyinfra`` command: the inventory
    file and ``--group-data`` folders are read back from its command line with pyinfra's
    own parser (pyinfra keeps no record of them); without them the labels are generic."""
    inventory_file, extra = None, ()
    if "pyinfra_cli" in sys.modules:
        try:
            from pyinfra_cli.cli import cli

            params = cli.make_context("pyinfra", sys.argv[1:], resilient_parsing=True).params
            if params.get("inventory") and Path(params["inventory"]).is_file():
                inventory_file = params["inventory"]
            extra = params.get("group_data") or ()
        except Exception:  # only labels depend on it
            pass
    cwd = getattr(host.state, "cwd", None) or os.getcwd()
    return origin_finder(host, inventory_file=inventory_file, cwd=cwd,
                         group_data_dirs=group_data_dirs(cwd, inventory_file, extra))
