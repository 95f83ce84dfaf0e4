#!/usr/bin/env bash
# Install the Debian packages the test suite needs (the first step of `make test`).
# Idempotent and quick when everything is there: apt runs only for what is missing.
#
#   python3 with venv (the virtualenv), PostgreSQL 15 (contract tests), Docker 20.10 + Compose v1 (e2e), sshd/ssh (e2e and
#   fleet targets), mmdebstrap (stand-in and test-host images), apt-cacher-ng (the
#   fleet hosts' route to Debian's archive), npm (the PostgREST binary, Auth0 Action tests),
#   systemd (systemd-analyze verifies the units under ops/systemd; systemd need not run),
#   chromium (headless, drives Swagger UI in tests/e2e/test_swagger.py), caddy (2.6.2, the
#   edge's rendered Caddyfile run locally in tests/contract/test_edge_authorization.py),
#   the shellcheck linter (`make lint`: scripts/lint_shell.py runs it on the shell the project ships).
set -euo pipefail

packages=(make curl python3 python3-venv postgresql-15 postgresql-client-15 docker.io docker-compose
          openssh-server openssh-client mmdebstrap iproute2 apt-cacher-ng systemd chromium caddy shellcheck)
command -v npm >/dev/null 2>&1 || packages+=(npm)

missing=()
for package in "${packages[@]}"; do
  dpkg -s "$package" >/dev/null 2>&1 || missing+=("$package")
done
if [ "$(id -u)" != 0 ] && [ "${#missing[@]}" -gt 0 ]; then
  echo "install-system-packages: missing ${missing[*]}; run as root (the suite itself needs root)" >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
# True when apt has package lists: anything in /var/lib/apt/lists besides its lock and partial/.
have_apt_lists() {
  local entry
  for entry in /var/lib/apt/lists/*; do
    case "${entry##*/}" in
      *lock* | *partial*) ;;
      *) [ -e "$entry" ] && return 0 ;;
    esac
  done
  return 1
}
# images/build.sh needs apt lists too (it downloads busybox-static and runs mmdebstrap).
if [ "${#missing[@]}" -gt 0 ] || ! have_apt_lists; then
  apt-get update -qq
fi
if [ "${#missing[@]}" -gt 0 ]; then
  echo "install-system-packages: installing ${missing[*]}" >&2
  apt-get install -y -qq "${missing[@]}" >/dev/null
fi
