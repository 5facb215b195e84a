/* ent_train: trains an entity model (averaged perceptron over BIOES tags, hashed features). */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>

#include "stages/entities/ent_model.h"
#include "tools/entities/ent_data.h"

static int cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

    return x < y ? -1 : x > y;
}

static uint64_t rng_state = 0x2545f4914f6cdd1dULL;

static uint64_t rng_next(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return rng_state;
}

/* Builds the sorted lexicon of lower-cased forms seen written in lower case. */
static uint32_t *build_lexicon(const struct ent_corpus *c, uint32_t *n_out)
{
    uint32_t *lex = malloc((c->n_tok + 1) * sizeof(uint32_t));
    size_t n = 0, u = 0;

    if (lex == NULL)
        return NULL;
    for (size_t i = 0; i < c->n_tok; i++) {
        const char *t = c->text + c->tok_off[i];
        struct ent_tokinfo ti;

        if (!ent_is_lower_word(t, c->tok_len[i]))
            continue;
        ent_tokinfo_fill(&ti, t, c->tok_len[i], 1, NULL);
        lex[n++] = ent_lex_key(&ti);
    }
    qsort(lex, n, sizeof(uint32_t), cmp_u32);
    for (size_t i = 0; i < n; i++)
        if (u == 0 || lex[u - 1] != lex[i])
            lex[u++] = lex[i];
    *n_out = (uint32_t)u;
    return lex;
}

struct gaz_builder {
    uint64_t *e; /* key << 8 | bits */
    size_t n, cap;
};

static int gaz_add(struct gaz_builder *g, const char *tok, size_t len, unsigned bits)
{
    struct ent_tokinfo ti;

    /* Lower-case list words ("of", "de") would fire everywhere. */
    if (len == 0 || ent_is_lower_word(tok, len) || (unsigned char)tok[0] < 'A')
        return 0;
    if (g->n == g->cap) {
        size_t cap = g->cap ? g->cap * 2 : 4096;
        uint64_t *p = realloc(g->e, cap * sizeof(*p));

        if (p == NULL)
            return -ENOMEM;
        g->e = p;
        g->cap = cap;
    }
    ent_tokinfo_fill(&ti, tok, len, 1, NULL);
    g->e[g->n++] = (uint64_t)ent_lex_key(&ti) << 8 | bits;
    return 0;
}

/* Reads one list "KIND:PATH" (tab-separated, header line, name in the first column). KIND is
 * first, loc, country, org, surname or demonym. */
static int gaz_read(struct gaz_builder *g, const char *spec)
{
    static const char *const kinds[] = {"first", "loc", "country", "org", "surname", "demonym"};
    const char *colon = strchr(spec, ':');
    int kind = -1;
    gzFile f;
    char line[4096];
    size_t rows = 0;

    for (int k = 0; colon != NULL && k < 6; k++)
        if (strncmp(spec, kinds[k], (size_t)(colon - spec)) == 0 &&
            strlen(kinds[k]) == (size_t)(colon - spec))
            kind = k;
    if (kind < 0) {
        fprintf(stderr, "%s: expected KIND:PATH, KIND one of first loc country org surname "
                        "demonym\n", spec);
        return -EINVAL;
    }
    f = gzopen(colon + 1, "rb");
    if (f == NULL) {
        fprintf(stderr, "%s: cannot open\n", colon + 1);
        return -ENOENT;
    }
    while (gzgets(f, line, sizeof(line)) != NULL) {
        char *cols[8], *save = NULL, *name, *words[32];
        size_t nc = 0, nw = 0;

        if (rows++ == 0)
            continue; /* header */
        line[strcspn(line, "\r\n")] = '\0';
        for (char *p = line, *q; nc < 8; p = q + 1) {
            cols[nc++] = p;
            q = strchr(p, '\t');
            if (q == NULL)
                break;
            *q = '\0';
        }
        name = cols[0];
        if (kind == 4 && (nc < 5 || strcmp(cols[4], "latin") != 0))
            continue;
        for (char *p = name; *p; p++)
            if (*p == '+')
                *p = ' ';
        for (char *w = strtok_r(name, " ", &save); w != NULL && nw < 32;
             w = strtok_r(NULL, " ", &save))
            words[nw++] = w;
        if (nw == 0)
            continue;
        for (size_t i = 0; i < nw; i++) {
            unsigned bits = 0;

            switch (kind) {
            case 0:
                bits = ENT_GAZ_FIRST;
                break;
            case 1:
                bits = nw == 1 ? ENT_GAZ_LOC : ENT_GAZ_LOC_PART;
                break;
            case 2:
                bits = nw > 1 ? ENT_GAZ_LOC_PART
                       : nc >= 4 && strcmp(cols[3], "capital") == 0 ? ENT_GAZ_LOC
                                                                     : ENT_GAZ_COUNTRY;
                break;
            case 3:
                bits = ENT_GAZ_ORG;
                break;
            case 4:
                bits = i + 1 == nw && nw > 1 ? ENT_GAZ_SURNAME : 0;
                break;
            default:
                bits = nw == 1 ? ENT_GAZ_DEMONYM : 0;
                break;
            }
            if (bits != 0 && gaz_add(g, words[i], strlen(words[i]), bits) != 0) {
                gzclose(f);
                return -ENOMEM;
            }
        }
    }
    gzclose(f);
    return 0;
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

    return x < y ? -1 : x > y;
}

