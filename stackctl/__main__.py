"""``python -m stackctl``: the entry point only; the same program as ``python -m postgrest_stack``."""

from stackctl.main import main

raise SystemExit(main())
