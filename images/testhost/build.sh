#!/bin/bash
# Build the "production-shaped" test host image: Debian 12 (bookworm) or 13
# (trixie) with systemd as PID 1, openssh-server (key-only, no root login), a
# `deploy` user with passwordless sudo, and NO Docker. tests/harness/testhosts.py
# starts containers from it.
#
#   bash images/testhost/build.sh                # bookworm: build if missing; print the tag
#   bash images/testhost/build.sh --suite=trixie # the same recipe from Debian 13
#   bash images/testhost/build.sh --print-tag    # only print the tag it would build
#   bash images/testhost/build.sh --force        # rebuild even if the tag exists
#   bash images/testhost/build.sh --no-start     # do not run scripts/start-docker.sh
#
# The tag is postgrest-stack-testhost/SUITE-systemd:<hash>, the hash covering
# every build input: this script, the files under images/testhost/, the Debian
# sources file and the apt options copied from the host. A changed recipe
# therefore gets a new tag and is built; an unchanged one is never rebuilt.
# The tag is the last line on stdout; progress goes to stderr.
#
# The rootfs comes from mmdebstrap with the same mirror as this machine's apt
# (its sources file is pasted in, this machine's codename replaced by SUITE) and
# the apt settings that matter for reaching it (proxy, Check-Valid-Until,
# Check-Date) copied in, so the hosts can later use the same archive through the
# harness's apt proxy.
# Needs root, docker, mmdebstrap and a reachable Debian mirror.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source-path=SCRIPTDIR source=../lib.sh
. "$HERE/../lib.sh"   # parse_options (FORCE, START), say
SAY_PREFIX=testhost/build.sh
SAY_FD=2   # stdout is for the tag
PRINT_ONLY=0
SUITE=bookworm
script_option() { # the options only this script has
    case "$1" in
        --print-tag) PRINT_ONLY=1 ;;
        --suite=*) SUITE=${1#--suite=} ;;
        *) return 1 ;;
    esac
}
parse_options "$@"

ROOT=$(cd "$HERE/../.." && pwd)
BUILD_DIR=${BUILD_DIR:-$ROOT/build/testhost}
# The releases the fleet tests prove (docs/maintainers.md, "Which hosts are proven").
case "$SUITE" in
    bookworm) RELEASE="Debian 12" ;;
    trixie) RELEASE="Debian 13" ;;
    *) echo "testhost/build.sh: --suite=$SUITE: not a release this recipe builds (bookworm, trixie)" >&2
       exit 2 ;;
esac
REPO=postgrest-stack-testhost/$SUITE-systemd

HOST_SOURCES=${TESTHOST_SOURCES:-}
if [ -z "$HOST_SOURCES" ]; then
    if [ -s /etc/apt/sources.list.d/debian.sources ]; then
        HOST_SOURCES=/etc/apt/sources.list.d/debian.sources
    else
        HOST_SOURCES=/etc/apt/sources.list
    fi
fi
# This machine's mirror, its suites renamed to SUITE (bookworm-updates becomes
# trixie-updates, bookworm-security trixie-security). Same file name: mmdebstrap
# tells deb822 (.sources) from one-line format by it.
HOST_CODENAME=$(. /etc/os-release && echo "${VERSION_CODENAME:-}")
if [ -z "$HOST_CODENAME" ]; then
    echo "testhost/build.sh: no VERSION_CODENAME in /etc/os-release (which Debian is this?)" >&2
    exit 1
fi
mkdir -p "$BUILD_DIR/sources-$SUITE"
SOURCES=$BUILD_DIR/sources-$SUITE/$(basename "$HOST_SOURCES")
# (the expression twice: in "bookworm bookworm-updates" one pass eats the blank between)
word="(^|[^[:alnum:]])$HOST_CODENAME([^[:alnum:]]|\$)"
tmp=$(mktemp "$SOURCES.XXXXXX")
sed -E "s/$word/\\1$SUITE\\2/g; s/$word/\\1$SUITE\\2/g" "$HOST_SOURCES" >"$tmp"
mv "$tmp" "$SOURCES"
if ! grep -qw "$SUITE" "$SOURCES"; then
    echo "testhost/build.sh: $HOST_SOURCES names no suite $HOST_CODENAME to turn into $SUITE" >&2
    exit 1
fi


PACKAGES=systemd,systemd-sysv,libpam-systemd,dbus,openssh-server,sudo,ca-certificates
PACKAGES+=,iproute2,curl,gzip,procps,python3,less,netbase

# Units that make no sense in a container (no consoles, no kernel modules, no
# hardware) and only slow the boot or mark it degraded.
MASK=(getty@.service serial-getty@.service console-getty.service getty.target
      systemd-firstboot.service systemd-udevd.service systemd-udev-trigger.service
      systemd-modules-load.service sys-kernel-config.mount sys-kernel-debug.mount
      sys-kernel-tracing.mount sys-fs-fuse-connections.mount systemd-resolved.service
      systemd-timesyncd.service apt-daily.timer apt-daily-upgrade.timer e2scrub_all.timer
      e2scrub_reap.service fstrim.timer)

