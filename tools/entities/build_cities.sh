#!/bin/sh
# build_cities: compiles GeoNames city names (>= 50,000 inhabitants; main, ASCII and alternate
# Latin-script names, so German exonyms like "München" too) into models/entities/cities.tsv:
# "name<TAB>geonameid". A name shared by two cities is kept only when the larger has at least ten
# times the people of the next one; otherwise it is ambiguous and left out.
# usage: tools/entities/build_cities.sh [GAZETTEER_DIR] > models/entities/cities.tsv
set -eu
dir=${1:-../shared/data/gazetteers/derived}
zcat "$dir/loc_cities15000_latin.tsv.gz" |
    awk -F'\t' 'NR > 1 && length($1) >= 3 {
        if (!($1 in top)) { top[$1] = $2; pop[$1] = $5 + 0; order[++n] = $1 }
        else if (top[$1] != $2 && !($1 in second)) second[$1] = $5 + 0 }
        END { for (i = 1; i <= n; i++) { k = order[i]
            if (pop[k] >= 50000 && (!(k in second) || pop[k] >= 10 * second[k]))
                print k "\t" top[k] } }' |
    LC_ALL=C sort -u
