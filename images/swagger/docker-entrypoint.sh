#!/bin/sh
# Entrypoint of the swagger-ui stand-in (see Dockerfile). Does at every start
# what the official image's entrypoint does: writes swagger-initializer.js so
# that the UI loads the spec named by the environment, then serves the
# static files on port 8080 (busybox httpd instead of nginx).
#
# Spec URL, picked as the official image picks it:
#   URL, if set (even empty)  > API_URL (legacy name), if set (even empty)
#   > SWAGGER_JSON_URL, if non-empty > the petstore default of swagger-ui-dist.
# The initializer is regenerated from the pristine copy at every start, so a
# restarted container with other variables does not keep the old URL.
set -eu

ROOT=/usr/share/nginx/html
DIST=/usr/share/nginx/swagger-initializer.js.dist
PETSTORE='https://petstore\.swagger\.io/v2/swagger\.json'

if [ -n "${URL+set}" ]; then
    spec=$URL
elif [ -n "${API_URL+set}" ]; then
    spec=$API_URL
elif [ -n "${SWAGGER_JSON_URL:-}" ]; then
    spec=$SWAGGER_JSON_URL
else
    spec=https://petstore.swagger.io/v2/swagger.json
fi

# escape for a double-quoted JS string (\ and ", newlines as \n), then for
# the replacement side of sed s||| (\, & and the | delimiter)
js=$(printf '%s' "$spec" | sed -e ':a' -e '$!{N;ba' -e '}' -e 's/[\\"]/\\&/g' -e 's/\n/\\n/g')
repl=$(printf '%s' "$js" | sed -e 's/[\\&|]/\\&/g')
if ! sed "s|url: \"$PETSTORE\"|url: \"$repl\"|" "$DIST" >"$ROOT/swagger-initializer.js"; then
    echo "swagger-ui: cannot write $ROOT/swagger-initializer.js (it belongs to uid 101; run as 101 or root)" >&2
    exit 1
fi

[ "$#" -gt 0 ] && exec "$@"

# busybox httpd ignores SIGTERM as PID 1 (no handler), so it runs as a child
# of this shell, which forwards the stop signal: `docker stop` takes no 10 s.
httpd -f -v -p "${PORT:-8080}" -h "$ROOT" -c /etc/httpd.conf &
pid=$!
stopping=0
trap 'stopping=1; kill "$pid" 2>/dev/null' INT TERM QUIT
echo "swagger-ui: serving $ROOT on port ${PORT:-8080}, spec url: $spec" >&2
set +e
while :; do
    wait "$pid"
    rc=$?
    kill -0 "$pid" 2>/dev/null || break
done
[ "$stopping" = 1 ] && exit 0
exit "$rc"
