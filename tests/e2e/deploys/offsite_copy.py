"""Test-only: a fake verified backup on each db host, then tasks/offsite.py's copy_offsite.

backup.py (which takes a real backup) is not needed to prove the copy off the host: this
makes ``<backups_path>/<NAME>/`` as a verified backup looks (the four files, one of them
binary, and SHA256SUMS), NAME from the environment (OFFSITE_TEST_NAME: host data would
be refused as an unknown setting), then registers the copy. Hosts of stack_role backup
do nothing here.
"""

import os
import shlex

from pyinfra import host
from pyinfra.operations import server

from tasks import controller, offsite

settings = controller.host_settings(host)
if settings.stack_role != "backup":
    name = os.environ["OFFSITE_TEST_NAME"]
    folder = shlex.quote(f"{settings.backups_path}/{name}")
    server.shell(name="Make a fake verified backup", commands=[
        f"umask 077 && mkdir -p {folder} && cd {folder} && head -c 200000 /dev/urandom > db.dump && "
        f"printf 'CREATE ROLE x;\\n' > roles.sql && printf 'api.todos\\t3\\n' > counts.tsv && "
        f"printf 'stack={settings.stack_name}\\nhost={host.name}\\n' > info && "
        "sha256sum db.dump roles.sql counts.tsv info > SHA256SUMS"])
    offsite.copy_offsite(settings, name)
