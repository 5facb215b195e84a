#!/bin/sh
# The shipped example config and the example of enrichd.conf(5) pass `enrichd check` (config and
# models, no connection), and `--dump-config` shows the man page's secrets only as references.
# usage: configs.sh ENRICHD SOURCE_DIR
set -eu
enrichd=$1
src=$2
. "$(dirname "$0")/common.sh"

# the shipped example
out=$("$enrichd" check -c "$src/config/enrichd.conf.example") ||
    fail "enrichd check rejects config/enrichd.conf.example"
[ "$out" = "configuration OK" ] || fail "check printed '$out'"

# the first example block of the EXAMPLE section of enrichd.conf(5), roff escapes undone
awk '/^\.SH EXAMPLE/ { s = 1 }
     s && /^\.EX/ { x = 1; next }
     x && /^\.EE/ { exit }
     x { gsub(/\\-/, "-"); gsub(/\\&/, ""); gsub(/\\e/, "\\"); print }' \
    "$src/docs/man/enrichd.conf.5" >"$tmp/man.conf"
grep -q '^\[kafka\]' "$tmp/man.conf" || fail "no example config found in enrichd.conf.5"

# its password is a systemd credential: without one, check names the missing credential
if "$enrichd" check -c "$tmp/man.conf" 2>"$tmp/err"; then
    fail "check passed without \$CREDENTIALS_DIRECTORY"
else
    rc=$?
    [ "$rc" = 78 ] || fail "check exited $rc, not 78"
fi
# every error, not only the first: one per section that refers to the credential
for section in consumer producer; do
    grep -q "man.conf:[0-9]*: \[kafka.$section\] sasl.password: @credential:kafka-sasl-password: \\\$CREDENTIALS_DIRECTORY is not set" "$tmp/err" ||
        fail "no error for [kafka.$section]: $(cat "$tmp/err")"
done
[ "$(wc -l <"$tmp/err")" = 2 ] || fail "expected 2 errors: $(cat "$tmp/err")"

mkdir "$tmp/creds"
secret="pw-$$-not-for-logs"
printf '%s\n' "$secret" >"$tmp/creds/kafka-sasl-password"
out=$(CREDENTIALS_DIRECTORY="$tmp/creds" "$enrichd" check -c "$tmp/man.conf") ||
    fail "enrichd check rejects the example of enrichd.conf(5)"
[ "$out" = "configuration OK" ] || fail "check printed '$out'"

CREDENTIALS_DIRECTORY="$tmp/creds" "$enrichd" check -c "$tmp/man.conf" --dump-config \
    >"$tmp/dump" 2>"$tmp/verdict" || fail "--dump-config failed"
[ "$(cat "$tmp/verdict")" = "configuration OK" ] || fail "--dump-config verdict: $(cat "$tmp/verdict")"
if grep -q "$secret" "$tmp/dump"; then
    fail "--dump-config shows the secret"
fi
[ "$(grep -c '^sasl.password = @credential:kafka-sasl-password$' "$tmp/dump")" = 2 ] ||
    fail "--dump-config does not show the credential references: $(cat "$tmp/dump")"
grep -q '^input_topics = news.de, news.en$' "$tmp/dump" || fail "dump lacks the input topics"
grep -q '^max_inflight_bytes = 67108864$' "$tmp/dump" || fail "dump lacks a default"

# the dump is itself a valid config that means the same
CREDENTIALS_DIRECTORY="$tmp/creds" "$enrichd" check -c "$tmp/dump" --dump-config \
    >"$tmp/dump2" 2>/dev/null || fail "the dump does not pass check"
sed 1d "$tmp/dump" >"$tmp/a"
sed 1d "$tmp/dump2" >"$tmp/b"
cmp -s "$tmp/a" "$tmp/b" || fail "the dump of the dump differs: $(diff "$tmp/a" "$tmp/b")"
echo "configs: ok"
