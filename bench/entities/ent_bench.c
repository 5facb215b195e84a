/* ent_bench: entity stage and tagger throughput (tokens per second, one core) and peak RSS
 * on JSON-lines articles; with --print, shows the entities found instead. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include <jansson.h>

#include "stages/pipeline.h"
#include "stages/text/text.h"

static double now(void)
{
    struct timespec t;

    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

/* Tokens of the article's title and text (the text layer's count). */
static size_t count_tokens(const char *line, size_t len)
{
    json_t *j = json_loadb(line, len, 0, NULL);
    const char *names[] = {"title", "text"};
    size_t n = 0;

    for (size_t k = 0; j != NULL && k < 2; k++) {
        const char *s = json_string_value(json_object_get(j, names[k]));
        struct text_field f;
        struct errbuf err;

        if (s == NULL || text_field_init(&f, names[k], s, strlen(s), &err) != 0)
            continue;
        n += f.n_tokens;
        text_field_fini(&f);
    }
    json_decref(j);
    return n;
}

static void print_entities(const char *out)
{
    json_t *j = json_loads(out, 0, NULL), *e;
    size_t i;

    json_array_foreach(json_object_get(json_object_get(j, "enrichment"), "entities"), i, e)
    {
        json_t *m;
        size_t k;

        printf("%-4s %-40s count %lld salience %.3f:", json_string_value(json_object_get(e, "type")),
               json_string_value(json_object_get(e, "name")),
               json_integer_value(json_object_get(e, "count")),
               json_real_value(json_object_get(e, "salience")));
        json_array_foreach(json_object_get(e, "mentions"), k, m)
            printf(" [%s]", json_string_value(json_object_get(m, "text")));
        printf("\n");
    }
    printf("--\n");
    json_decref(j);
}

int main(int argc, char **argv)
{
    const char *stages[] = {"entities"};
    const char *lang = NULL, *file = NULL;
    int print = 0, rounds = 5;
    struct pipeline_options opts = {.timing = 1};
    struct errbuf err;
    struct pipeline *p;
    char **lines = NULL;
    size_t *lens = NULL, n = 0, cap = 0, tokens = 0;
    char *buf = NULL;
    size_t bcap = 0;
    ssize_t got;
    FILE *f;
    double t0, secs, stage_secs = 0;
    struct rusage ru;

    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--print") == 0)
            print = 1;
        else if (strcmp(argv[i], "--lang") == 0 && i + 1 < argc)
            lang = argv[++i];
        else if (strcmp(argv[i], "--rounds") == 0 && i + 1 < argc)
            rounds = atoi(argv[++i]);
        else
            file = argv[i];
    }
    if (file == NULL || rounds < 1) {
        fprintf(stderr, "usage: ent_bench [--print] [--lang L] [--rounds N] ARTICLES.jsonl\n");
        return 2;
    }
    f = fopen(file, "r");
    if (f == NULL) {
        perror(file);
        return 1;
    }
    while ((got = getline(&buf, &bcap, f)) > 0) {
        if (buf[got - 1] == '\n')
            buf[--got] = '\0';
        if (got == 0)
            continue;
        if (n == cap) {
            cap = cap ? cap * 2 : 256;
            lines = realloc(lines, cap * sizeof(*lines));
            lens = realloc(lens, cap * sizeof(*lens));
            if (lines == NULL || lens == NULL)
                return 1;
        }
        lines[n] = strdup(buf);
        lens[n] = (size_t)got;
        tokens += count_tokens(buf, (size_t)got);
        n++;
    }
    fclose(f);
    free(buf);
    p = pipeline_new(stages, 1, NULL, 0, &opts, &err);
    if (p == NULL) {
        fprintf(stderr, "ent_bench: %s\n", err.msg);
        return 1;
    }
    if (print)
        rounds = 1;
    t0 = now();
    for (int r = 0; r < rounds; r++)
        for (size_t i = 0; i < n; i++) {
            struct pipeline_result res;

            pipeline_process(p, lines[i], lens[i], lang, &res);
            stage_secs += (double)res.stage_us[0] / 1e6;
            if (print && res.out != NULL)
                print_entities(res.out);
            else if (res.out == NULL)
                fprintf(stderr, "line %zu: %s\n", i + 1, res.detail);
            pipeline_result_fini(&res);
        }
    secs = now() - t0;
    getrusage(RUSAGE_SELF, &ru);
    if (!print)
        printf("%zu articles, %zu tokens x %d rounds in %.3f s: %.0f tokens/s, %.0f articles/s "
               "(whole pipeline: parse, tokenize, entities, serialize; one thread); max RSS %ld "
               "KiB\n",
               n, tokens, rounds, secs, (double)tokens * rounds / secs, (double)n * rounds / secs,
               ru.ru_maxrss);
    if (!print && stage_secs > 0)
        printf("entities stage alone: %.3f s: %.0f tokens/s\n", stage_secs,
               (double)tokens * rounds / stage_secs);
    for (size_t i = 0; i < n; i++)
        free(lines[i]);
    free(lines);
    free(lens);
    pipeline_free(p);
    return 0;
}
