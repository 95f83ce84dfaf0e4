"""Production hosts (examples: replace with yours)."""

prod = [
    ("api-1.example.com", {"ssh_user": "deploy"}),
    ("api-2.example.com", {"ssh_user": "deploy"}),
]
