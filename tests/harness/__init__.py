"""Test harness: a throwaway PostgreSQL cluster and a real PostgREST process on loopback."""
