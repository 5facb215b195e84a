/* lang_bench: the lang detector next to CLD2 (full tables, best effort) on the same inputs in
 * one run: macro accuracy and MB/s on sentences and on 3 KB articles, plus model load time and RSS.
 */
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "stages/lang/lang.h"

#define BENCH_MAX_LANGS 128
#define BENCH_ARTICLE_BYTES 3000

const char *bench_cld2_detect(const char *buf, int len);

struct bench_item {
    char code[8];
    char *text; /* owned */
    size_t len;
};

struct bench_set {
    struct bench_item *items; /* owned */
    size_t n, cap;
};

static double bench_now(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static long bench_rss_kb(void)
{
    struct rusage ru;

    getrusage(RUSAGE_SELF, &ru);
    return ru.ru_maxrss;
}

static int bench_add(struct bench_set *s, const char *code, const char *text, size_t len)
{
    if (s->n == s->cap) {
        size_t cap = s->cap ? 2 * s->cap : 1024;
        struct bench_item *p = realloc(s->items, cap * sizeof *p);

        if (p == NULL)
            return -1;
        s->items = p;
        s->cap = cap;
    }
    snprintf(s->items[s->n].code, sizeof s->items[s->n].code, "%s", code);
    s->items[s->n].text = strndup(text, len);
    if (s->items[s->n].text == NULL)
        return -1;
    s->items[s->n].len = len;
    s->n++;
    return 0;
}

/* Reads "code<TAB>text" lines into sentences; when articles is not NULL, also joins the
 * consecutive lines of one language into articles of about 3 KB. */
static int bench_read(const char *path, struct bench_set *sentences, struct bench_set *articles)
{
    FILE *f = fopen(path, "r");
    char *line = NULL, *art = NULL, cur[8] = "";
    size_t cap = 0, alen = 0;
    ssize_t len;

    if (f == NULL)
        return -1;
    art = malloc(BENCH_ARTICLE_BYTES + 4096);
    if (art == NULL) {
        fclose(f);
        return -1;
    }
    while ((len = getline(&line, &cap, f)) > 0) {
        char *tab = strchr(line, '\t');
        size_t tl;

        if (line[len - 1] == '\n')
            line[--len] = '\0';
        if (tab == NULL)
            continue;
        *tab = '\0';
        tl = strlen(tab + 1);
        if (bench_add(sentences, line, tab + 1, tl) != 0)
            break;
        if (articles == NULL || tl > 4000)
            continue;
        if (strcmp(cur, line) != 0) {
            alen = 0;
            snprintf(cur, sizeof cur, "%s", line);
        }
        memcpy(art + alen, tab + 1, tl);
        alen += tl;
        art[alen++] = ' ';
        if (alen >= BENCH_ARTICLE_BYTES) {
            if (bench_add(articles, cur, art, alen - 1) != 0)
                break;
            alen = 0;
        }
    }
    free(art);
    free(line);
    fclose(f);
    return 0;
}

struct bench_score {
    char code[BENCH_MAX_LANGS][8];
    size_t n[BENCH_MAX_LANGS], ok[BENCH_MAX_LANGS], n_langs;
};

static void bench_count(struct bench_score *s, const char *gold, const char *got)
{
    size_t i;

    for (i = 0; i < s->n_langs; i++)
        if (strcmp(s->code[i], gold) == 0)
            break;
    if (i == s->n_langs) {
        if (s->n_langs == BENCH_MAX_LANGS)
            return;
        snprintf(s->code[i], sizeof s->code[i], "%s", gold);
        s->n_langs++;
    }
    s->n[i]++;
    s->ok[i] += strcmp(gold, got) == 0;
}

static double bench_macro(const struct bench_score *s)
{
    double sum = 0.0;

    for (size_t i = 0; i < s->n_langs; i++)
        sum += (double)s->ok[i] / (double)s->n[i];
    return s->n_langs ? 100.0 * sum / (double)s->n_langs : 0.0;
}

static void bench_run(const struct lang_model *m, const char *name, const struct bench_set *set)
{
    struct bench_score *ours = calloc(1, sizeof *ours), *cld2 = calloc(1, sizeof *cld2);
    double t_ours = 0.0, t_tok = 0.0, t_lazy = 0.0, t_cld2 = 0.0;
    size_t bytes = 0, differ = 0;

    if (ours == NULL || cld2 == NULL) {
        free(ours);
        free(cld2);
        return;
    }
    for (size_t i = 0; i < set->n; i++) {
        const struct bench_item *it = &set->items[i];
        struct text_field f;
        struct lang_result r;
        struct errbuf err;
        double t0, t1, t2;

        bytes += it->len;
        t0 = bench_now();
        if (text_field_init(&f, "text", it->text, it->len, &err) != 0)
            continue;
        t1 = bench_now();
        lang_detect(m, &f, 1, NULL, LANG_HINT_IGNORE, &r);
        t2 = bench_now();
        text_field_fini(&f);
        t_tok += t1 - t0;
        t_ours += t2 - t0;
        bench_count(ours, it->code, r.code);
    }
    /* The same texts without the text layer's tokens: the detector tokenizes what it reads
     * (a pipeline of the lang stage alone). Its answers must be the same. */
    for (size_t i = 0; i < set->n; i++) {
        const struct bench_item *it = &set->items[i];
        struct text_field f;
        struct lang_result r, r2;
        struct errbuf err;
        double t0 = bench_now();

        if (text_field_init_untokenized(&f, "text", it->text, it->len, &err) != 0)
            continue;
        lang_detect(m, &f, 1, NULL, LANG_HINT_IGNORE, &r);
        t_lazy += bench_now() - t0;
        text_field_fini(&f);
        if (text_field_init(&f, "text", it->text, it->len, &err) == 0) {
            lang_detect(m, &f, 1, NULL, LANG_HINT_IGNORE, &r2);
            differ += strcmp(r.code, r2.code) != 0 || r.confidence != r2.confidence;
            text_field_fini(&f);
        }
    }
    /* A separate pass, so that neither detector evicts the other's tables from the cache. */
    for (size_t i = 0; i < set->n; i++) {
        const struct bench_item *it = &set->items[i];
        double t0 = bench_now();
        const char *c = bench_cld2_detect(it->text, (int)it->len);

        t_cld2 += bench_now() - t0;
        bench_count(cld2, it->code, c);
    }
    printf("%-10s %7zu items %6.1f MB | lang %6.2f %% %7.1f MB/s tokenizing all (detect only "
           "%7.1f MB/s), %7.1f MB/s tokenizing what it reads | cld2 (full tables) %6.2f %% %7.1f "
           "MB/s\n",
           name, set->n, (double)bytes / 1e6, bench_macro(ours), (double)bytes / t_ours / 1e6,
           (double)bytes / (t_ours - t_tok) / 1e6, (double)bytes / t_lazy / 1e6, bench_macro(cld2),
           (double)bytes / t_cld2 / 1e6);
    if (differ > 0)
        printf("%-10s %zu results differ between the two ways of tokenizing\n", name, differ);
    free(ours);
    free(cld2);
}

int main(int argc, char **argv)
{
    struct bench_set sentences = {0}, articles = {0};
    struct lang_model *m;
    struct errbuf err;
    long rss0, rss1;
    double t0;

    if (argc < 3) {
        fprintf(stderr, "usage: lang_bench MODEL NEWS.tsv [SHORT.tsv...]\n");
        return 2;
    }
    /* CLD2 allocates large scratch buffers per call; without these, glibc maps and trims them
     * every time and CLD2 runs several times slower on sentences than it can. */
    mallopt(M_MMAP_THRESHOLD, 4 << 20);
    mallopt(M_TRIM_THRESHOLD, 64 << 20);
    rss0 = bench_rss_kb();
    t0 = bench_now();
    if (lang_model_load(&m, argv[1], &err) != 0) {
        fprintf(stderr, "lang_bench: %s\n", err.msg);
        return 1;
    }
    printf("model load %.3f ms, max RSS %ld KB before load, %ld KB after\n",
           (bench_now() - t0) * 1e3, rss0, bench_rss_kb());
    if (bench_read(argv[2], &sentences, &articles) != 0) {
        fprintf(stderr, "lang_bench: %s: cannot read\n", argv[2]);
        return 1;
    }
    for (int i = 3; i < argc; i++)
        if (bench_read(argv[i], &sentences, NULL) != 0) {
            fprintf(stderr, "lang_bench: %s: cannot read\n", argv[i]);
            return 1;
        }
    bench_run(m, "sentences", &sentences);
    bench_run(m, "articles", &articles);
    rss1 = bench_rss_kb();
    printf("max RSS at end %ld KB (inputs, both detectors and the mapped model)\n", rss1);
    lang_model_free(m);
    for (size_t i = 0; i < sentences.n; i++)
        free(sentences.items[i].text);
    for (size_t i = 0; i < articles.n; i++)
        free(articles.items[i].text);
    free(sentences.items);
    free(articles.items);
    return 0;
}
