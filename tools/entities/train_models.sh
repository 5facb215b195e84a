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
# Extra training data for the German tagger, at a lower update weight: CoNLL-2003 German train
# (weight 0.3; its MISC spans may also be O: it tags adjectives such as "deutschen" MISC, GermEval
# does not), WikiANN-de and SmartData train (weight 0.1; they have no MISC class, so their O tokens
# may be MISC). A corpus trained on is kept out of the entity-word lexicon (-x): the tagger would
# learn to trust the lexicon on the very sentences it was learned from.
conllde=$ner/de/conll2003_restricted/deu.train.bioes.gz
wikide=$ner/de/wikiann/train.txt.gz
smartde=$ner/de/smartdata/smartdata_v1_train_minus_v3devtest.conll.gz
# Other annotated corpora (train splits only): the entity-word lexicon is learned from them.
ler="-x conll:$ner/de/ler/ler_train_reconstructed.conll.gz"
xde="-x conll:$ner/de/mobie/train.conll2003.gz -x conll:$ner/de/europeana/enp_DE.lft.bio.gz
     -x conll:$ner/de/europeana/enp_DE.onb.bio.gz"
xen="-x wikiann:$ner/en/wikiann/train.txt.gz -x conll:$ner/en/wnut17/wnut17train.conll.gz"
mkdir -p "$out"
# Unlabelled text for the clusters: the same corpora, tags ignored.
# shellcheck disable=SC2046,SC2086
"$clusters" -d 10 -m 3 bioes:"$ner/de/germeval2014/train_bioes.train.gz" \
    wikiann:"$wikide" bioes:"$conllde" $(echo $ler | sed 's/-x //g') conll:"$smartde" \
    $(echo $xde | sed 's/-x //g') > "$build/de.clusters"
# shellcheck disable=SC2046,SC2086
"$clusters" -d 10 -m 3 conll:"$ner/en/conll2003_restricted/eng.train.gz" $(echo $xen | sed 's/-x //g') \
    > "$build/en.clusters"
# shellcheck disable=SC2086
"$train" -o "$out/de.model" -e 12 -r 5 -b 19 -s 1 $gaz $ler $xde -c "$build/de.clusters" \
    bioes:"$ner/de/germeval2014/train_bioes.train.gz" bioes,softmisc,w0.3:"$conllde" \
    wikiann,nomisc,w0.1:"$wikide" conll,nomisc,w0.1:"$smartde"
# shellcheck disable=SC2086
"$train" -o "$out/en.model" -e 12 -r 5 -b 19 -s 1 $gaz $xen -c "$build/en.clusters" \
    conll:"$ner/en/conll2003_restricted/eng.train.gz"
tools/entities/build_countries.sh "$g" > "$out/countries.tsv"
tools/entities/build_cities.sh "$g" > "$out/cities.tsv"