/* Sorts and merges the entries into lk's gazetteer arrays (new, freed by the caller). */
static int gaz_finish(struct gaz_builder *g, uint32_t **keys, uint8_t **bits, size_t *n)
{
    size_t u = 0;

    qsort(g->e, g->n, sizeof(uint64_t), cmp_u64);
    *keys = malloc((g->n + 1) * sizeof(uint32_t));
    *bits = malloc(g->n + 1);
    if (*keys == NULL || *bits == NULL)
        return -ENOMEM;
    for (size_t i = 0; i < g->n; i++) {
        uint32_t k = (uint32_t)(g->e[i] >> 8);

        if (u > 0 && (*keys)[u - 1] == k) {
            (*bits)[u - 1] |= (uint8_t)(g->e[i] & 0xff);
        } else {
            (*keys)[u] = k;
            (*bits)[u++] = (uint8_t)(g->e[i] & 0xff);
        }
    }
    *n = u;
    free(g->e);
    g->e = NULL;
    return 0;
}

/* Builds the entity-word lexicon (ENT_SIL_* bits per lower-cased word) from the auxiliary
 * corpus x: sorted keys and bits, new, freed by the caller. */
static int build_sil(const struct ent_corpus *x, uint32_t **keys, uint8_t **bits, size_t *n)
{
    uint64_t *e = malloc((x->n_tok + 1) * sizeof(*e));
    size_t u = 0;

    *keys = malloc((x->n_tok + 1) * sizeof(uint32_t));
    *bits = malloc(x->n_tok + 1);
    if (e == NULL || *keys == NULL || *bits == NULL) {
        free(e);
        return -ENOMEM;
    }
    for (size_t i = 0; i < x->n_tok; i++) {
        struct ent_tokinfo ti;
        unsigned t = x->tags[i], v = 0;

        ent_tokinfo_fill(&ti, x->text + x->tok_off[i], x->tok_len[i], 1, NULL);
        if (t != ENT_TAG_O)
            v = (1u + ENT_TAG_TYPE(t)) |
                (ENT_TAG_POS(t) == ENT_POS_B || ENT_TAG_POS(t) == ENT_POS_S ? 8u : 0u);
        e[i] = (uint64_t)ent_lex_key(&ti) << 8 | v;
    }
    qsort(e, x->n_tok, sizeof(*e), cmp_u64);
    for (size_t i = 0, j; i < x->n_tok; i = j) {
        uint32_t key = (uint32_t)(e[i] >> 8);
        size_t by_type[ENT_N_TYPES] = {0}, ents = 0, begins = 0, total;
        unsigned b = 0;

        for (j = i; j < x->n_tok && (uint32_t)(e[j] >> 8) == key; j++) {
            unsigned v = (unsigned)(e[j] & 0xff);

            if (v != 0) {
                by_type[(v & 7) - 1]++;
                ents++;
                begins += (v & 8) != 0;
            }
        }
        total = j - i;
        for (int t = 0; t < ENT_N_TYPES; t++)
            if (by_type[t] > 0 && 2 * by_type[t] >= total)
                b |= ENT_SIL_TYPE << t;
        if (ents > 0 && b == 0)
            b |= ENT_SIL_SOME;
        if (ents == 0 && total >= 5)
            b |= ENT_SIL_NEVER;
        if (ents > 0 && 2 * begins >= ents)
            b |= ENT_SIL_BEGIN;
        if (b != 0) {
            (*keys)[u] = key;
            (*bits)[u++] = (uint8_t)b;
        }
    }
    free(e);
    *n = u;
    return 0;
}

