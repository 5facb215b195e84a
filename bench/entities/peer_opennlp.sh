#!/bin/sh
# peer_opennlp: the peer benchmark. Trains Apache OpenNLP's maxent name finder (Debian package
# opennlp) on the same training files as models/entities/, evaluates it on the same dev sets and
# times its tagging. With BUILD_DIR, enrichd's tagger (ent_eval with models/entities/) runs on
# the same dev sets right after OpenNLP, so both sets of figures come from one run.
# usage: bench/entities/peer_opennlp.sh [DATA_DIR] [WORK_DIR] [BUILD_DIR]  (from the repository root)
set -eu
data=${1:-../shared/data}/ner
work=${2:-/tmp/enrichd-peer-opennlp}
build=${3:-}
here=$(dirname "$0")
mkdir -p "$work"
ours() {
    if [ -n "$build" ]; then
        echo "enrichd $1:"
        "$build/tools/entities/ent_eval" "models/entities/$1.model" "$2"
    fi
}
# English: CoNLL-2003 format, read by OpenNLP's own conll03 reader.
zcat "$data/en/conll2003_restricted/eng.train.gz" > "$work/eng.train"
zcat "$data/en/conll2003_restricted/eng.testa.gz" > "$work/eng.testa"
/usr/bin/time -f "opennlp en training: %U s user, %M KiB max RSS" \
    opennlp TokenNameFinderTrainer.conll03 -model "$work/en-ner.bin" -lang eng \
    -types per,loc,org,misc -data "$work/eng.train" -encoding UTF-8 > "$work/en-train.log"
opennlp TokenNameFinderEvaluator.conll03 -model "$work/en-ner.bin" -lang eng \
    -types per,loc,org,misc -data "$work/eng.testa" -encoding UTF-8 -detailedF true 2>&1 |
    tail -12
# Tagging speed: one sentence per line, as OpenNLP's TokenNameFinder reads it.
python3 "$here/opennlp_convert.py" conll "$work/eng.testa" plain > "$work/eng.testa.txt"
/usr/bin/time -f "opennlp en tagging: %e s wall, %U s user, %M KiB max RSS" \
    opennlp TokenNameFinder "$work/en-ner.bin" < "$work/eng.testa.txt" > /dev/null
echo "tokens: $(wc -w < "$work/eng.testa.txt")"
ours en "conll:$data/en/conll2003_restricted/eng.testa.gz"
# German: GermEval 2014 converted to OpenNLP's <START:type> ... <END> format.
python3 "$here/opennlp_convert.py" bioes "$data/de/germeval2014/train_bioes.train.gz" spans \
    > "$work/de.train"
python3 "$here/opennlp_convert.py" germeval "$data/de/germeval2014/NER-de-dev.tsv.gz" spans \
    > "$work/de.dev"
/usr/bin/time -f "opennlp de training: %U s user, %M KiB max RSS" \
    opennlp TokenNameFinderTrainer -model "$work/de-ner.bin" -lang deu -data "$work/de.train" \
    -encoding UTF-8 > "$work/de-train.log"
opennlp TokenNameFinderEvaluator -model "$work/de-ner.bin" -data "$work/de.dev" -encoding UTF-8 \
    -detailedF true 2>&1 | tail -12
python3 "$here/opennlp_convert.py" germeval "$data/de/germeval2014/NER-de-dev.tsv.gz" plain \
    > "$work/de.dev.txt"
/usr/bin/time -f "opennlp de tagging: %e s wall, %U s user, %M KiB max RSS" \
    opennlp TokenNameFinder "$work/de-ner.bin" < "$work/de.dev.txt" > /dev/null
echo "tokens: $(wc -w < "$work/de.dev.txt")"
ours de "germeval:$data/de/germeval2014/NER-de-dev.tsv.gz"
