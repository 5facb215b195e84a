# common.sh: sourced by the shell tests: a scratch directory $tmp removed at exit, fail, wait_for.
tmp=$(mktemp -d)
trap 'cleanup_extra; rm -rf "$tmp"' EXIT

# A test redefines this to stop what it started.
cleanup_extra() {
    :
}

# Prints the reason (and $tmp/log when there is one) and ends the test.
fail() {
    echo "FAIL: $*" >&2
    if [ -f "$tmp/log" ]; then
        cat "$tmp/log" >&2
    fi
    exit 1
}

# Polls in 0.1 s steps until the shell command $2 succeeds, for at most $1 seconds.
wait_for() {
    n=$(($1 * 10))
    while [ "$n" -gt 0 ]; do
        eval "$2" && return 0
        sleep 0.1
        n=$((n - 1))
    done
    return 1
}