/* Reads a cluster file of ent_clusters ("PATH<TAB>WORD<TAB>COUNT" lines, PATH of 0 and 1) into
 * sorted keys and paths (new, freed by the caller). */
static int read_clusters(const char *path, uint32_t **keys, uint16_t **paths, size_t *n,
                         uint32_t *depth)
{
    FILE *f = fopen(path, "r");
    char line[1024];
    uint64_t *e = NULL;
    size_t ne = 0, cap = 0, u = 0, lineno = 0;

    *depth = 0;
    if (f == NULL) {
        fprintf(stderr, "%s: cannot open\n", path);
        return -ENOENT;
    }
    while (fgets(line, sizeof(line), f) != NULL) {
        char *word = strchr(line, '\t'), *end;
        size_t d = word != NULL ? (size_t)(word - line) : 0;
        uint32_t p = 0;
        struct ent_tokinfo ti;

        lineno++;
        if (word == NULL || d == 0 || d > ENT_CLU_MAX_DEPTH || (*depth != 0 && d != *depth) ||
            strspn(line, "01") != d) {
            fprintf(stderr, "%s:%zu: expected PATH<TAB>WORD, paths of one length\n", path, lineno);
            free(e);
            fclose(f);
            return -EINVAL;
        }
        *depth = (uint32_t)d;
        for (size_t i = 0; i < d; i++)
            p = p << 1 | (uint32_t)(line[i] - '0');
        word++;
        end = word + strcspn(word, "\t\r\n");
        if (end == word)
            continue;
        if (ne == cap) {
            uint64_t *q = realloc(e, (cap ? cap * 2 : 4096) * sizeof(*e));

            if (q == NULL) {
                free(e);
                fclose(f);
                return -ENOMEM;
            }
            e = q;
            cap = cap ? cap * 2 : 4096;
        }
        ent_tokinfo_fill(&ti, word, (size_t)(end - word), 1, NULL);
        e[ne++] = (uint64_t)ent_lex_key(&ti) << 16 | p;
    }
    fclose(f);
    qsort(e, ne, sizeof(*e), cmp_u64);
    *keys = malloc((ne + 1) * sizeof(uint32_t));
    *paths = malloc((ne + 1) * sizeof(uint16_t));
    if (*keys == NULL || *paths == NULL) {
        free(e);
        return -ENOMEM;
    }
    for (size_t i = 0; i < ne; i++) {
        uint32_t k = (uint32_t)(e[i] >> 16);

        if (u > 0 && (*keys)[u - 1] == k)
            continue; /* two words with one key: the first path wins */
        (*keys)[u] = k;
        (*paths)[u++] = (uint16_t)(e[i] & 0xffff);
    }
    free(e);
    *n = u;
    return 0;
}

