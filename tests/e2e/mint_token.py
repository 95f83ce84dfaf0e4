"""Print a token signed with a PEM key: the tests' `smoke_token_command` (stands in for
an Auth0 client-credentials grant)."""

from __future__ import annotations

import argparse
from pathlib import Path

from postgrest_stack import signing_keys

parser = argparse.ArgumentParser()
parser.add_argument("--key", required=True)
parser.add_argument("--audience", required=True)
parser.add_argument("--issuer", required=True)
parser.add_argument("--role-claim", default="https://postgrest-demo.de/role")
args = parser.parse_args()
key = signing_keys.load_private_key(Path(args.key))
print(signing_keys.mint_token(key, audience=args.audience, issuer=args.issuer, role_claim=args.role_claim,
                              role="api_user", ttl_seconds=300))
