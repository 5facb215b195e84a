#!/bin/sh
# `cmake --install` into a DESTDIR places the binary, /etc/enrichd/enrichd.conf, the unit files,
# the models and the man pages, and the installed binary passes `enrichd check` on the installed
# config with the installed models.
# usage: install_destdir.sh CMAKE BUILD_DIR PREFIX UNIT_DIR CONFIG_DIR
set -eu
cmake=$1
build=$2
prefix=$3
unitdir=$4
confdir=$5
. "$(dirname "$0")/common.sh"
dest=$tmp/root

DESTDIR=$dest "$cmake" --install "$build" >"$tmp/log" 2>&1 || fail "cmake --install"
for f in "$prefix/bin/enrichd" "$confdir/enrichd.conf" "$unitdir/enrichd.service" \
    "$unitdir/enrichd@.service" "$prefix/share/enrichd/models/lang/lang.bin" \
    "$prefix/share/enrichd/models/entities/de.model" \
    "$prefix/share/enrichd/models/entities/en.model" \
    "$prefix/share/enrichd/models/entities/countries.tsv" \
    "$prefix/share/enrichd/models/entities/cities.tsv" \
    "$prefix/share/man/man8/enrichd.8" "$prefix/share/man/man5/enrichd.conf.5"; do
    [ -f "$dest$f" ] || fail "not installed: $f"
done
[ -x "$dest$prefix/bin/enrichd" ] || fail "$prefix/bin/enrichd is not executable"
case $confdir in /etc/*) ;; *) fail "config dir $confdir is not under /etc" ;; esac
# nothing escaped the DESTDIR into a relative etc/ under the prefix
[ ! -e "$dest$prefix/etc" ] || fail "something was installed in $prefix/etc"

out=$(ENRICHD_MODEL_DIR="$dest$prefix/share/enrichd/models" \
    "$dest$prefix/bin/enrichd" check -c "$dest$confdir/enrichd.conf") ||
    fail "the installed enrichd rejects the installed config"
[ "$out" = "configuration OK" ] || fail "check printed '$out'"
ENRICHD_MODEL_DIR="$dest$prefix/share/enrichd/models" "$dest$prefix/bin/enrichd" --version |
    grep -q "model entities/de.model" || fail "--version lists no installed model"
echo "install_destdir: ok"