static void usage(void)
{
    fprintf(stderr, "usage: ent_train -o MODEL [-e EPOCHS] [-r RUNS] [-b BITS] [-s SEED] "
                    "[-g KIND:LIST]... [-x FORMAT:PATH]... [-c CLUSTERS] FORMAT:PATH...\n"
                    "  -r: mean of RUNS trainings over differently shuffled data\n"
                    "  -x: other annotated corpora the entity-word lexicon is learned from\n"
                    "  -c: word clusters written by ent_clusters\n"
                    "  FORMAT[,OPTION]... is described in tools/entities/ent_data.h\n");
}

int main(int argc, char **argv)
{
    const char *out = NULL;
    int epochs = 8, runs = 1, opt;
    uint32_t bits = 19, n_lex = 0;
    struct ent_corpus c, aux;
    uint32_t *lex, *feats;
    size_t rows, *order;
    float *w, trans[(ENT_N_TAGS + 1) * ENT_N_TAGS];
    double *wa, transa[(ENT_N_TAGS + 1) * ENT_N_TAGS];
    double tsum[(ENT_N_TAGS + 1) * ENT_N_TAGS] = {0};
    float *wsum;
    float *em, *em2, *scale;
    int8_t *q;
    uint8_t *bp, *pred, *lgold;
    double counter = 1;
    struct errbuf err;
    clock_t t0 = clock();

    memset(&c, 0, sizeof(c));
    memset(&aux, 0, sizeof(aux));
    struct gaz_builder gb = {0};
    struct ent_lookup lk = {0};
    uint32_t *gaz_key = NULL;
    uint8_t *gaz_bits = NULL, *sil_bits = NULL;
    uint32_t *sil_key = NULL, *clu_key = NULL;
    uint16_t *clu_path = NULL;

    while ((opt = getopt(argc, argv, "o:e:r:b:s:g:x:c:")) != -1) {
        switch (opt) {
        case 'c':
            if (read_clusters(optarg, &clu_key, &clu_path, &lk.n_clu, &lk.clu_depth) != 0)
                return 1;
            lk.clu_key = clu_key;
            lk.clu_path = clu_path;
            break;
        case 'x':
            if (ent_corpus_read(&aux, optarg) != 0)
                return 1;
            break;
        case 'g':
            if (gaz_read(&gb, optarg) != 0)
                return 1;
            break;
        case 'o':
            out = optarg;
            break;
        case 'e':
            epochs = atoi(optarg);
            break;
        case 'r':
            runs = atoi(optarg);
            break;
        case 'b':
            bits = (uint32_t)atoi(optarg);
            break;
        case 's':
            rng_state = strtoull(optarg, NULL, 10) | 1;
            break;
        default:
            usage();
            return 2;
        }
    }
    if (out == NULL || optind >= argc || bits < ENT_MIN_BITS || bits > ENT_MAX_BITS ||
        epochs < 1 || runs < 1) {
        usage();
        return 2;
    }
    for (int i = optind; i < argc; i++)
        if (ent_corpus_read(&c, argv[i]) != 0)
            return 1;
    fprintf(stderr, "ent_train: %zu sentences, %zu tokens\n", c.n_sent, c.n_tok);
    lex = build_lexicon(&c, &n_lex);
    if (gaz_finish(&gb, &gaz_key, &gaz_bits, &lk.n_gaz) != 0) {
        fprintf(stderr, "ent_train: out of memory\n");
        return 1;
    }
    lk.lex = lex;
    lk.n_lex = n_lex;
    lk.gaz_key = gaz_key;
    lk.gaz_bits = gaz_bits;
    if (aux.n_tok > 0) {
        if (build_sil(&aux, &sil_key, &sil_bits, &lk.n_sil) != 0) {
            fprintf(stderr, "ent_train: out of memory\n");
            return 1;
        }
        lk.sil_key = sil_key;
        lk.sil_bits = sil_bits;
        fprintf(stderr, "ent_train: %zu entity-lexicon words from %zu tokens\n", lk.n_sil,
                aux.n_tok);
    }
    ent_corpus_fini(&aux);
    fprintf(stderr, "ent_train: %u lexicon words, %zu gazetteer words, %zu clustered words\n",
            n_lex, lk.n_gaz, lk.n_clu);
    rows = (size_t)1 << bits;
    feats = malloc(c.n_tok * ENT_N_FEATS * sizeof(uint32_t));
    w = calloc(rows * ENT_N_TAGS, sizeof(float));
    wa = calloc(rows * ENT_N_TAGS, sizeof(double));
    wsum = calloc(rows * ENT_N_TAGS, sizeof(float));
    order = malloc(c.n_sent * sizeof(size_t));
    if (lex == NULL || feats == NULL || w == NULL || wa == NULL || wsum == NULL || order == NULL) {
        fprintf(stderr, "ent_train: out of memory\n");
        return 1;
    }
    {
        size_t maxn = 1;
        struct ent_tokinfo *ti;

        for (size_t s = 0; s < c.n_sent; s++)
            if (c.sent[s + 1] - c.sent[s] > maxn)
                maxn = c.sent[s + 1] - c.sent[s];
        ti = malloc(maxn * sizeof(*ti));
        em = malloc(maxn * ENT_N_TAGS * sizeof(float));
        em2 = malloc(maxn * ENT_N_TAGS * sizeof(float));
        bp = malloc(maxn * ENT_N_TAGS);
        pred = malloc(maxn);
        lgold = malloc(maxn);
        if (ti == NULL || em == NULL || em2 == NULL || bp == NULL || pred == NULL ||
            lgold == NULL) {
            fprintf(stderr, "ent_train: out of memory\n");
            return 1;
        }
        for (size_t s = 0; s < c.n_sent; s++) {
            size_t first = c.sent[s], n = c.sent[s + 1] - first;

            for (size_t i = 0; i < n; i++)
                ent_tokinfo_fill(&ti[i], c.text + c.tok_off[first + i], c.tok_len[first + i], i,
                                 &lk);
            for (size_t i = 0; i < n; i++)
                ent_features(ti, n, i, bits, feats + (first + i) * ENT_N_FEATS);
            order[s] = s;
        }
        free(ti);
    }
    /* Several runs over differently shuffled data; the model is the mean of their averaged
     * weights (less dependent on one shuffle). */
    for (int run = 0; run < runs; run++) {
        memset(w, 0, rows * ENT_N_TAGS * sizeof(float));
        memset(wa, 0, rows * ENT_N_TAGS * sizeof(double));
        memset(trans, 0, sizeof(trans));
        memset(transa, 0, sizeof(transa));
        counter = 1;
        for (int ep = 0; ep < epochs; ep++) {
            size_t errors = 0, tok_err = 0;

            for (size_t s = c.n_sent; s > 1; s--) {
                size_t j = (size_t)(rng_next() % s), tmp = order[s - 1];

                order[s - 1] = order[j];
                order[j] = tmp;
            }
            for (size_t k = 0; k < c.n_sent; k++, counter++) {
                size_t s = order[k], first = c.sent[s], n = c.sent[s + 1] - first;
                const uint8_t *gold = c.tags + first;
                float wt = c.sent_w[s];
                int differs = 0, loose = 0;

                for (size_t i = 0; i < n; i++) {
                    float *e = em + i * ENT_N_TAGS;
                    const uint32_t *fr = feats + (first + i) * ENT_N_FEATS;

                    memset(e, 0, ENT_N_TAGS * sizeof(float));
                    for (size_t f = 0; f < ENT_N_FEATS; f++) {
                        const float *wr = w + (size_t)fr[f] * ENT_N_TAGS;

                        for (unsigned t = 0; t < ENT_N_TAGS; t++)
                            e[t] += wr[t];
                    }
                }
                for (size_t i = 0; i < n; i++)
                    loose |= c.loose[first + i];
                if (loose) {
                    /* Partly labelled: the gold path is the best one that keeps every certain tag
                     * and lets a loose token be O or MISC (latent-variable perceptron). */
                    for (size_t i = 0; i < n; i++)
                        for (unsigned t = 0; t < ENT_N_TAGS; t++) {
                            int ok = t == c.tags[first + i] ||
                                     (c.loose[first + i] &&
                                      (t == ENT_TAG_O || ENT_TAG_TYPE(t) == ENT_MISC));

                            em2[i * ENT_N_TAGS + t] = ok ? em[i * ENT_N_TAGS + t] : -1e32f;
                        }
                    ent_viterbi(em2, n, trans, bp, lgold);
                    gold = lgold;
                }
                ent_viterbi(em, n, trans, bp, pred);
                for (size_t i = 0; i < n; i++) {
                    unsigned g = gold[i], p = pred[i];
                    unsigned gp = i ? gold[i - 1] : ENT_N_TAGS, pp = i ? pred[i - 1] : ENT_N_TAGS;
                    const uint32_t *fr = feats + (first + i) * ENT_N_FEATS;

                    if (g != p) {
                        tok_err++;
                        differs = 1;
                        for (size_t f = 0; f < ENT_N_FEATS; f++) {
                            size_t r = (size_t)fr[f] * ENT_N_TAGS;

                            w[r + g] += wt;
                            wa[r + g] += counter * wt;
                            w[r + p] -= wt;
                            wa[r + p] -= counter * wt;
                        }
                    }
                    if (g != p || gp != pp) {
                        trans[gp * ENT_N_TAGS + g] += wt;
                        transa[gp * ENT_N_TAGS + g] += counter * wt;
                        trans[pp * ENT_N_TAGS + p] -= wt;
                        transa[pp * ENT_N_TAGS + p] -= counter * wt;
                    }
                }
                errors += (size_t)differs;
            }
            fprintf(stderr,
                    "ent_train: run %d epoch %d: %zu sentences and %zu tokens wrong (%.1fs)\n",
                    run + 1, ep + 1, errors, tok_err, (double)(clock() - t0) / CLOCKS_PER_SEC);
        }
        for (size_t k = 0; k < rows * ENT_N_TAGS; k++)
            wsum[k] += (float)(w[k] - wa[k] / counter) / (float)runs;
        for (size_t k = 0; k < (ENT_N_TAGS + 1) * ENT_N_TAGS; k++)
            tsum[k] += (trans[k] - transa[k] / counter) / runs;
    }
    /* One scale per row for int8 storage. */
    scale = malloc(rows * sizeof(float));
    q = malloc(rows * ENT_N_TAGS);
    if (scale == NULL || q == NULL) {
        fprintf(stderr, "ent_train: out of memory\n");
        return 1;
    }
    for (size_t i = 0; i < (ENT_N_TAGS + 1) * ENT_N_TAGS; i++)
        trans[i] = (float)tsum[i];
    for (size_t r = 0; r < rows; r++) {
        float avg[ENT_N_TAGS], mx = 0;

        for (unsigned t = 0; t < ENT_N_TAGS; t++) {
            size_t k = r * ENT_N_TAGS + t;

            avg[t] = wsum[k];
            if (fabsf(avg[t]) > mx)
                mx = fabsf(avg[t]);
        }
        scale[r] = mx > 0 ? mx / 127.0f : 0;
        for (unsigned t = 0; t < ENT_N_TAGS; t++)
            q[r * ENT_N_TAGS + t] = mx > 0 ? (int8_t)lrintf(avg[t] / scale[r]) : 0;
    }
    if (ent_model_write(out, bits, trans, scale, q, &lk, &err) != 0) {
        fprintf(stderr, "ent_train: %s\n", err.msg);
        return 1;
    }
    fprintf(stderr, "ent_train: wrote %s (%u bits, %u lexicon entries, %.1fs cpu)\n", out, bits,
            n_lex, (double)(clock() - t0) / CLOCKS_PER_SEC);
    free(scale);
    free(q);
    free(w);
    free(wa);
    free(wsum);
    free(feats);
    free(order);
    free(em);
    free(em2);
    free(bp);
    free(pred);
    free(lgold);
    free(lex);
    free(gaz_key);
    free(gaz_bits);
    free(sil_key);
    free(sil_bits);
    free(clu_key);
    free(clu_path);
    ent_corpus_fini(&c);
    return 0;
}
