/* ent_clusters: hierarchical word classes from unlabelled tokenised text, for the entity
 * tagger's cluster features. Words (lower-cased, digits as 0: the tagger's lexicon key) are split
 * top-down into a binary tree of depth D: at each level every class is split in two and words move
 * between the two halves while that raises the likelihood of a class bigram model predicting the
 * next word from the class of the previous word and the previous word from the class of the next
 * one (predictive exchange clustering, Uszkoreit and Brants 2008, both directions). A word's path
 * of D bits then works like a Brown cluster path: its prefixes are coarser classes.
 * Output: one line per word, "PATH<TAB>WORD<TAB>COUNT", sorted by path. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "stages/entities/ent_model.h"
#include "tools/entities/ent_data.h"

/* Context counts of one clustered word in one direction (CSR over words). */
struct ctx_lists {
    size_t *off;   /* owned: W + 1 offsets into ctx and n */
    uint32_t *ctx; /* owned: context index */
    uint32_t *n;   /* owned: bigram count */
};

struct vocab_entry {
    uint32_t key;
    uint32_t count;
    size_t first; /* token index of the first occurrence (its surface form is printed) */
};

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

    return x < y ? -1 : x > y;
}

static int cmp_count_desc(const void *a, const void *b)
{
    const struct vocab_entry *x = a, *y = b;

    if (x->count != y->count)
        return x->count > y->count ? -1 : 1;
    return x->key < y->key ? -1 : x->key > y->key;
}

static inline double xlogx(double x)
{
    return x > 0 ? x * log(x) : 0;
}

/* Sorts pairs (word << 32 | ctx) and folds them into per-word context lists. */
static int build_lists(uint64_t *pairs, size_t n, size_t n_words, struct ctx_lists *l)
{
    size_t u = 0;

    qsort(pairs, n, sizeof(*pairs), cmp_u64);
    l->off = calloc(n_words + 1, sizeof(size_t));
    l->ctx = malloc((n + 1) * sizeof(uint32_t));
    l->n = malloc((n + 1) * sizeof(uint32_t));
    if (l->off == NULL || l->ctx == NULL || l->n == NULL)
        return -ENOMEM;
    for (size_t i = 0; i < n; i++) {
        if (u > 0 && i > 0 && pairs[i] == pairs[i - 1]) {
            l->n[u - 1]++;
            continue;
        }
        l->ctx[u] = (uint32_t)pairs[i];
        l->n[u] = 1;
        l->off[(pairs[i] >> 32) + 1]++;
        u++;
    }
    for (size_t w = 0; w < n_words; w++)
        l->off[w + 1] += l->off[w];
    return 0;
}

static void free_lists(struct ctx_lists *l)
{
    free(l->off);
    free(l->ctx);
    free(l->n);
}

/* Change of the objective when word v (count h) moves from class a to class b, for one
 * direction's class-context counts cnt (n_ctx columns). */
static double move_gain(const struct ctx_lists *l, size_t v, const uint32_t *cnt, size_t n_ctx,
                        uint32_t a, uint32_t b)
{
    double d = 0;

    for (size_t k = l->off[v]; k < l->off[v + 1]; k++) {
        double x = cnt[(size_t)a * n_ctx + l->ctx[k]], y = cnt[(size_t)b * n_ctx + l->ctx[k]];
        double n = l->n[k];

        d += xlogx(x - n) + xlogx(y + n) - xlogx(x) - xlogx(y);
    }
    return d;
}

static void apply_move(const struct ctx_lists *l, size_t v, uint32_t *cnt, size_t n_ctx, uint32_t a,
                       uint32_t b)
{
    for (size_t k = l->off[v]; k < l->off[v + 1]; k++) {
        cnt[(size_t)a * n_ctx + l->ctx[k]] -= l->n[k];
        cnt[(size_t)b * n_ctx + l->ctx[k]] += l->n[k];
    }
}

static void usage(void)
{
    fprintf(stderr, "usage: ent_clusters [-d DEPTH] [-m MIN_COUNT] [-c CONTEXTS] [-p PASSES] "
                    "FORMAT:PATH... > CLUSTERS\n"
                    "  -d: bits of a path (2^DEPTH classes, at most 15; default 10)\n"
                    "  -m: cluster words seen at least MIN_COUNT times (default 3)\n"
                    "  -c: the CONTEXTS most frequent words are contexts, the rest one (default "
                    "16384)\n"
                    "  -p: exchange passes per level (default 8)\n"
                    "  FORMAT:PATH as for ent_train (tokens are used, tags ignored)\n");
}

