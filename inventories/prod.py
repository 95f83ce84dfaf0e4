"""Production: one database host and two API hosts (examples: replace with yours).

Groups: `prod` (this file's name: group_data/prod.py), `db` and `api` by role
(group_data/db.py, group_data/api.py). Roll out with --limit: see README.
"""

db = [
    ("db-1.prod.example.com", {"ssh_user": "deploy", "db_bind": "10.0.1.10"}),
]
api = [
    ("api-1.prod.example.com", {"ssh_user": "deploy"}),
    ("api-2.prod.example.com", {"ssh_user": "deploy"}),
]
