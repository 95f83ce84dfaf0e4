"""Every command string the project builds, pinned exactly (as Kamal's test/commands and
pyinfra's operation tests do), for an app_dir with a space and both quote kinds: every
interpolated path must stay one shell word."""

from __future__ import annotations

import shlex
import subprocess

import pytest

from postgrest_stack import layout, probe, settings
from tasks import keys, stack

APP = "/opt/my app's \"stack\""
Q = "'/opt/my app'\"'\"'s \"stack\"'"  # APP as one shell word


@pytest.fixture
def resolved(data):
    return settings.resolve({**data, "app_dir": APP, "stack_name": "pgst"})


def test_the_quoted_app_dir_is_one_shell_word():
    assert shlex.quote(APP) == Q and shlex.split(Q) == [APP]


def test_host_scripts(resolved):
    assert layout.host_script(APP, "compose", "up", "-d", "--remove-orphans") == \
        "'/opt/my app'\"'\"'s \"stack\"/bin/compose' up -d --remove-orphans"
    assert layout.host_script(APP, "health-gate", "db") == "'/opt/my app'\"'\"'s \"stack\"/bin/health-gate' db"
    assert layout.host_script(APP, "reload-postgrest") == "'/opt/my app'\"'\"'s \"stack\"/bin/reload-postgrest'"
    assert stack.prove_or_remove_command(APP) == (
        "'/opt/my app'\"'\"'s \"stack\"/bin/prove-keys' || { status=$?; "
        "'/opt/my app'\"'\"'s \"stack\"/bin/compose' rm -fs postgrest >/dev/null 2>&1; exit $status; }")


def test_smoke_command_reads_the_token_from_stdin(resolved):
    assert keys.smoke_command(resolved) == \
        "curl -s -o /dev/null -m 5 -w '%{http_code}' -H @- http://127.0.0.1:3000/"


def test_probe_command(resolved):
    assert probe.command(APP, "pgst", 3001, secret_files=(".env", "sql/01-roles.sql")) == f"""\
{{ read -r comm </proc/1/comm; }} 2>/dev/null || comm=unknown
echo "init $comm"
if cd {Q} 2>/dev/null; then
  find . -printf 'path %y %m %U %G %P\\n' -type f ! -path ./.env ! -path ./sql/01-roles.sql -exec sha256sum {{}} + |
    while IFS= read -r line; do
      case $line in
        "path "*) printf '%s\\n' "$line" ;;
        *) printf 'sha %s %s\\n' "${{line%%  *}}" "${{line#*  ./}}" ;;
      esac
    done
  if [ -f .digest-key ]; then
    for f in .env sql/01-roles.sql; do
      if [ -f "$f" ] && [ ! -L "$f" ] && digest=$(cat .digest-key "$f" | sha256sum); then
        printf 'ksha %s %s\\n' "${{digest%% *}}" "$f"
      fi
    done
  fi
  if [ -f postgrest/jwks.json ]; then
    printf 'jwks '; head -c 65536 postgrest/jwks.json | tr -d '\\n'; echo
  fi
  cd /
fi
if ! command -v docker >/dev/null 2>&1; then echo "docker missing"; exit 0; fi
if ! docker info >/dev/null 2>&1; then
  if command -v dockerd >/dev/null 2>&1 || [ -e /etc/init.d/docker ] || [ -e /lib/systemd/system/docker.service ] || [ -e /usr/lib/systemd/system/docker.service ] || [ -e /etc/systemd/system/docker.service ]; then echo "docker stopped"; else echo "docker missing"; fi
  exit 0
fi
echo "docker running"
ids=$(docker ps -aq --filter label=com.docker.compose.project=pgst --filter label=com.docker.compose.oneoff=False)
if [ -n "$ids" ]; then docker inspect -f 'service {{{{index .Config.Labels "com.docker.compose.service"}}}} {{{{.State.Status}}}} {{{{if .State.Health}}}}{{{{.State.Health.Status}}}}{{{{else}}}}-{{{{end}}}} {{{{.State.StartedAt}}}} {{{{.Config.Image}}}} {{{{.Image}}}}' $ids; fi
http_code() {{  # http_code SECONDS [CURL OPTIONS...] URL: the HTTP status, 000 when nothing answered
  curl -s -o /dev/null -w '%{{http_code}}' -m "$@"
}}
# PostgREST 12.0.2: /ready on the admin port, published on the host's loopback.
ready_code() {{  # 200, 503 while not ready, 000 when nothing answers
  http_code 3 "http://127.0.0.1:3001/ready"
}}
ready() {{
  [ "$(ready_code)" = 200 ]
}}
code=$(ready_code 2>/dev/null)
if [ -n "$code" ]; then echo "ready $code"; fi
db=$(docker ps -q --filter label=com.docker.compose.project=pgst --filter label=com.docker.compose.oneoff=False --filter label=com.docker.compose.service=db)
if [ -n "$db" ]; then
  docker exec "$db" sh -c 'psql -X -tA -U "$POSTGRES_USER" -d "$POSTGRES_DB" -c "$0" -c "$1"' 'SELECT '"'"'sqldigest '"'"' || coalesce(obj_description(oid, '"'"'pg_namespace'"'"'), '"'"''"'"') FROM pg_namespace WHERE nspname = '"'"'auth_guard'"'"'' 'SELECT '"'"'ledger '"'"' || encode(sha256(convert_to(coalesce(string_agg(version::text || '"'"' '"'"' || sha256 || E'"'"'\\n'"'"', '"'"''"'"' ORDER BY version), '"'"''"'"'), '"'"'UTF8'"'"')), '"'"'hex'"'"') FROM stack_meta.migrations' 2>/dev/null
fi
if pgdata=$(docker volume inspect -f '{{{{.Mountpoint}}}}' pgst_db-data 2>/dev/null); then
  if [ -r "$pgdata/PG_VERSION" ]; then
    echo "pgdata $(head -c 16 "$pgdata/PG_VERSION")"
  elif [ -n "$db" ]; then
    echo "pgdata $(docker exec "$db" sh -c 'head -c 16 "$PGDATA/PG_VERSION"' 2>/dev/null)"
  fi
fi
exit 0
"""


def test_every_command_parses_as_shell(resolved):
    commands = [probe.command(APP, "pgst", 3001, secret_files=layout.KEYED_FILES),
                # Every other branch of the probe: an external database, image IDs, the
                # status command's versions, readiness in the container (14+).
                probe.command(APP, "pgst", 3001, external=("postgres:15", "host=db.example port=5432 dbname=app"),
                              images=("postgres:15", "odd ref:1"), secret_files=layout.KEYED_FILES, details=True,
                              postgrest_version="14.17"),
                stack.prove_or_remove_command(APP), keys.smoke_command(resolved)]
    for command in commands:
        assert subprocess.run(["sh", "-n", "-c", command]).returncode == 0, command
