#!/bin/sh
# Secrets never reach the log: the daemon runs against the local broker with librdkafka's config
# debugging on, a SASL password from a systemd credential and a literal one, and neither value
# appears in its output while the properties themselves are logged (redacted by librdkafka).
# usage: secret_logs.sh ENRICHD
set -eu
enrichd=$1
. "$(dirname "$0")/common.sh"
broker=
daemon=
cleanup_extra() {
    [ -n "$daemon" ] && kill "$daemon" 2>/dev/null
    [ -n "$broker" ] && kill "$broker" 2>/dev/null
    wait 2>/dev/null
}

"$enrichd" broker --topic in --topic out --topic dlq >"$tmp/broker" 2>/dev/null &
broker=$!
wait_for 120 'grep -qs "^bootstrap.servers=" "$tmp/broker"' || fail "the broker did not start"
servers=$(sed -n 's/^bootstrap.servers=//p' "$tmp/broker")

mkdir "$tmp/creds"
printf 'credential-secret-%s\n' $$ >"$tmp/creds/kafka-sasl-password"
cat >"$tmp/enrichd.conf" <<CONF
[kafka]
input_topics = in
output_topic = out
dlq_topic = dlq
[kafka.consumer]
debug = conf,security
sasl.username = enrichd
sasl.password = @credential:kafka-sasl-password
[kafka.producer]
debug = conf
sasl.password = literal-secret-$$
ssl.key.password = @file:$tmp/creds/kafka-sasl-password
[pipeline]
stages =
CONF

CREDENTIALS_DIRECTORY=$tmp/creds ENRICHD_LOG_LEVEL=debug \
    "$enrichd" run -c "$tmp/enrichd.conf" --brokers "$servers" 2>"$tmp/log" &
daemon=$!
# both clients have logged their configuration
wait_for 120 '[ "$(grep -c "CONF.*sasl.password = " "$tmp/log")" -ge 2 ]' ||
    fail "librdkafka did not log its configuration"
kill -TERM "$daemon"
wait_for 120 '! kill -0 "$daemon" 2>/dev/null' || fail "the daemon did not stop"
wait "$daemon" || fail "the daemon exited with $?"
daemon=

if grep -n "secret-$$" "$tmp/log" >&2; then
    fail "a secret value is in the log"
fi
grep -q "ssl.key.password = \[redacted\]" "$tmp/log" || fail "ssl.key.password is not logged redacted"
echo "secret_logs: ok"
