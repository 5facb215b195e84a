#!/bin/sh
# peer_opennlp: the peer benchmark. Trains Apache OpenNLP's maxent name finder (Debian package
# opennlp) on the same training files as models/entities/, evaluates it on the same dev sets and
# times its tagging, so its F1 and speed sit beside ent_eval's.
# usage: bench/entities/peer_opennlp.sh [DATA_DIR] [WORK_DIR]
set -eu
data=${1:-../shared/data}/ner
work=${2:-/tmp/enrichd-peer-opennlp}
here=$(dirname "$0")
mkdir -p "$work"
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
