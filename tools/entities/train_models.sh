#!/bin/sh
# train_models: rebuilds models/entities/{de,en}.model, countries.tsv and cities.tsv from
# ../shared/data. Word clusters (BUILD_DIR/{de,en}.clusters, written by ent_clusters from the
# tokens of the training corpus and the other corpora's train splits) go into the models.
# usage: tools/entities/train_models.sh BUILD_DIR [DATA_DIR]   (run from the repository root)
set -eu
build=${1:?usage: train_models.sh BUILD_DIR [DATA_DIR]}
data=${2:-../shared/data}
ner=$data/ner
g=$data/gazetteers/derived
out=models/entities
train=$build/tools/entities/ent_train
clusters=$build/tools/entities/ent_clusters
gaz="-g first:$g/per_firstnames_genderc.tsv.gz -g first:$g/per_vornamen_de_newborn.tsv.gz
     -g loc:$g/loc_cities15000_latin.tsv.gz -g loc:$g/loc_admin1_latin.tsv.gz
     -g country:$g/loc_countries_de_en.tsv.gz -g org:$g/org_parties_partyfacts.tsv.gz
     -g org:$g/org_misc_corpora_cc0.tsv.gz -g surname:$g/per_politicians_everypolitician2015.tsv.gz
     -g demonym:$g/misc_demonyms_en.tsv.gz"
# Other annotated corpora (train splits only): the entity-word lexicon is learned from them.
xde="-x wikiann:$ner/de/wikiann/train.txt.gz -x bioes:$ner/de/conll2003_restricted/deu.train.bioes.gz
     -x conll:$ner/de/ler/ler_train_reconstructed.conll.gz
     -x conll:$ner/de/smartdata/smartdata_v1_train_minus_v3devtest.conll.gz
     -x conll:$ner/de/mobie/train.conll2003.gz -x conll:$ner/de/europeana/enp_DE.lft.bio.gz
     -x conll:$ner/de/europeana/enp_DE.onb.bio.gz"
xen="-x wikiann:$ner/en/wikiann/train.txt.gz -x conll:$ner/en/wnut17/wnut17train.conll.gz"
mkdir -p "$out"
# Unlabelled text for the clusters: the same corpora, tags ignored.
# shellcheck disable=SC2086
"$clusters" -d 10 -m 3 bioes:"$ner/de/germeval2014/train_bioes.train.gz" $(echo $xde | sed 's/-x //g') \
    > "$build/de.clusters"
# shellcheck disable=SC2086
"$clusters" -d 10 -m 3 conll:"$ner/en/conll2003_restricted/eng.train.gz" $(echo $xen | sed 's/-x //g') \
    > "$build/en.clusters"
# shellcheck disable=SC2086
"$train" -o "$out/de.model" -e 12 -r 5 -b 19 -s 1 $gaz $xde -c "$build/de.clusters" \
    bioes:"$ner/de/germeval2014/train_bioes.train.gz"
# shellcheck disable=SC2086
"$train" -o "$out/en.model" -e 12 -r 5 -b 19 -s 1 $gaz $xen -c "$build/en.clusters" \
    conll:"$ner/en/conll2003_restricted/eng.train.gz"
tools/entities/build_countries.sh "$g" > "$out/countries.tsv"
tools/entities/build_cities.sh "$g" > "$out/cities.tsv"