# hooks run in sh with $1 = the rootfs being built: single quotes on purpose
# shellcheck disable=SC2016
MM_ARGS=(
    --variant=minbase
    --include="$PACKAGES"
    --dpkgopt='path-exclude=/usr/share/man/*'
    --dpkgopt='path-exclude=/usr/share/doc/*'
    --dpkgopt='path-include=/usr/share/doc/*/copyright'
    --dpkgopt='path-exclude=/usr/share/locale/*'
    --dpkgopt='path-exclude=/usr/share/info/*'
    --customize-hook='cp -r "'"$HERE"'/rootfs/." "$1/"'
    --customize-hook='chroot "$1" systemctl mask '"${MASK[*]}"' >/dev/null 2>&1'
    --customize-hook='chroot "$1" systemctl enable testhost-ssh-keygen.service >/dev/null 2>&1'
    # every host makes its own host keys at first boot (testhost-ssh-keygen.service)
    --customize-hook='rm -f "$1"/etc/ssh/ssh_host_*'
    --customize-hook='chroot "$1" useradd --create-home --shell /bin/bash --uid 1000 --user-group deploy'
    # "*": no password, but not "locked" either (sshd refuses locked accounts without PAM)
    --customize-hook='chroot "$1" usermod -p "*" deploy'
    --customize-hook='chmod 0440 "$1/etc/sudoers.d/deploy" && chroot "$1" visudo -cq'
    # regular files only: the masked units are symlinks to /dev/null, and chmod follows
    # a symlink outside the chroot, onto the build machine's own /dev/null
    --customize-hook='find "$1"/etc/ssh/sshd_config.d "$1"/etc/systemd/system -maxdepth 1 -type f \( -name "*.conf" -o -name "*.service" \) -exec chmod 0644 {} +'
    # a fresh machine-id per container (systemd makes one at boot)
    --customize-hook=': >"$1/etc/machine-id"; rm -f "$1/var/lib/dbus/machine-id"'
    --customize-hook='rm -rf "$1"/var/lib/apt/lists/* "$1"/var/cache/apt/*.bin'
)
for f in /etc/apt/apt.conf.d/*; do
    [ -f "$f" ] || continue
    if grep -qiE '^[^/#]*(proxy|check-valid-until|check-date)' "$f"; then
        MM_ARGS+=(--aptopt="$f")
    fi
done
MM_ARGS+=("$SUITE")

# (images/lib.sh is not hashed: options and progress lines only, nothing of the image.)
inputs_hash() {
    {
        cat "$HERE/build.sh"
        (cd "$HERE" && find rootfs -type f | LC_ALL=C sort | while read -r f; do
            echo "== $f $(stat -c %a "$f")"; cat "$f"; done)
        printf '%s\n' "${MM_ARGS[@]}"
        cat "$SOURCES"
        for a in "${MM_ARGS[@]}"; do
            case "$a" in --aptopt=/*) cat "${a#--aptopt=}" ;; esac
        done
    } | sha256sum | cut -c1-16
}

TAG=$REPO:$(inputs_hash)
if [ "$PRINT_ONLY" = 1 ]; then
    echo "$TAG"
    exit 0
fi

[ "$START" = 1 ] && "$ROOT/scripts/start-docker.sh" >&2

mkdir -p "$BUILD_DIR"
# one build at a time (two test sessions may ask at once)
exec 9>"$BUILD_DIR/.build.lock"
flock 9

if [ "$FORCE" = 0 ] && docker image inspect "$TAG" >/dev/null 2>&1; then
    say "$TAG: present, skipped"
    echo "$TAG"
    exit 0
fi

t0=$SECONDS
out="$BUILD_DIR/rootfs-$SUITE.tar"
rm -f "$out"
log="$BUILD_DIR/mmdebstrap-$SUITE.log"
say "mmdebstrap $SUITE (mirror from $HOST_SOURCES); log: $log"
if ! mmdebstrap "${MM_ARGS[@]}" "$out" "$SOURCES" >"$log" 2>&1; then
    tail -n 40 "$log" >&2
    exit 1
fi
t1=$SECONDS
docker import \
    -c 'ENV container=docker' \
    -c 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    -c 'CMD ["/sbin/init"]' \
    -m "$RELEASE ($SUITE) + systemd + sshd, a production-shaped test host (images/testhost/build.sh)" \
    "$out" "$TAG" >/dev/null
rm -f "$out"
# untag images of older recipes (their layers go when no container uses them), once
# they are a day old: two checkouts side by side (worktrees sharing the engine) with
# different recipes must not untag each other's image on every run
cutoff=$(date -d '1 day ago' +%s)
docker image ls --format '{{.Repository}}:{{.Tag}}' "$REPO" | grep -vxF "$TAG" |
    while read -r old; do
        created=$(docker image inspect --format '{{.Created}}' "$old" 2>/dev/null) || continue
        [ "$(date -d "$created" +%s 2>/dev/null || echo 0)" -lt "$cutoff" ] && echo "$old"
    done | xargs -r docker rmi >/dev/null 2>&1 || true
say "$TAG: built in $((SECONDS - t0))s (mmdebstrap $((t1 - t0))s), $(docker image inspect --format '{{.Size}}' "$TAG" | awk '{printf "%d MB", $1/1e6}')"
echo "$TAG"
