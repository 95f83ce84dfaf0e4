#!/bin/bash
# Start the local Docker engine if it is not running yet; idempotent.
#
#   scripts/start-docker.sh          # exit 0 once `docker info` works
#   scripts/start-docker.sh --check  # also prove container networking (see below)
#
# Findings on this machine kind (Debian 12, docker.io 20.10, no systemd):
# - `/etc/init.d/docker start` fails: it runs `ulimit -n 1048576`, the hard
#   limit here is 20000 and root may not raise it ("ulimit: error setting
#   limit (Operation not permitted)"), and the script is `set -e`. It is still
#   tried first, in case a machine allows it.
# - The fallback runs dockerd directly, in its own session, logging to
#   /var/log/dockerd.log. Flags: `--iptables=false` (override with
#   DOCKERD_FLAGS). dockerd also starts fine WITH iptables here, but then it
#   sets the host's FORWARD policy to DROP, which would break traffic between
#   network namespaces bridged by the multi-host tests. Without iptables:
#   containers on a user-defined network still reach each other by service
#   name (embedded DNS), and `-p 127.0.0.1:PORT:PORT` still works (docker-proxy,
#   the userland proxy, listens on the host); containers only lose NAT to the
#   outside, which nothing here needs (no registry is reachable anyway).
# - cgroup v1 hierarchies are already mounted on this machine; storage driver
#   overlay2 works on the ext4 root.
set -euo pipefail

DOCKERD_FLAGS=${DOCKERD_FLAGS:---iptables=false}
DOCKERD_LOG=${DOCKERD_LOG:-/var/log/dockerd.log}
WAIT_SECONDS=${WAIT_SECONDS:-60}

log() { echo "start-docker: $*" >&2; }

engine_ok() { docker info >/dev/null 2>&1; }

wait_engine() { # $1 = seconds
    local deadline=$((SECONDS + $1))
    while ((SECONDS < deadline)); do
        engine_ok && return 0
        sleep 1
    done
    engine_ok
}

start_engine() {
    if engine_ok; then
        log "engine already running"
        return 0
    fi
    if [ -x /etc/init.d/docker ] && [ ! -d /run/systemd/system ]; then
        log "trying /etc/init.d/docker start"
        if /etc/init.d/docker start >/dev/null 2>&1 && wait_engine 15; then
            log "engine started by /etc/init.d/docker"
            return 0
        fi
        log "/etc/init.d/docker did not give a working engine"
    elif [ -d /run/systemd/system ]; then
        log "trying systemctl start docker"
        if systemctl start docker && wait_engine 30; then
            return 0
        fi
    fi
    if pgrep -x dockerd >/dev/null; then
        log "a dockerd is running but not answering yet; waiting"
    else
        log "running: dockerd $DOCKERD_FLAGS (log: $DOCKERD_LOG)"
        # setsid + nohup: the engine outlives this script and its caller's session.
        # shellcheck disable=SC2086  # DOCKERD_FLAGS holds several flags: split on purpose
        setsid nohup dockerd $DOCKERD_FLAGS >>"$DOCKERD_LOG" 2>&1 </dev/null &
    fi
    if wait_engine "$WAIT_SECONDS"; then
        log "engine up: $(docker version --format 'server {{.Server.Version}}, API {{.Server.APIVersion}}' 2>/dev/null)"
        return 0
    fi
    log "engine not up after ${WAIT_SECONDS}s; last log lines:"
    tail -n 30 "$DOCKERD_LOG" >&2 || true
    return 1
}

# --check: a network smoke test with a throwaway busybox image imported from
# Debian's busybox-static package (no registry needed): two containers on a
# user-defined network reach each other by name, and a port published on
# 127.0.0.1 is reachable from the host.
check_network() {
    local img=harness/busybox:local net=harness-check-net tmp
    if ! docker image inspect "$img" >/dev/null 2>&1; then
        tmp=$(mktemp -d)
        chmod 755 "$tmp"; (cd "$tmp" && apt-get download busybox-static >/dev/null 2>&1) || { log "apt-get download busybox-static failed (run apt-get update?)"; return 1; }
        mkdir -p "$tmp/root/bin" "$tmp/root/www"
        dpkg-deb -x "$tmp"/busybox-static_*.deb "$tmp/deb"
        cp "$tmp/deb/bin/busybox" "$tmp/root/bin/busybox"
        for a in sh httpd wget nslookup sleep echo cat; do ln -s busybox "$tmp/root/bin/$a"; done
        echo harness-ok >"$tmp/root/www/index.html"
        tar -C "$tmp/root" -c . | docker import -c 'CMD ["/bin/sh"]' - "$img" >/dev/null
        rm -rf "$tmp"
    fi
    docker rm -f harness-check-web >/dev/null 2>&1 || true
    docker network rm "$net" >/dev/null 2>&1 || true
    docker network create "$net" >/dev/null
    local port
    port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
    docker run -d --name harness-check-web --network "$net" --network-alias web \
        -p "127.0.0.1:$port:80" "$img" httpd -f -p 80 -h /www >/dev/null
    local rc=0 out
    out=$(docker run --rm --network "$net" "$img" sh -c 'for i in 1 2 3 4 5; do wget -q -O - http://web/ && exit 0; sleep 1; done; exit 1') || rc=1
    if [ "$out" = harness-ok ]; then log "check: by-name on user network OK"; else log "check: by-name FAILED"; rc=1; fi
    out=$(python3 - "$port" <<'EOF'
import sys, time, urllib.request
for _ in range(10):
    try:
        print(urllib.request.urlopen(f"http://127.0.0.1:{sys.argv[1]}/", timeout=3).read().decode().strip()); break
    except Exception:
        time.sleep(0.5)
EOF
    ) || true
    if [ "$out" = harness-ok ]; then log "check: 127.0.0.1:$port published port OK"; else log "check: published port FAILED"; rc=1; fi
    docker rm -f harness-check-web >/dev/null 2>&1 || true
    docker network rm "$net" >/dev/null 2>&1 || true
    return $rc
}

start_engine
if [ "${1:-}" = --check ]; then
    check_network
fi
