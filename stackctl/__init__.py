"""The operator's command line (``python -m postgrest_stack`` or ``python -m stackctl``).

Beside ``tasks/`` and outside the pure core: it loads inventories with pyinfra
(:mod:`tasks.host_data`) and runs ``tasks.fleet_status`` for ``status`` and
``migration list``. The program is :mod:`stackctl.main`.
"""
