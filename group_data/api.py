"""Hosts in group `api` run only PostgREST (and Swagger UI where enabled)."""

stack_role = "api"
