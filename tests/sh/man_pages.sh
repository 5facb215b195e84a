#!/bin/sh
# enrichd(8) and enrichd.conf(5) format without groff warnings and document every command, every
# flag of every command's --help, every section and every key of the config.
# usage: man_pages.sh ENRICHD SOURCE_DIR
set -eu
enrichd=$1
src=$2
man8=$src/docs/man/enrichd.8
man5=$src/docs/man/enrichd.conf.5
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
bad=0

fail() {
    echo "FAIL: $*" >&2
    bad=1
}

for page in "$man8" "$man5"; do
    LC_ALL=C.UTF-8 groff -man -Tutf8 -ww -z "$page" >"$tmp/warn" 2>&1 || fail "groff failed on $page"
    [ -s "$tmp/warn" ] && fail "groff warns on $page: $(cat "$tmp/warn")"
    if command -v man >/dev/null 2>&1; then
        LC_ALL=C.UTF-8 MANWIDTH=80 man -l "$page" >"$tmp/text" 2>"$tmp/warn" ||
            fail "man -l failed on $page"
        [ -s "$tmp/warn" ] && fail "man -l warns on $page: $(cat "$tmp/warn")"
        grep -q "^NAME" "$tmp/text" || fail "man -l renders no NAME section of $page"
    fi
done

# commands: the second column of `enrichd --help`, each a subsection of enrichd(8)
"$enrichd" --help | awk '/^  [-a-z]/ { print $1 }' >"$tmp/commands"
[ -s "$tmp/commands" ] || fail "enrichd --help lists no commands"
while read -r cmd; do
    roff=$(printf '%s' "$cmd" | sed 's/-/\\-/g')
    grep -qxF ".SS $roff" "$man8" || fail "enrichd(8) has no subsection for '$cmd'"
    case $cmd in -*) continue ;; esac
    "$enrichd" "$cmd" --help >"$tmp/help" 2>&1 || fail "enrichd $cmd --help failed"
    grep -o -- '--[a-z][-a-z]*' "$tmp/help" | sort -u | while read -r flag; do
        roff=$(printf '%s' "$flag" | sed 's/-/\\-/g')
        grep -qF -- "$roff" "$man8" || { echo "FAIL: enrichd(8) lacks $cmd $flag" >&2; echo x; }
    done >"$tmp/missing"
    [ -s "$tmp/missing" ] && bad=1
done <"$tmp/commands"

# config: every section and key of the effective config of an empty file
: >"$tmp/empty.conf"
"$enrichd" check -c "$tmp/empty.conf" --stages none --dump-config >"$tmp/dump" 2>/dev/null ||
    fail "check --dump-config of an empty config failed"
while read -r line; do
    case $line in
    '['*']')
        grep -qF "$line" "$man5" || fail "enrichd.conf(5) has no section $line" ;;
    [a-z]*' ='*)
        key=${line%% =*}
        grep -Eq "^\.BR? $key( |\$)" "$man5" || fail "enrichd.conf(5) does not document $key" ;;
    esac
done <"$tmp/dump"
exit $bad
