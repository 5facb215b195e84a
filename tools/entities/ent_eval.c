/* ent_eval: exact span and type precision, recall and F1 of an entity model on tagged data. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "stages/entities/ent_model.h"
#include "tools/entities/ent_data.h"

struct span_counts {
    size_t tp[ENT_N_TYPES], gold[ENT_N_TYPES], pred[ENT_N_TYPES];
};

/* Spans of a BIOES tag sequence as (start, end, type) triples; returns the count. */
static size_t spans_of(const uint8_t *tags, size_t n, size_t *sp)
{
    size_t k = 0, start = 0;

    for (size_t i = 0; i < n; i++) {
        unsigned t = tags[i];

        if (t == ENT_TAG_O)
            continue;
        if (ENT_TAG_POS(t) == ENT_POS_B || ENT_TAG_POS(t) == ENT_POS_S)
            start = i;
        if (ENT_TAG_POS(t) == ENT_POS_E || ENT_TAG_POS(t) == ENT_POS_S) {
            sp[k * 3] = start;
            sp[k * 3 + 1] = i + 1;
            sp[k * 3 + 2] = ENT_TAG_TYPE(t);
            k++;
        }
    }
    return k;
}

static void report(const char *name, size_t tp, size_t gold, size_t pred)
{
    double p = pred ? 100.0 * (double)tp / (double)pred : 0;
    double r = gold ? 100.0 * (double)tp / (double)gold : 0;
    double f = p + r > 0 ? 2 * p * r / (p + r) : 0;

    printf("%-5s  P %6.2f  R %6.2f  F1 %6.2f  (gold %zu, predicted %zu)\n", name, p, r, f, gold,
           pred);
}

int main(int argc, char **argv)
{
    struct ent_model *m = NULL;
    struct ent_corpus c;
    struct ent_scratch s;
    struct span_counts sc;
    struct errbuf err;
    const char **tok;
    size_t *len, *gsp, *psp, maxn = 1, tp = 0, ng = 0, np = 0;
    uint8_t *pred;
    double secs;
    struct timespec a, b;
    FILE *dump = NULL;

    if (argc >= 3 && strcmp(argv[1], "-d") == 0) {
        /* -d FILE: one line per token, "TOKEN GOLD PREDICTED" (tag numbers), blank between
         * sentences, for error analysis */
        dump = fopen(argv[2], "w");
        if (dump == NULL) {
            perror(argv[2]);
            return 1;
        }
        argc -= 2;
        argv += 2;
    }
    if (argc < 3) {
        fprintf(stderr, "usage: ent_eval [-d DUMP] MODEL FORMAT:PATH...\n");
        return 2;
    }
    if (ent_model_load(&m, argv[1], "xx", &err) != 0) {
        fprintf(stderr, "ent_eval: %s\n", err.msg);
        return 1;
    }
    memset(&c, 0, sizeof(c));
    memset(&s, 0, sizeof(s));
    memset(&sc, 0, sizeof(sc));
    for (int i = 2; i < argc; i++)
        if (ent_corpus_read(&c, argv[i]) != 0)
            return 1;
    for (size_t k = 0; k < c.n_sent; k++)
        if (c.sent[k + 1] - c.sent[k] > maxn)
            maxn = c.sent[k + 1] - c.sent[k];
    tok = malloc(c.n_tok * sizeof(*tok));
    len = malloc(c.n_tok * sizeof(*len));
    pred = malloc(c.n_tok);
    gsp = malloc(maxn * 3 * sizeof(size_t));
    psp = malloc(maxn * 3 * sizeof(size_t));
    if (tok == NULL || len == NULL || pred == NULL || gsp == NULL || psp == NULL)
        return 1;
    for (size_t i = 0; i < c.n_tok; i++) {
        tok[i] = c.text + c.tok_off[i];
        len[i] = c.tok_len[i];
    }
    clock_gettime(CLOCK_MONOTONIC, &a);
    for (size_t k = 0; k < c.n_sent; k++) {
        size_t first = c.sent[k];

        if (ent_model_tag(m, tok + first, len + first, c.sent[k + 1] - first, &s, pred + first) != 0)
            return 1;
    }
    clock_gettime(CLOCK_MONOTONIC, &b);
    secs = (double)(b.tv_sec - a.tv_sec) + (double)(b.tv_nsec - a.tv_nsec) / 1e9;
    for (size_t k = 0; k < c.n_sent; k++) {
        size_t first = c.sent[k], n = c.sent[k + 1] - first;
        size_t g = spans_of(c.tags + first, n, gsp), p = spans_of(pred + first, n, psp);

        for (size_t i = 0; dump != NULL && i <= n; i++)
            if (i < n)
                fprintf(dump, "%s %u %u\n", tok[first + i], c.tags[first + i], pred[first + i]);
            else
                fputc('\n', dump);

        for (size_t i = 0; i < g; i++)
            sc.gold[gsp[i * 3 + 2]]++;
        for (size_t j = 0; j < p; j++) {
            sc.pred[psp[j * 3 + 2]]++;
            for (size_t i = 0; i < g; i++)
                if (gsp[i * 3] == psp[j * 3] && gsp[i * 3 + 1] == psp[j * 3 + 1] &&
                    gsp[i * 3 + 2] == psp[j * 3 + 2])
                    sc.tp[psp[j * 3 + 2]]++;
        }
    }
    for (int t = 0; t < ENT_N_TYPES; t++) {
        report(ent_type_name(t), sc.tp[t], sc.gold[t], sc.pred[t]);
        tp += sc.tp[t];
        ng += sc.gold[t];
        np += sc.pred[t];
    }
    report("ALL", tp, ng, np);
    printf("tagged %zu tokens in %.3f s: %.0f tokens/s (one thread)\n", c.n_tok, secs,
           (double)c.n_tok / secs);
    if (dump != NULL && fclose(dump) != 0)
        perror("ent_eval: dump");
    free(tok);
    free(len);
    free(pred);
    free(gsp);
    free(psp);
    ent_scratch_fini(&s);
    ent_corpus_fini(&c);
    ent_model_free(m);
    return 0;
}
