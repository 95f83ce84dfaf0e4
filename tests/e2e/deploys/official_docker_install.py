"""Plans Docker's 'official' installation as if the host had no Docker.

Docker's repository is out of reach here, so the test only inspects the operations
(and their commands) this generates with --debug-operations; it never executes them.
"""

from pyinfra import host

from postgrest_stack import settings
from postgrest_stack.probe import HostState
from tasks.docker import ensure_docker
from tasks.host_data import pyinfra_keys

# This script's own host data keys (not settings: the deploy would refuse them).
TEST_KEYS = ("plan_out", "assume_init")
resolved = settings.resolve({k: v for k, v in host.data.dict().items() if k not in TEST_KEYS}, runner_keys=pyinfra_keys())
ensure_docker(resolved, HostState(init=host.data.get("assume_init", "systemd"), docker="missing"),
              install=True, start=True)

# Write out every generated operation with the commands it would run (at prepare time,
# as pyinfra's own change detection does); nothing is executed with --dry.
import json  # noqa: E402

from pyinfra import state  # noqa: E402

plan = []
for op_hash in state.get_op_order():
    op_data = state.get_op_data_for_host(host, op_hash)
    plan.append({
        "name": op_data.global_arguments["name"],
        "commands": [str(command) for command in op_data.command_generator()],
    })
with open(host.data.get("plan_out"), "w") as handle:
    json.dump(plan, handle, indent=1)
