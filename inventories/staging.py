"""Staging: one database host and one API host (examples: replace with yours).

Groups: `staging` (this file's name: group_data/staging.py), `db` and `api` by role.
"""

db = [
    ("db-1.staging.example.com", {"ssh_user": "deploy", "db_bind": "10.0.2.10"}),
]
api = [
    ("api-1.staging.example.com", {"ssh_user": "deploy"}),
]
