"""Test-only: tasks/offsite.py's fetch_offsite on each db host, then a later operation
that reads the chosen name (as restore.py's would) and logs it.

What is wanted comes from the environment (OFFSITE_TEST_WANTED: a NAME or "latest").
"""

import os

from pyinfra import host, logger
from pyinfra.operations import python

from tasks import controller, offsite

settings = controller.host_settings(host)
if settings.stack_role != "backup":
    fetched = offsite.fetch_offsite(settings, os.environ["OFFSITE_TEST_WANTED"])

    def show(state, host):
        logger.info(f"{host.print_prefix}fetched name: {fetched.name} copied: {fetched.copied}")
        return True

    python.call(name="Use the fetched name", function=show)
