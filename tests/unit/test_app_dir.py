"""app_dir is never a system or shared directory (settings), and a non-empty directory
holding no stack of ours is refused from what the real probe script reports there
(postgrest_stack/app_dir.py)."""

from __future__ import annotations

import os
import subprocess

import pytest

from postgrest_stack import app_dir, layout, probe, render, settings
from tasks import files

SYSTEM = ["/", "/bin", "/boot", "/dev", "/etc", "/home", "/lib", "/lib64", "/media", "/mnt", "/opt", "/proc", "/root",
          "/run", "/sbin", "/srv", "/sys", "/tmp", "/usr", "/usr/local", "/var", "/var/lib", "/var/tmp", "/var/log",
          "/usr/bin", "/usr/local/bin", "/var/lib/docker", "/var/cache", "/var/spool", "/snap"]
#: Inside a system tree, directly in a world-writable directory, or a user's home itself.
INSIDE = ["/etc/postgrest", "/usr/share/postgrest", "/proc/1", "/dev/shm/postgrest", "/run/postgrest",
          "/boot/x", "/tmp/postgrest", "/var/tmp/postgrest", "/home/alice"]
NOT_NORMALISED = ["/opt/postgrest/../../etc", "/opt/postgrest/..", "/opt/./postgrest", "/opt//postgrest",
                  "//opt/postgrest", "/opt/postgrest//", "/opt/postgrest/."]
FINE = ["/opt/postgrest", "/srv/api", "/var/lib/postgrest", "/usr/local/postgrest", "/home/alice/postgrest",
        "/data/stacks/api", "/opt/my app's \"stack\""]


def refusal_of(data, value) -> str:
    with pytest.raises(settings.SettingsError) as error:
        settings.resolve(dict(data, app_dir=value))
    message = str(error.value)
    assert "\n" not in message and "'app_dir'" in message and repr(value) in message
    return message


@pytest.mark.parametrize("value", SYSTEM)
def test_a_system_or_shared_directory_is_refused(data, value):
    refusal_of(data, value)
    refusal_of(data, value + "/")  # the trailing-slash spelling too


@pytest.mark.parametrize("value", INSIDE)
def test_a_place_inside_a_system_tree_or_open_to_every_user_is_refused(data, value):
    assert "such as /opt/postgrest" in refusal_of(data, value)


@pytest.mark.parametrize("value", NOT_NORMALISED)
def test_a_path_that_is_not_normalised_is_refused(data, value):
    assert "must be a normalised absolute path (no '.', '..' or empty component)" in refusal_of(data, value)


@pytest.mark.parametrize("value", FINE)
def test_a_directory_of_its_own_is_accepted(data, value):
    assert settings.resolve(dict(data, app_dir=value)).app_dir == value
    assert settings.resolve(dict(data, app_dir=value + "/")).app_dir == value


# --- A non-empty app_dir that holds no stack of ours ----------------------------------------


def probed(path) -> dict:
    """What the real probe script reports under ``path`` (HostState.paths)."""
    command = probe.command(str(path), f"app-dir-test-{os.getpid()}", 1, secret_files=layout.KEYED_FILES)
    done = subprocess.run(["sh", "-c", command], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    return probe.parse(done.stdout.splitlines()).paths


def make_directories(app, relatives):
    """The directories as the deploy's own command makes them (tasks/files.py)."""
    for relative in relatives:
        mode, _uid = layout.DIRECTORIES[relative]
        path = os.path.normpath(os.path.join(app, relative))
        subprocess.run(["sh", "-c", files.directory_command(path, mode=mode, uid=os.getuid(), gid=os.getgid())],
                       check=True)


def test_missing_or_empty_is_fine(tmp_path):
    assert app_dir.refusal(str(tmp_path / "app"), probed(tmp_path / "app")) is None
    (tmp_path / "app").mkdir()
    assert probed(tmp_path / "app")  # the directory itself ('.') is reported
    assert app_dir.refusal(str(tmp_path / "app"), probed(tmp_path / "app")) is None


def test_a_deployed_stack_and_a_first_deploy_stopped_part_way_are_ours(tmp_path, data, secrets):
    app = tmp_path / "app"
    make_directories(app, layout.DIRECTORIES)  # stopped after the directories
    assert app_dir.refusal(str(app), probed(app)) is None
    (app / "..digest-key.new").write_bytes(b"half")  # ... in the first file's staging (tasks/files.py)
    assert app_dir.refusal(str(app), probed(app)) is None
    rendered = render.render(settings.resolve(dict(data, app_dir=str(app))), secrets)
    render.write_tree(rendered, app)  # every file (a rerun; with leftovers of other tools too)
    (app / "notes.txt").write_text("the operator's own note\n")
    assert app_dir.refusal(str(app), probed(app)) is None


@pytest.mark.parametrize("layout", [
    {"README.md": "x", "src/main.py": "print()"},        # someone's project
    {"compose.yaml": "services: {}\n", ".env": "A=1\n"},  # another compose project: no marker of ours
    {"lost+found/": None},                                # a file system's root
    {"bin/run.sh": "#!/bin/sh\n"},                        # a generic bin/ with a file that is not ours
])
def test_a_directory_holding_something_else_is_refused(tmp_path, layout):
    app = tmp_path / "app"
    app.mkdir()
    for relative, content in layout.items():
        path = app / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        if content is None:
            path.mkdir()
        else:
            path.write_text(content)
    line = app_dir.refusal(str(app), probed(app))
    assert line is not None and "\n" not in line
    assert line.startswith(f"setting 'app_dir' ({app}) is a directory that holds no stack of ours")
    assert sorted({name.strip("/").split("/")[0] for name in layout})[0] in line


def test_the_refusal_names_a_few_entries_only():
    entries = {".": probe.PathState("d", 0o755, 0, 0),
               **{f"f{n}": probe.PathState("f", 0o644, 0, 0) for n in range(40)}}
    line = app_dir.refusal("/srv/api", entries)
    assert "(f0, f1, f10, f11, f12, ... (40 entries))" in line
