#!/bin/sh
# build_countries: compiles the country-name list (German and English names, official names,
# alternative spellings) into models/entities/countries.tsv: "name<TAB>ISO 3166-1 alpha-2".
# Names shared by two countries are left out (ambiguous). Capitals are not countries.
# usage: tools/entities/build_countries.sh [GAZETTEER_DIR] > models/entities/countries.tsv
set -eu
dir=${1:-../shared/data/gazetteers/derived}
zcat "$dir/loc_countries_de_en.tsv.gz" |
    awk -F'\t' 'NR > 1 && $2 != "" && $4 != "capital" {
        sub(/^ +/, "", $1); sub(/ +$/, "", $1); if (length($1) >= 2) print $1 "\t" $2 }' |
    LC_ALL=C sort -u |
    awk -F'\t' '{ n[$1]++; iso[$1] = $2; order[NR] = $1 }
        END { for (i = 1; i <= NR; i++) { k = order[i]; if (n[k] == 1) print k "\t" iso[k] } }'
