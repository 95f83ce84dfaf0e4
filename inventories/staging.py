"""Staging hosts (example: replace with yours)."""

staging = [
    ("staging-1.example.com", {"ssh_user": "deploy"}),
]
