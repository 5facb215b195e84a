#!/bin/sh
# train_models: rebuilds models/entities/{de,en}.model, countries.tsv and cities.tsv from
# ../shared/data.
# usage: tools/entities/train_models.sh BUILD_DIR [DATA_DIR]   (run from the repository root)
set -eu
build=${1:?usage: train_models.sh BUILD_DIR [DATA_DIR]}
data=${2:-../shared/data}
ner=$data/ner
g=$data/gazetteers/derived
out=models/entities
train=$build/tools/entities/ent_train
gaz="-g first:$g/per_firstnames_genderc.tsv.gz -g first:$g/per_vornamen_de_newborn.tsv.gz
     -g loc:$g/loc_cities15000_latin.tsv.gz -g loc:$g/loc_admin1_latin.tsv.gz
     -g country:$g/loc_countries_de_en.tsv.gz -g org:$g/org_parties_partyfacts.tsv.gz
     -g org:$g/org_misc_corpora_cc0.tsv.gz -g surname:$g/per_politicians_everypolitician2015.tsv.gz
     -g demonym:$g/misc_demonyms_en.tsv.gz"
mkdir -p "$out"
# shellcheck disable=SC2086
"$train" -o "$out/de.model" -e 20 -b 19 -s 1 $gaz bioes:"$ner/de/germeval2014/train_bioes.train.gz"
# shellcheck disable=SC2086
"$train" -o "$out/en.model" -e 20 -b 19 -s 1 $gaz conll:"$ner/en/conll2003_restricted/eng.train.gz"
tools/entities/build_countries.sh "$g" > "$out/countries.tsv"
tools/entities/build_cities.sh "$g" > "$out/cities.tsv"
