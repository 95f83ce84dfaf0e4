"""Command line: ``python -m postgrest_stack render|settings|settings-doc|jwks|token|status|logs|migration|timer``.

Installed (``pip install .``, pyproject.toml), the same program is ``postgrest-stack``.
Before the command, ``-C PROJECT_DIR`` runs it as if started in the operator's project
(inventories, group_data/, migrations/, secrets), as ``git -C`` does; without it, a
checkout's own folder, else the current directory when it holds deploy.py or group_data/,
else the inventory file's project (postgrest_stack/project.py).

  render INVENTORY [--host NAME] [--data k=v ...] --out DIR   files a host receives
  settings INVENTORY [--data k=v ...]                        effective settings per host (JSON)
  settings-doc [--write | --check]                          docs/settings.md's table; --write
                                                             regenerates it and group_data/all.py
  jwks check FILE_OR_URL [--canonical]                       exit 0 when usable; --canonical prints
                                                             the key file a deploy would push
  jwks fetch URL --out FILE                                  validate, then write the canonical file
  token INVENTORY [--role ROLE] [--ttl 1h] [--curl]          development token (local)
  status INVENTORY [--limit HOST|GROUP ...] [--json]         read-only: each host against render and
                                                             the tenant's keys; exit 0 all match,
                                                             1 drift or not ready, 2 not checked
  logs INVENTORY [--host H ...] [--service S] [--since 10m] [--tail N] [--follow]
                                                             read-only: each host's compose logs as
                                                             "[host] line"; exit 1 when a host's could
                                                             not be read, 2 for a refused argument
  migration new NAME [--dir DIR]                             write the next numbered migration file
                                                             (default DIR: migrations_dir's default)
  migration list INVENTORY [--limit HOST|GROUP ...]          read-only: the folder against each
                                                             database's ledger; exit 2 when one
                                                             could not be read
  timer backup INVENTORY [--data k=v ...]                    the systemd timer of the scheduled backup,
                                                             OnCalendar= the inventory's backup_schedule
                                                             (checked by systemd-analyze calendar)

Errors are one line on stderr and exit status 1 (status, logs: 2).

``python -m stackctl`` and ``postgrest-stack`` are the same program. It lives outside
the pure core (``postgrest_stack``) because the inventory loading (``host_data``), ``status`` and
``migration list`` drive pyinfra; ``postgrest_stack/__main__.py`` only launches it.
"""

from __future__ import annotations

import sys

#: The installed command's name (pyproject.toml [project.scripts]).
SCRIPT = "postgrest-stack"


def _started_as_program() -> bool:
    """This process is ``python -m postgrest_stack``, ``python -m stackctl`` (a launcher
    is the ``__main__`` module) or the installed ``postgrest-stack`` (the console script
    pip writes is the ``__main__`` module's file), not a test or a script that imports
    :func:`main`."""
    launcher = sys.modules.get("__main__")
    spec = getattr(launcher, "__spec__", None)
    if spec is not None:
        return spec.name in ("postgrest_stack.__main__", "stackctl.__main__")
    return _is_script(getattr(launcher, "__file__", None))


def _is_script(path: str | None) -> bool:
    return path is not None and path.replace("\\", "/").rsplit("/", 1)[-1] == SCRIPT


def _command_words(argv: list[str]) -> list[str]:
    """``argv`` without a leading ``-C PROJECT_DIR`` (``-CDIR``, ``--project-dir[=]DIR``)."""
    while argv[:1] and argv[0].startswith(("-C", "--project-dir")):
        argv = argv[2:] if argv[0] in ("-C", "--project-dir") else argv[1:]
    return argv


_WORDS = _command_words(sys.argv[1:])
if _started_as_program() and (_WORDS[:1] in (["status"], ["logs"]) or _WORDS[:2] == ["migration", "list"]):
    # status drives pyinfra's API, which runs SSH in gevent greenlets: patch the stdlib
    # before anything imports it, as pyinfra's own command line does.
    from gevent import monkey

    monkey.patch_all()

import argparse
import json
import re
from pathlib import Path

from postgrest_stack import jwks, migrations, project_path, render, secrets, settings, settings_doc, signing_keys
from postgrest_stack.project import choose as choose_project
from tasks.host_data import load_hosts, one_host, parse_data_args, pyinfra_keys


def _parse_ttl(text: str) -> int:
    match = re.fullmatch(r"(\d+)([smhd]?)", text)
    seconds = int(match.group(1)) * {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400}[match.group(2)] if match else 0
    if not seconds:
        # 0 would mint a token that is expired when it is made.
        raise settings.SettingsError(f"--ttl {text!r}: expected a lifetime of at least one second, "
                                     "e.g. 3600, 30m, 1h, 1d")
    return seconds


