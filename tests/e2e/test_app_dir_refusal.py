"""A deploy never takes over an app_dir that holds someone else's files (issue 19, 6):
the host fails with one line naming the setting, and the directory keeps its owner,
mode and files; an empty one is deployed into."""

from __future__ import annotations

import os
import stat

from tests.e2e.harness import Target


def test_a_directory_holding_other_files_is_refused_untouched(jwks_endpoint):
    target = Target.create("foreign", jwks_endpoint.url)
    try:
        target.app_dir.mkdir(mode=0o755)
        os.chown(target.app_dir, 65534, 65534)
        (target.app_dir / "project").mkdir()
        (target.app_dir / "project" / "README").write_text("someone's work\n")
        run = target.deploy()
        assert run.returncode != 0
        assert (f"[foreign] foreign: setting 'app_dir' ({target.app_dir}) is a directory that holds no stack of "
                "ours but other files (project)") in run.output
        info = os.stat(target.app_dir)
        assert (stat.S_IMODE(info.st_mode), info.st_uid) == (0o755, 65534)
        assert sorted(p.name for p in target.app_dir.iterdir()) == ["project"]
        assert target.containers() == {}
    finally:
        target.destroy()
