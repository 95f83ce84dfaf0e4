"""Thin pyinfra tasks: they move the bytes postgrest_stack computes and run the actions its plan names."""
