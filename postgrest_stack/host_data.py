"""Load each host's settings exactly as ``pyinfra INVENTORY ...`` would see them.

Uses pyinfra's own inventory loader (inventory file + ``group_data/*.py`` + ``--data``)
so that ``render`` and ``token`` read the same values a deploy does.
"""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any

from . import PROJECT_ROOT
from .settings import SettingsError


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


def hosts_data(inventory_file: str, override_data: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """``{host name: effective data}`` for every host of the inventory."""
    with warnings.catch_warnings():
        # pyinfra_cli monkey-patches the stdlib for gevent on import; nothing here uses
        # the network, so its warning about late patching is noise.
        warnings.simplefilter("ignore")
        from pyinfra.api import State
        from pyinfra.context import ctx_state
        from pyinfra_cli.inventory import make_inventory_from_files

    if not Path(inventory_file).is_file():
        raise SettingsError(f"{inventory_file}: no such inventory file")
    with ctx_state.use(State(check_for_changes=False)):
        inventory = make_inventory_from_files(inventory_file, override_data, cwd=str(PROJECT_ROOT))
        return {host.name: host.data.dict() for host in inventory}


def one_host_data(inventory_file: str, override_data: dict[str, Any], host: str | None) -> tuple[str, dict[str, Any]]:
    data = hosts_data(inventory_file, override_data)
    if host is None:
        if not data:
            raise SettingsError(f"{inventory_file}: the inventory has no hosts")
        host = next(iter(data))
    if host not in data:
        raise SettingsError(f"{inventory_file}: no host named {host!r} (hosts: {', '.join(data)})")
    return host, data[host]