def _check_role(role: str) -> str:
    """A role the stack's SQL could have created: PostgREST runs SET ROLE with the claim, and
    the stack creates its roles as unquoted identifiers (settings Identifier("role"))."""
    try:
        return settings.Identifier("role")("--role", role)
    except settings.SettingsError:
        raise settings.SettingsError(f"--role {role!r}: expected a database role such as api_user "
                                     "(lower-case letters, digits and _, not a reserved word)") from None


def _unwritable(option: str, error: OSError) -> settings.SettingsError:
    """An --out the controller cannot write to, as one line naming the path and the fix
    (an OSError would otherwise end the command with a traceback)."""
    where = error.filename or option
    return settings.SettingsError(f"{option}: cannot write {where}: {error.strerror or error}; "
                                  "give a path in a directory you can write to")


def cmd_render(args) -> None:
    host = one_host(args.inventory, parse_data_args(args.data), args.host)
    resolved = settings.resolve(host.data, origin=host.origin, runner_keys=pyinfra_keys())
    files = render.render(resolved, secrets.load(host.data))
    try:
        render.write_tree(files, Path(args.out))
    except OSError as error:
        raise _unwritable(f"--out {args.out}", error) from None
    for relative in sorted(files):
        print(relative)


def cmd_settings(args) -> None:
    """Every host's declared settings, derived values included; secrets are never read
    (their masked placeholders are shown)."""
    report = {}
    for host in load_hosts(args.inventory, parse_data_args(args.data)):
        values = settings.effective(host.data, origin=host.origin, runner_keys=pyinfra_keys())
        resolved = settings.Settings(**{name: values[name] for name in settings.FIELD_NAMES})
        report[host.name] = {**values, "runs_db": resolved.runs_db, "runs_api": resolved.runs_api}
    print(json.dumps(report, indent=2, sort_keys=True))


def cmd_settings_doc(args) -> None:
    if args.write:
        for path in settings_doc.write():
            print(f"wrote {path}")
        return
    if args.check:
        stale = settings_doc.stale()
        if stale:
            raise settings.SettingsError(f"out of date with the settings declaration: {', '.join(stale)}; "
                                         "run python -m postgrest_stack settings-doc --write")
        return
    print(settings_doc.doc_table(), end="")


def _warn(result: jwks.Jwks) -> None:
    for warning in result.warnings:
        print(f"warning: {warning}", file=sys.stderr)


def cmd_jwks_check(args) -> None:
    result = jwks.fetch(args.source)
    _warn(result)
    if args.canonical:
        sys.stdout.buffer.write(result.canonical)
        return
    print(f"ok: {len(result.kids)} key(s): {', '.join(result.kids)}")


def cmd_jwks_fetch(args) -> None:
    try:
        result = jwks.fetch_to_file(args.url, Path(args.out))
    except OSError as error:
        raise _unwritable(f"--out {args.out}", error) from None
    _warn(result)
    print(f"wrote {args.out}: {len(result.kids)} key(s): {', '.join(result.kids)}")


def cmd_token(args) -> None:
    # Every argument is checked before anything is read or the dev key is created.
    role, ttl_seconds = _check_role(args.role), _parse_ttl(args.ttl)
    host = one_host(args.inventory, parse_data_args(args.data), args.host)
    data = host.data
    resolved = settings.resolve(data, origin=host.origin, runner_keys=pyinfra_keys())
    if not data.get("dev_signing_key"):
        raise settings.SettingsError(
            "setting 'dev_signing_key' is not set: tokens can only be minted for the local development key"
        )
    key = signing_keys.ensure_dev_key(project_path(data["dev_signing_key"]), resolved.jwks_url)
    token = signing_keys.mint_token(
        key,
        audience=resolved.jwt_audience,
        issuer=resolved.jwt_issuer,
        role_claim=resolved.jwt_role_claim,
        role=role,
        ttl_seconds=ttl_seconds,
    )
    if not args.curl:
        print(token)
        return
    print(f"curl -s -X POST {render.smoke_url(resolved)}/todos \\\n"
          f"  -H 'Authorization: Bearer {token}' \\\n"
          "  -H 'Content-Type: application/json' -H 'Prefer: return=representation' \\\n"
          """  -d '{"task": "try PostgREST"}'""")


def cmd_status(args) -> int:
    """Exit 0 when every host matches, 1 on drift or not ready, 2 when one was not checked."""
    from tasks import fleet_status  # beside this package, so importable wherever it is

    report = fleet_status.run(args.inventory, parse_data_args(args.data), args.limit)
    if args.json:
        print(json.dumps(report.as_json(), indent=2))
    else:
        print(report.text(), end="")
    return report.exit_code


