"""``python -m postgrest_stack``: the entry point only; the command line is ``stackctl.main``.

No module of this package imports this file (tests/unit/test_core_imports.py holds it):
the core stays free of pyinfra and of ``tasks/``.
"""

from stackctl.main import main

raise SystemExit(main())
