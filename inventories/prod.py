"""Production: one database host and two API hosts (examples: replace with yours).

Groups: `prod` (this file's name: group_data/prod.py), `db` and `api` by role
(group_data/db.py, group_data/api.py). Roll out with --limit: see docs/runbooks.md.

Each api host serves the API over HTTPS under its own DNS name through the Caddy edge
(tls_mode "acme": a certificate from Let's Encrypt once the name points at the host;
public_api_url follows as https://<public_hostname>). Only api hosts run the edge, so
tls_mode and public_hostname are set here per api host, not in group_data/prod.py. Behind
one shared name, use tls_mode "files" instead (docs/runbooks.md, "Runbook: a first HTTPS
deploy").
"""

db = [
    ("db-1.prod.example.com", {"ssh_user": "deploy", "db_bind": "10.0.1.10"}),
]
api = [
    ("api-1.prod.example.com", {"ssh_user": "deploy", "tls_mode": "acme",
                                "public_hostname": "api-1.prod.example.com"}),
    ("api-2.prod.example.com", {"ssh_user": "deploy", "tls_mode": "acme",
                                "public_hostname": "api-2.prod.example.com"}),
]
