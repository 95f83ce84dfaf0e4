"""Hosts in group `backup` keep offsite backups only (backup_offsite = "group:backup").

They run nothing of the stack: deploy.py and rotate_keys.py leave them out, and they
need only their connection settings (and backup_dir, default /var/backups/<stack_name>).
"""

stack_role = "backup"