int main(int argc, char **argv)
{
    int depth = 10, passes = 8, opt;
    size_t min_count = 3, max_ctx = 16384, n_voc = 0, n_words, n_ctx, n_pairs = 0;
    struct ent_corpus c;
    struct vocab_entry *voc;
    uint64_t *keyed, *rp, *lp;
    uint32_t *tok_voc, *cls, *cnt_r, *cnt_l;
    double *tot;
    struct ctx_lists lr, ll;

    memset(&c, 0, sizeof(c));
    while ((opt = getopt(argc, argv, "d:m:c:p:")) != -1) {
        switch (opt) {
        case 'd':
            depth = atoi(optarg);
            break;
        case 'm':
            min_count = (size_t)atol(optarg);
            break;
        case 'c':
            max_ctx = (size_t)atol(optarg);
            break;
        case 'p':
            passes = atoi(optarg);
            break;
        default:
            usage();
            return 2;
        }
    }
    if (optind >= argc || depth < 1 || depth > 15 || min_count < 1 || max_ctx < 1 || passes < 1) {
        usage();
        return 2;
    }
    for (int i = optind; i < argc; i++)
        if (ent_corpus_read(&c, argv[i]) != 0)
            return 1;
    /* Vocabulary by lexicon key, most frequent first. */
    keyed = malloc((c.n_tok + 1) * sizeof(*keyed));
    voc = malloc((c.n_tok + 1) * sizeof(*voc));
    tok_voc = malloc((c.n_tok + 1) * sizeof(*tok_voc));
    if (keyed == NULL || voc == NULL || tok_voc == NULL)
        goto oom;
    for (size_t i = 0; i < c.n_tok; i++) {
        struct ent_tokinfo ti;

        ent_tokinfo_fill(&ti, c.text + c.tok_off[i], c.tok_len[i], 1, NULL);
        keyed[i] = (uint64_t)ent_lex_key(&ti) << 32 | (uint32_t)i;
    }
    qsort(keyed, c.n_tok, sizeof(*keyed), cmp_u64);
    for (size_t i = 0; i < c.n_tok; i++) {
        uint32_t key = (uint32_t)(keyed[i] >> 32);

        if (n_voc == 0 || voc[n_voc - 1].key != key) {
            voc[n_voc].key = key;
            voc[n_voc].count = 0;
            voc[n_voc].first = (uint32_t)keyed[i];
            n_voc++;
        }
        voc[n_voc - 1].count++;
    }
    qsort(voc, n_voc, sizeof(*voc), cmp_count_desc);
    {
        /* token -> vocabulary rank, through the key order again */
        uint64_t *rank_of = malloc((n_voc + 1) * sizeof(*rank_of));

        if (rank_of == NULL)
            goto oom;
        for (size_t r = 0; r < n_voc; r++)
            rank_of[r] = (uint64_t)voc[r].key << 32 | (uint32_t)r;
        qsort(rank_of, n_voc, sizeof(*rank_of), cmp_u64);
        for (size_t i = 0, r = 0; i < c.n_tok; i++) {
            while ((uint32_t)(rank_of[r] >> 32) != (uint32_t)(keyed[i] >> 32))
                r++;
            tok_voc[(uint32_t)keyed[i]] = (uint32_t)rank_of[r];
        }
        free(rank_of);
    }
    free(keyed);
    for (n_words = 0; n_words < n_voc && voc[n_words].count >= min_count; n_words++)
        ;
    /* Contexts: the max_ctx most frequent words, one class for the others, the boundary. */
    n_ctx = (n_voc < max_ctx ? n_voc : max_ctx) + 2;
    fprintf(stderr, "ent_clusters: %zu tokens, %zu words, %zu clustered, %zu contexts\n", c.n_tok,
            n_voc, n_words, n_ctx);
    rp = malloc((c.n_tok + 1) * sizeof(*rp));
    lp = malloc((c.n_tok + 1) * sizeof(*lp));
    if (rp == NULL || lp == NULL)
        goto oom;
    for (size_t s = 0; s < c.n_sent; s++)
        for (size_t i = c.sent[s]; i < c.sent[s + 1]; i++) {
            uint32_t v = tok_voc[i], cr, cl;

            if (v >= n_words)
                continue;
            cr = i + 1 < c.sent[s + 1]
                     ? (tok_voc[i + 1] < n_ctx - 2 ? tok_voc[i + 1] : (uint32_t)n_ctx - 2)
                     : (uint32_t)n_ctx - 1;
            cl = i > c.sent[s] ? (tok_voc[i - 1] < n_ctx - 2 ? tok_voc[i - 1] : (uint32_t)n_ctx - 2)
                               : (uint32_t)n_ctx - 1;
            rp[n_pairs] = (uint64_t)v << 32 | cr;
            lp[n_pairs++] = (uint64_t)v << 32 | cl;
        }
    if (build_lists(rp, n_pairs, n_words, &lr) != 0 || build_lists(lp, n_pairs, n_words, &ll) != 0)
        goto oom;
    free(rp);
    free(lp);
    cls = calloc(n_words + 1, sizeof(*cls));
    cnt_r = malloc(((size_t)1 << depth) * n_ctx * sizeof(*cnt_r));
    cnt_l = malloc(((size_t)1 << depth) * n_ctx * sizeof(*cnt_l));
    tot = malloc(((size_t)1 << depth) * sizeof(*tot));
    if (cls == NULL || cnt_r == NULL || cnt_l == NULL || tot == NULL)
        goto oom;
    for (int level = 1; level <= depth; level++) {
        size_t k = (size_t)1 << level;
        uint32_t *seen = calloc(k, sizeof(*seen));

        if (seen == NULL)
            goto oom;
        /* Split: within each parent, words alternate between the halves by frequency. */
        for (size_t v = 0; v < n_words; v++) {
            uint32_t parent = cls[v];

            cls[v] = 2 * parent + (seen[parent]++ & 1);
        }
        free(seen);
        memset(cnt_r, 0, k * n_ctx * sizeof(*cnt_r));
        memset(cnt_l, 0, k * n_ctx * sizeof(*cnt_l));
        memset(tot, 0, k * sizeof(*tot));
        for (size_t v = 0; v < n_words; v++) {
            for (size_t j = lr.off[v]; j < lr.off[v + 1]; j++)
                cnt_r[(size_t)cls[v] * n_ctx + lr.ctx[j]] += lr.n[j];
            for (size_t j = ll.off[v]; j < ll.off[v + 1]; j++)
                cnt_l[(size_t)cls[v] * n_ctx + ll.ctx[j]] += ll.n[j];
            tot[cls[v]] += voc[v].count;
        }
        for (int p = 0; p < passes; p++) {
            size_t moves = 0;

            for (size_t v = 0; v < n_words; v++) {
                uint32_t a = cls[v], b = a ^ 1u;
                double h = voc[v].count, d;

                d = move_gain(&lr, v, cnt_r, n_ctx, a, b) + move_gain(&ll, v, cnt_l, n_ctx, a, b) -
                    2 * (xlogx(tot[a] - h) + xlogx(tot[b] + h) - xlogx(tot[a]) - xlogx(tot[b]));
                if (d > 1e-9) {
                    apply_move(&lr, v, cnt_r, n_ctx, a, b);
                    apply_move(&ll, v, cnt_l, n_ctx, a, b);
                    tot[a] -= h;
                    tot[b] += h;
                    cls[v] = b;
                    moves++;
                }
            }
            if (moves * 1000 < n_words)
                break;
        }
        fprintf(stderr, "ent_clusters: level %d done\n", level);
    }
    {
        uint64_t *order = malloc((n_words + 1) * sizeof(*order));

        if (order == NULL)
            goto oom;
        for (size_t v = 0; v < n_words; v++)
            order[v] = (uint64_t)cls[v] << 32 | (uint32_t)v;
        qsort(order, n_words, sizeof(*order), cmp_u64);
        for (size_t i = 0; i < n_words; i++) {
            uint32_t v = (uint32_t)order[i], path = (uint32_t)(order[i] >> 32);
            char bits[16];

            for (int b = 0; b < depth; b++)
                bits[b] = (char)('0' + ((path >> (depth - 1 - b)) & 1));
            bits[depth] = '\0';
            printf("%s\t%s\t%u\n", bits, c.text + c.tok_off[voc[v].first], voc[v].count);
        }
        free(order);
    }
    free_lists(&lr);
    free_lists(&ll);
    free(cls);
    free(cnt_r);
    free(cnt_l);
    free(tot);
    free(voc);
    free(tok_voc);
    ent_corpus_fini(&c);
    return fflush(stdout) == 0 ? 0 : 1;
oom:
    fprintf(stderr, "ent_clusters: out of memory\n");
    return 1;
}
