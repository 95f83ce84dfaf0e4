"""Hosts in group `db` run only the database (multi-host topology)."""

stack_role = "db"
