"""Test-only: runs the rotation steps with a key file the JWKS guard never saw.

deploy.py and rotate_keys.py only ever hand the rotation a validated, canonical key
file. This bypasses the guard (host data ``unchecked_key_file`` names a file on the
controller) to prove that the reload proof alone catches a file PostgREST reads as a
shared secret, and rolls the host back.
"""

from pathlib import Path

from pyinfra import host

from postgrest_stack import settings
from postgrest_stack.jwks import Jwks
from tasks import rotation
from tasks.host_data import pyinfra_keys
from tasks.probe_host import probe_host

resolved = settings.resolve({k: v for k, v in host.data.dict().items() if k != "unchecked_key_file"}, runner_keys=pyinfra_keys())
key_file = Path(host.data.get("unchecked_key_file")).read_bytes()
rotation.register(resolved, Jwks(canonical=key_file, kids=("unchecked",)), probe_host(resolved).jwks_kids)
