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

static void usage(void)
{
    fprintf(stderr, "usage: ent_train -o MODEL [-e EPOCHS] [-b BITS] [-s SEED] [-g KIND:LIST]... "
                    "FORMAT:PATH...\n"
                    "  FORMAT is bioes, conll or germeval; see tools/entities/ent_data.h\n");
}

int main(int argc, char **argv)
{
    const char *out = NULL;
    int epochs = 8, opt;
    uint32_t bits = 19, n_lex = 0;
    struct ent_corpus c;
    uint32_t *lex, *feats;
    size_t rows, *order;
    float *w, trans[(ENT_N_TAGS + 1) * ENT_N_TAGS];
    double *wa, transa[(ENT_N_TAGS + 1) * ENT_N_TAGS];
    float *em, *scale;
    int8_t *q;
    uint8_t *bp, *pred;
    double counter = 1;
    struct errbuf err;
    clock_t t0 = clock();

    memset(&c, 0, sizeof(c));
    struct gaz_builder gb = {0};
    struct ent_lookup lk = {0};
    uint32_t *gaz_key = NULL;
    uint8_t *gaz_bits = NULL;

    while ((opt = getopt(argc, argv, "o:e:b:s:g:")) != -1) {
        switch (opt) {
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
        epochs < 1) {
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
    fprintf(stderr, "ent_train: %u lexicon words, %zu gazetteer words\n", n_lex, lk.n_gaz);
    rows = (size_t)1 << bits;
    feats = malloc(c.n_tok * ENT_N_FEATS * sizeof(uint32_t));
    w = calloc(rows * ENT_N_TAGS, sizeof(float));
    wa = calloc(rows * ENT_N_TAGS, sizeof(double));
    order = malloc(c.n_sent * sizeof(size_t));
    if (lex == NULL || feats == NULL || w == NULL || wa == NULL || order == NULL) {
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
        bp = malloc(maxn * ENT_N_TAGS);
        pred = malloc(maxn);
        if (ti == NULL || em == NULL || bp == NULL || pred == NULL) {
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
    memset(trans, 0, sizeof(trans));
    memset(transa, 0, sizeof(transa));
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
            int differs = 0;

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

                        w[r + g] += 1;
                        wa[r + g] += counter;
                        w[r + p] -= 1;
                        wa[r + p] -= counter;
                    }
                }
                if (g != p || gp != pp) {
                    trans[gp * ENT_N_TAGS + g] += 1;
                    transa[gp * ENT_N_TAGS + g] += counter;
                    trans[pp * ENT_N_TAGS + p] -= 1;
                    transa[pp * ENT_N_TAGS + p] -= counter;
                }
            }
            errors += (size_t)differs;
        }
        fprintf(stderr, "ent_train: epoch %d: %zu sentences and %zu tokens wrong (%.1fs)\n",
                ep + 1, errors, tok_err, (double)(clock() - t0) / CLOCKS_PER_SEC);
    }
    /* Averaging: avg = w - wa / counter. Then one scale per row for int8 storage. */
    scale = malloc(rows * sizeof(float));
    q = malloc(rows * ENT_N_TAGS);
    if (scale == NULL || q == NULL) {
        fprintf(stderr, "ent_train: out of memory\n");
        return 1;
    }
    for (size_t i = 0; i < (ENT_N_TAGS + 1) * ENT_N_TAGS; i++)
        trans[i] = (float)(trans[i] - transa[i] / counter);
    for (size_t r = 0; r < rows; r++) {
        float avg[ENT_N_TAGS], mx = 0;

        for (unsigned t = 0; t < ENT_N_TAGS; t++) {
            size_t k = r * ENT_N_TAGS + t;

            avg[t] = (float)(w[k] - wa[k] / counter);
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
    free(feats);
    free(order);
    free(em);
    free(bp);
    free(pred);
    free(lex);
    free(gaz_key);
    free(gaz_bits);
    ent_corpus_fini(&c);
    return 0;
}