def cmd_logs(args) -> int:
    """Exit 0 when every selected host's logs were read, 1 when one's were not, 2 for a
    refused argument (before any host is connected), 130 when interrupted."""
    from postgrest_stack import logs

    request = logs.check(args.service, args.since, args.tail, args.follow)  # before the inventory
    from tasks import fleet_logs

    try:
        return fleet_logs.run(args.inventory, parse_data_args(args.data), args.host, request)
    except KeyboardInterrupt:  # --follow ends with Ctrl-C
        return 130


def cmd_migration_list(args) -> int:
    """Exit 0 when every selected database's ledger was read, 2 when one could not be."""
    from tasks import fleet_status

    listing, complete = fleet_status.ledgers(args.inventory, parse_data_args(args.data), args.limit)
    print(listing, end="")
    return 0 if complete else 2


def cmd_migration_new(args) -> None:
    """Write the next numbered migration (after the folder's highest, 0001 first) with a
    short header; never over an existing file. Prints its path."""
    folder = Path(args.dir) if args.dir else project_path(settings.SETTINGS_BY_NAME["migrations_dir"].default)
    slug = migrations.slug_of(args.name)
    name = migrations.next_name(migrations.scan(folder), slug)
    path = folder / name
    header = (f"-- {name}: {' '.join(args.name.split())}\n"
              "-- Applied once, in numeric order, in a transaction of its own (make the first line\n"
              f"-- `{migrations.NO_TRANSACTION.decode()}` to run it outside one, e.g. for CREATE INDEX\n"
              "-- CONCURRENTLY). Once applied, never edit it: put a change into a new migration.\n\n")
    folder.mkdir(parents=True, exist_ok=True)
    try:
        with path.open("x", encoding="utf-8") as file:
            file.write(header)
    except FileExistsError:
        raise migrations.MigrationError(f"{path} already exists: not overwritten") from None
    print(path)


def cmd_timer_backup(args) -> None:
    """Print ops/systemd/postgrest-backup.timer with the inventory's backup_schedule (of
    the hosts that run the database, else of every host), once systemd reads it."""
    from postgrest_stack import schedule

    schedules, all_schedules = {}, {}
    for host in load_hosts(args.inventory, parse_data_args(args.data)):
        values = settings.effective(host.data, origin=host.origin, runner_keys=pyinfra_keys())
        resolved = settings.Settings(**{name: values[name] for name in settings.FIELD_NAMES})
        all_schedules[host.name] = resolved.backup_schedule
        if resolved.runs_db:
            schedules[host.name] = resolved.backup_schedule
    # With external_db_uri no host runs the database: backup.py then works from an api host.
    calendar = schedule.check_calendar(schedule.one_schedule(schedules or all_schedules))
    print(schedule.backup_timer(calendar), end="")


