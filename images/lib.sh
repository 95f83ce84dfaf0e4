# shellcheck shell=bash
# What images/build.sh and images/testhost/build.sh share, sourced by both (never run):
# their options and their progress lines. Nothing here goes into an image.

# parse_options ARG...: the options both scripts take, in the order given.
#   --force      FORCE=1 (rebuild even when up to date; else 0)
#   --no-start   START=0 (do not run scripts/start-docker.sh first; else 1)
#   -h, --help   print the script's leading comment (its usage) and exit 0
# Any other ARG goes to the script's own `script_option ARG`, when it defines one, which
# returns non-zero for an option it does not know either: "unknown argument: ARG" on
# stderr, exit 2.
# shellcheck disable=SC2034  # FORCE and START are read by the script that sources this file
parse_options() {
    local arg
    FORCE=0 START=1
    for arg; do
        case "$arg" in
            --force) FORCE=1 ;;
            --no-start) START=0 ;;
            -h|--help) sed -n '2,${/^#/!q;p}' "$0"; exit 0 ;;
            *)
                if ! declare -F script_option >/dev/null || ! script_option "$arg"; then
                    echo "unknown argument: $arg" >&2
                    exit 2
                fi ;;
        esac
    done
}

# say TEXT...: one progress line, "SAY_PREFIX: TEXT", on file descriptor SAY_FD (1 unless
# the script says otherwise; testhost/build.sh keeps its stdout for the tag).
say() { echo "${SAY_PREFIX:?}: $*" >&"${SAY_FD:-1}"; }
