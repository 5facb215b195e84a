/* lang_eval: per-language and macro accuracy of the language detector on "code<TAB>text" files. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "stages/lang/lang.h"

#define EVAL_MAX_LANGS 128

struct eval_lang {
    char code[8];
    size_t n, ok;
};

static double eval_now(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static struct eval_lang *eval_slot(struct eval_lang *l, size_t *n, const char *code)
{
    for (size_t i = 0; i < *n; i++)
        if (strcmp(l[i].code, code) == 0)
            return &l[i];
    if (*n >= EVAL_MAX_LANGS)
        return NULL;
    memset(&l[*n], 0, sizeof l[*n]);
    snprintf(l[*n].code, sizeof l[*n].code, "%s", code);
    return &l[(*n)++];
}

static int eval_cmp(const void *a, const void *b)
{
    return strcmp(((const struct eval_lang *)a)->code, ((const struct eval_lang *)b)->code);
}

static int eval_file(const struct lang_model *m, const char *path, int verbose)
{
    struct eval_lang langs[EVAL_MAX_LANGS];
    size_t n_langs = 0, cap = 0, bytes = 0;
    char *line = NULL;
    double t = 0.0, macro = 0.0;
    FILE *f = fopen(path, "r");
    ssize_t len;

    if (f == NULL) {
        fprintf(stderr, "lang_eval: %s: %s\n", path, strerror(errno));
        return -1;
    }
    while ((len = getline(&line, &cap, f)) > 0) {
        char *tab = strchr(line, '\t');
        struct text_field fld;
        struct lang_result r;
        struct eval_lang *slot;
        struct errbuf err;
        double t0;

        if (line[len - 1] == '\n')
            line[--len] = '\0';
        if (tab == NULL)
            continue;
        *tab = '\0';
        if (lang_model_code(m, 0) == NULL || text_validate_utf8(tab + 1, strlen(tab + 1), NULL) != 0)
            continue;
        slot = eval_slot(langs, &n_langs, line);
        if (slot == NULL)
            continue;
        t0 = eval_now();
        if (text_field_init(&fld, "text", tab + 1, strlen(tab + 1), &err) != 0)
            continue;
        lang_detect(m, &fld, 1, NULL, LANG_HINT_IGNORE, &r);
        text_field_fini(&fld);
        t += eval_now() - t0;
        bytes += strlen(tab + 1);
        slot->n++;
        if (strcmp(r.code, line) == 0)
            slot->ok++;
        else if (verbose > 1)
            fprintf(stdout, "  miss %s -> %s: %s\n", line, r.code, tab + 1);
    }
    free(line);
    fclose(f);
    qsort(langs, n_langs, sizeof langs[0], eval_cmp);
    for (size_t i = 0; i < n_langs; i++) {
        macro += (double)langs[i].ok / (double)langs[i].n;
        if (verbose)
            printf("  %-3s %6.2f %% (%zu)\n", langs[i].code, 100.0 * (double)langs[i].ok / (double)langs[i].n,
                   langs[i].n);
    }
    printf("%s: macro accuracy %.2f %% over %zu languages, %.1f MB/s (tokenize + detect)\n", path,
           n_langs ? 100.0 * macro / (double)n_langs : 0.0, n_langs, t > 0 ? (double)bytes / t / 1e6 : 0.0);
    return 0;
}

int main(int argc, char **argv)
{
    struct lang_model *m;
    struct errbuf err;
    int verbose = 0, argi = 1, rc = 0;

    while (argi < argc && strncmp(argv[argi], "-v", 2) == 0)
        verbose += (int)strlen(argv[argi++]) - 1;
    if (argc - argi < 2) {
        fprintf(stderr, "usage: lang_eval [-v|-vv] MODEL FILE.tsv...\n");
        return 2;
    }
    if (lang_model_load(&m, argv[argi], &err) != 0) {
        fprintf(stderr, "lang_eval: %s\n", err.msg);
        return 1;
    }
    for (int i = argi + 1; i < argc; i++)
        if (eval_file(m, argv[i], verbose) != 0)
            rc = 1;
    lang_model_free(m);
    return rc;
}