def build_parser() -> argparse.ArgumentParser:
    prog = SCRIPT if _is_script(getattr(sys.modules.get("__main__"), "__file__", None)) else "python -m postgrest_stack"
    parser = argparse.ArgumentParser(prog=prog, description=__doc__.splitlines()[0])
    parser.add_argument("-C", "--project-dir", metavar="PROJECT_DIR",
                        help="the operator's project (deploy.py, inventories, group_data/, migrations/, secrets): "
                             "run as if started there, as git -C does (default: a checkout's own folder, else the "
                             "current directory when it holds deploy.py or group_data/, else the inventory's)")
    commands = parser.add_subparsers(dest="command", required=True)

    def with_inventory(sub):
        sub.add_argument("inventory", help="pyinfra inventory file, e.g. inventories/prod.py")
        sub.add_argument("--host", help="host name in the inventory (default: the first)")
        sub.add_argument("--data", action="append", default=[], metavar="KEY=VALUE",
                         help="override a setting, as pyinfra --data does")

    render_cmd = commands.add_parser("render", help="write the files a host receives")
    with_inventory(render_cmd)
    render_cmd.add_argument("--out", required=True, help="directory to write into")
    render_cmd.set_defaults(func=cmd_render)

    settings_cmd = commands.add_parser("settings", help="print every host's effective settings")
    settings_cmd.add_argument("inventory", help="pyinfra inventory file, e.g. inventories/prod.py")
    settings_cmd.add_argument("--data", action="append", default=[], metavar="KEY=VALUE")
    settings_cmd.set_defaults(func=cmd_settings)

    doc_cmd = commands.add_parser("settings-doc", help="the settings table of docs/settings.md, from the settings declaration")
    mode = doc_cmd.add_mutually_exclusive_group()
    mode.add_argument("--write", action="store_true", help="regenerate docs/settings.md's table and group_data/all.py")
    mode.add_argument("--check", action="store_true", help="exit 1 when either is out of date")
    doc_cmd.set_defaults(func=cmd_settings_doc)

    jwks_cmd = commands.add_parser("jwks", help="check or fetch a JWKS")
    jwks_sub = jwks_cmd.add_subparsers(dest="jwks_command", required=True)
    check = jwks_sub.add_parser("check", help="validate a JWKS file or URL")
    check.add_argument("source")
    check.add_argument("--canonical", action="store_true",
                       help="print the canonical key file a deploy would push, instead of a summary")
    check.set_defaults(func=cmd_jwks_check)
    fetch = jwks_sub.add_parser("fetch", help="fetch, validate and write the canonical key file atomically")
    fetch.add_argument("url")
    fetch.add_argument("--out", required=True)
    fetch.set_defaults(func=cmd_jwks_fetch)

    token_cmd = commands.add_parser("token", help="mint a token with the development key")
    with_inventory(token_cmd)
    token_cmd.add_argument("--role", default="api_user", help="role claim value (default api_user)")
    token_cmd.add_argument("--ttl", default="1h", help="lifetime: seconds or 30m, 1h, 1d (default 1h)")
    token_cmd.add_argument("--curl", action="store_true", help="print a curl command that creates a todo with it")
    token_cmd.set_defaults(func=cmd_token)

    status_cmd = commands.add_parser(
        "status", help="read-only: every host's stack against render and the tenant's keys")
    status_cmd.add_argument("inventory", help="pyinfra inventory file, e.g. inventories/prod.py")
    status_cmd.add_argument("--limit", action="append", default=[], metavar="HOST|GROUP",
                            help="only these hosts: a host name (pattern) or group, as pyinfra's --limit")
    status_cmd.add_argument("--data", action="append", default=[], metavar="KEY=VALUE",
                            help="override a setting, as pyinfra --data does")
    status_cmd.add_argument("--json", action="store_true", help="the same report as JSON")
    status_cmd.set_defaults(func=cmd_status)

    logs_cmd = commands.add_parser("logs", help="read-only: each host's compose logs, as [host] line")
    logs_cmd.add_argument("inventory", help="pyinfra inventory file, e.g. inventories/prod.py")
    logs_cmd.add_argument("--host", action="append", default=[], metavar="HOST|GROUP",
                          help="only these hosts: a host name (pattern) or group (default: every host)")
    # Checked by postgrest_stack.logs.check (one line, exit 2), not argparse's choices.
    logs_cmd.add_argument("--service", help="one service: postgrest, db, edge or swagger (default: all)")
    logs_cmd.add_argument("--since", help="only lines since: a duration (10m, 2h) or a time (RFC 3339)")
    logs_cmd.add_argument("--tail", help="only the last N lines of each container (or 'all')")
    logs_cmd.add_argument("--follow", "-f", action="store_true", help="keep printing new lines until Ctrl-C")
    logs_cmd.add_argument("--data", action="append", default=[], metavar="KEY=VALUE",
                          help="override a setting, as pyinfra --data does")
    logs_cmd.set_defaults(func=cmd_logs)

    migration_cmd = commands.add_parser("migration", help="the operator's schema migrations")
    migration_sub = migration_cmd.add_subparsers(dest="migration_command", required=True)
    new = migration_sub.add_parser("new", help="write the next numbered migration file and print its path")
    new.add_argument("name", help="what it does, e.g. 'add orders' (the file's slug: add_orders)")
    new.add_argument("--dir", help="the migrations folder (default: migrations_dir's default, from the "
                                   "project root)")
    new.set_defaults(func=cmd_migration_new)
    listed = migration_sub.add_parser("list", help="read-only: the folder against each database's ledger")
    listed.add_argument("inventory", help="pyinfra inventory file, e.g. inventories/prod.py")
    listed.add_argument("--limit", action="append", default=[], metavar="HOST|GROUP",
                        help="only these hosts or groups (as pyinfra's --limit)")
    listed.add_argument("--data", action="append", default=[], metavar="KEY=VALUE", help="override host data")
    listed.set_defaults(func=cmd_migration_list)

    timer_cmd = commands.add_parser("timer", help="the systemd timers of the schedules under ops/systemd/")
    timer_sub = timer_cmd.add_subparsers(dest="timer_command", required=True)
    backup_timer = timer_sub.add_parser(
        "backup", help="print postgrest-backup.timer with the inventory's backup_schedule as OnCalendar=")
    backup_timer.add_argument("inventory", help="pyinfra inventory file, e.g. inventories/prod.py")
    backup_timer.add_argument("--data", action="append", default=[], metavar="KEY=VALUE",
                              help="override a setting, as pyinfra --data does")
    backup_timer.set_defaults(func=cmd_timer_backup)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        choose_project(args.project_dir, getattr(args, "inventory", None))
        code = args.func(args)
    except (settings.SettingsError, jwks.JwksError, migrations.MigrationError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2 if args.command in ("status", "logs") else 1
    return code or 0

