#!/bin/sh
# The README's demo command: installs what is missing, builds, starts the embedded
# Kafka-protocol broker, produces the sample articles (and two bad messages), runs the daemon
# over them and prints the enriched output and the dead-letter topic.
set -eu
cd "$(dirname "$0")/.."
ROOT=$(pwd)
BUILD="$ROOT/build"

sh tools/install-deps.sh
cmake -S "$ROOT" -B "$BUILD" >/dev/null
cmake --build "$BUILD" -j "$(nproc 2>/dev/null || echo 2)"
BIN="$BUILD/daemon/enrichd"
export ENRICHD_MODEL_DIR="$ROOT/models"

WORK=$(mktemp -d)
BROKER_PID=""
DAEMON_PID=""
cleanup() {
    [ -n "$DAEMON_PID" ] && kill "$DAEMON_PID" 2>/dev/null || true
    [ -n "$BROKER_PID" ] && kill "$BROKER_PID" 2>/dev/null || true
    wait 2>/dev/null || true
    rm -rf "$WORK"
}
trap cleanup EXIT INT TERM

# 1. the embedded broker; it prints bootstrap.servers=HOST:PORT once it listens
"$BIN" broker --partitions 2 --topic articles --topic articles.enriched --topic articles.dlq \
    > "$WORK/broker.out" 2> "$WORK/broker.log" &
BROKER_PID=$!
i=0
until grep -q '^bootstrap.servers=' "$WORK/broker.out" 2>/dev/null; do
    i=$((i + 1))
    if [ $i -gt 100 ]; then
        echo "demo: the broker did not start" >&2
        cat "$WORK/broker.log" >&2
        exit 1
    fi
    sleep 0.1
done
BROKERS=$(sed -n 's/^bootstrap.servers=//p' "$WORK/broker.out" | head -n 1)
echo "== broker at $BROKERS"

# 2. the sample articles and two bad messages, produced with kcat
N_GOOD=$(grep -c . tests/data/sample_articles.jsonl)
kcat -P -b "$BROKERS" -t articles -K '\t' -z none <<EOF2
$(awk '{ printf "k%d\t%s\n", NR, $0 }' tests/data/sample_articles.jsonl)
bad1	this is not JSON
bad2	{"id": "no-text", "title": 42}
EOF2
echo "== produced $N_GOOD articles and 2 bad messages to topic 'articles'"

# 3. the daemon, with a config written for this broker
cat > "$WORK/enrichd.conf" <<EOF2
[kafka]
brokers = $BROKERS
input_topics = articles
output_topic = articles.enriched
dlq_topic = articles.dlq
group_id = enrichd-demo
[kafka.consumer]
auto.offset.reset = earliest
EOF2
"$BIN" run -c "$WORK/enrichd.conf" 2> "$WORK/daemon.log" &
DAEMON_PID=$!

# 4. read the output topic until every article is there (at most 60 s); kcat -e stops at the
#    current end of the topic, so ask again until all have arrived
: > "$WORK/out.jsonl"
i=0
while [ "$(grep -c . "$WORK/out.jsonl" || true)" -lt "$N_GOOD" ] && [ $i -lt 120 ]; do
    [ $i -gt 0 ] && sleep 0.5
    i=$((i + 1))
    kcat -C -b "$BROKERS" -t articles.enriched -o beginning -c "$N_GOOD" -e -q \
        > "$WORK/out.jsonl" 2>/dev/null || true
done
echo "== enriched output (topic 'articles.enriched'):"
if command -v python3 >/dev/null; then
    python3 -c 'import json,sys
for line in sys.stdin:
    print(json.dumps(json.loads(line), ensure_ascii=False, indent=2))' < "$WORK/out.jsonl"
else
    cat "$WORK/out.jsonl"
fi
echo "== dead-letter topic 'articles.dlq' (value, then the reason headers):"
kcat -C -b "$BROKERS" -t articles.dlq -o beginning -c 2 -e -q \
    -f 'value: %s\nheaders: %h\n\n' || true

kill -TERM "$DAEMON_PID"
wait "$DAEMON_PID" && status=0 || status=$?
DAEMON_PID=""
echo "== daemon exited with status $status after SIGTERM; its log:"
cat "$WORK/daemon.log"
GOT=$(grep -c . "$WORK/out.jsonl" || true)
echo "== $GOT of $N_GOOD articles enriched"
[ "$GOT" -eq "$N_GOOD" ] && [ "$status" -eq 0 ]
