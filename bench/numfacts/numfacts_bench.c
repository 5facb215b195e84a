/* numfacts_bench: MB/s per core of the numfacts stage on news text, per language.
 *
 *   numfacts_bench [-s SECONDS] FILE.jsonl...
 *
 * Reads JSON lines with "text" and "lang", joins each language's sentences into 2 KB articles,
 * and runs the stage on one thread until SECONDS (default 2) have passed. Tokenization is timed
 * apart, since the pipeline does it once for all stages. */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "stages/stage.h"
#include "stages/text/text.h"

extern const struct stage_ops numfacts_stage_ops;

#define ARTICLE_BYTES 2048

struct corpus {
    char lang[8];
    char **art;
    size_t n, cap, bytes;
    char buf[ARTICLE_BYTES * 2];
    size_t len;
};

static double now_s(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int corpus_flush(struct corpus *c)
{
    if (c->len == 0)
        return 0;
    if (c->n == c->cap) {
        size_t nc = c->cap ? c->cap * 2 : 64;
        char **p = realloc(c->art, nc * sizeof(*p));
        if (p == NULL)
            return -1;
        c->art = p;
        c->cap = nc;
    }
    c->art[c->n] = strndup(c->buf, c->len);
    if (c->art[c->n] == NULL)
        return -1;
    c->n++;
    c->bytes += c->len;
    c->len = 0;
    return 0;
}

static int corpus_add(struct corpus *c, const char *text)
{
    size_t n = strlen(text);

    if (n + 1 >= sizeof(c->buf) - c->len && corpus_flush(c) != 0)
        return -1;
    if (n + 1 >= sizeof(c->buf) - c->len)
        return 0;
    if (c->len > 0)
        c->buf[c->len++] = ' ';
    memcpy(c->buf + c->len, text, n);
    c->len += n;
    if (c->len >= ARTICLE_BYTES)
        return corpus_flush(c);
    return 0;
}

static int run(void *ctx, struct corpus *c, double seconds)
{
    struct errbuf err = {{0}};
    double t_tok = 0, t_nf = 0, t0;
    size_t bytes = 0, facts = 0;
    int rounds = 0;

    do {
        for (size_t i = 0; i < c->n; i++) {
            struct doc doc;
            memset(&doc, 0, sizeof(doc));
            doc.id = "bench";
            memcpy(doc.lang, c->lang, sizeof(doc.lang));
            t0 = now_s();
            if (text_field_init(&doc.fields[0], "text", c->art[i], strlen(c->art[i]), &err) != 0)
                return -1;
            doc.n_fields = 1;
            doc.enrichment = json_object();
            double t1 = now_s();
            if (numfacts_stage_ops.process(ctx, &doc, &err) != 0) {
                fprintf(stderr, "numfacts_bench: %s\n", err.msg);
                return -1;
            }
            double t2 = now_s();
            t_tok += t1 - t0;
            t_nf += t2 - t1;
            facts += json_array_size(json_object_get(doc.enrichment, "numeric_facts"));
            json_decref(doc.enrichment);
            text_field_fini(&doc.fields[0]);
            bytes += strlen(c->art[i]);
        }
        rounds++;
    } while (t_tok + t_nf < seconds);
    printf("numfacts lang=%s articles=%zu bytes=%zu rounds=%d facts/round=%zu  "
           "numfacts %.1f MB/s  tokenize+numfacts %.1f MB/s\n",
           c->lang, c->n, c->bytes, rounds, facts / (size_t)rounds, bytes / t_nf / 1e6,
           bytes / (t_tok + t_nf) / 1e6);
    return 0;
}

int main(int argc, char **argv)
{
    struct corpus cs[4];
    size_t ncs = 0;
    double seconds = 2;
    struct errbuf err = {{0}};
    void *ctx = NULL;
    int argi = 1, rc = 0;

    memset(cs, 0, sizeof(cs));
    if (argc > 2 && strcmp(argv[1], "-s") == 0) {
        seconds = atof(argv[2]);
        argi = 3;
    }
    if (argi >= argc) {
        fprintf(stderr, "usage: numfacts_bench [-s SECONDS] FILE.jsonl...\n");
        return 2;
    }
    for (; argi < argc; argi++) {
        FILE *fp = fopen(argv[argi], "r");
        char *line = NULL;
        size_t cap = 0;
        if (fp == NULL) {
            perror(argv[argi]);
            return 1;
        }
        while (getline(&line, &cap, fp) > 0) {
            json_t *o = json_loads(line, 0, NULL);
            const char *text = json_string_value(json_object_get(o, "text"));
            const char *lang = json_string_value(json_object_get(o, "lang"));
            if (text != NULL && lang != NULL) {
                size_t k = 0;
                while (k < ncs && strcmp(cs[k].lang, lang) != 0)
                    k++;
                if (k == ncs && ncs < 4 && strlen(lang) < sizeof(cs[0].lang))
                    memcpy(cs[ncs++].lang, lang, strlen(lang) + 1);
                if (k < ncs && corpus_add(&cs[k], text) != 0)
                    rc = 1;
            }
            json_decref(o);
        }
        free(line);
        fclose(fp);
    }
    if (numfacts_stage_ops.init(&ctx, NULL, &err) != 0) {
        fprintf(stderr, "numfacts_bench: %s\n", err.msg);
        return 1;
    }
    for (size_t k = 0; k < ncs && rc == 0; k++) {
        if (corpus_flush(&cs[k]) != 0 || run(ctx, &cs[k], seconds) != 0)
            rc = 1;
    }
    numfacts_stage_ops.fini(ctx);
    for (size_t k = 0; k < ncs; k++) {
        for (size_t i = 0; i < cs[k].n; i++)
            free(cs[k].art[i]);
        free(cs[k].art);
    }
    return rc;
}
