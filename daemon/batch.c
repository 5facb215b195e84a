/* batch: `enrichd enrich`, the stages over JSON lines (or plain text lines) from files or stdin. */
#include <errno.h>
#include <getopt.h>
#include <jansson.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "daemon/commands.h"
#include "stages/pipeline.h"

#define BATCH_CHUNK 512 /* lines processed in parallel before they are written in order */

struct batch_line {
    char *buf;       /* owned input line (without its newline) */
    size_t len;
    size_t lineno;   /* 1-based within its file */
    struct pipeline_result res;
};

struct batch_job {
    const struct pipeline *pipe;
    const char *lang_hint;
    struct batch_line *lines;
    size_t n;
    size_t next;     /* next line to take, under lock */
    pthread_mutex_t lock;
};

static void *batch_worker(void *arg)
{
    struct batch_job *job = arg;

    for (;;) {
        pthread_mutex_lock(&job->lock);
        size_t i = job->next++;
        pthread_mutex_unlock(&job->lock);
        if (i >= job->n)
            return NULL;
        pipeline_process(job->pipe, job->lines[i].buf, job->lines[i].len, job->lang_hint,
                         &job->lines[i].res);
    }
}

/* Wraps a plain-text line as {"id": "<lineno>", "text": line}. Returns new bytes or NULL. */
static char *wrap_text_line(const char *line, size_t len, size_t lineno, size_t *out_len)
{
    char id[32];
    json_t *o = json_object();
    char *s = NULL;

    snprintf(id, sizeof(id), "%zu", lineno);
    json_t *t = json_stringn(line, len); /* NULL for invalid UTF-8: passed on as is */
    if (o != NULL && t != NULL) {
        json_object_set_new(o, "id", json_string(id));
        json_object_set_new(o, "text", t);
        s = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
    } else {
        json_decref(t);
    }
    json_decref(o);
    if (s != NULL)
        *out_len = strlen(s);
    return s;
}

static int run_chunk(struct batch_job *job, int workers, const char *fname, int *failed)
{
    pthread_t tid[64];
    int started = 0;

    job->next = 0;
    if (workers > 1 && job->n > 1) {
        for (int w = 0; w < workers && w < 64; w++)
            if (pthread_create(&tid[w], NULL, batch_worker, job) == 0)
                started++;
    }
    if (started == 0)
        batch_worker(job);
    for (int w = 0; w < started; w++)
        pthread_join(tid[w], NULL);
    for (size_t i = 0; i < job->n; i++) {
        struct batch_line *l = &job->lines[i];
        if (l->res.reason == ARTICLE_OK) {
            fwrite(l->res.out, 1, l->res.out_len, stdout);
            fputc('\n', stdout);
        } else {
            fprintf(stderr, "%s:%zu: %s: %s\n", fname, l->lineno,
                    article_reason_name(l->res.reason), l->res.detail);
            *failed = 1;
        }
        pipeline_result_fini(&l->res);
        free(l->buf);
        l->buf = NULL;
    }
    job->n = 0;
    return ferror(stdout) ? -EIO : 0;
}

static int enrich_stream(FILE *in, const char *fname, struct batch_job *job, int workers,
                         int text_mode, int *failed)
{
    char *line = NULL;
    size_t cap = 0, lineno = 0;
    ssize_t got;
    int rc = 0;

    while ((got = getline(&line, &cap, in)) >= 0) {
        size_t len = (size_t)got;
        lineno++;
        if (len > 0 && line[len - 1] == '\n')
            len--;
        if (len > 0 && line[len - 1] == '\r')
            len--;
        if (text_mode && len == 0)
            continue; /* blank lines separate nothing in --text mode */
        struct batch_line *l = &job->lines[job->n];
        memset(l, 0, sizeof(*l));
        l->lineno = lineno;
        if (text_mode && (l->buf = wrap_text_line(line, len, lineno, &l->len)) != NULL) {
            /* wrapped */
        } else {
            l->buf = malloc(len + 1);
            if (l->buf == NULL) {
                rc = -ENOMEM;
                break;
            }
            memcpy(l->buf, line, len);
            l->buf[len] = '\0';
            l->len = len;
        }
        if (++job->n == BATCH_CHUNK && (rc = run_chunk(job, workers, fname, failed)) != 0)
            break;
    }
    if (rc == 0 && job->n > 0)
        rc = run_chunk(job, workers, fname, failed);
    free(line);
    return rc;
}

static void enrich_usage(FILE *out)
{
    fprintf(out,
            "usage: enrichd enrich [--stages LIST] [--text] [--lang CODE] [--workers N]\n"
            "                      [--no-timing] [FILE...]\n"
            "Reads JSON lines (or, with --text, one plain-text article per line) from the\n"
            "files or stdin and writes one enriched JSON line per input line to stdout, in\n"
            "order. Bad lines are reported on stderr as FILE:LINE: reason: detail.\n"
            "  --stages LIST  comma-separated stages in order (default: all; 'none': none)\n"
            "  --text         input lines are plain text; id = line number\n"
            "  --lang CODE    language hint for every article\n"
            "  --workers N    worker threads (default: number of cores)\n"
            "  --no-timing    leave out enrichment.timing_us (byte-identical repeats)\n"
            "Exit status: 0, 65 when any line failed, 64 on usage errors, 78 when the\n"
            "stages cannot be loaded.\n");
}

/* Splits a comma list in place into names; returns the count. */
static size_t split_list(char *s, const char **names, size_t max)
{
    size_t n = 0;

    for (char *tok = strtok(s, ", "); tok != NULL && n < max; tok = strtok(NULL, ", "))
        names[n++] = tok;
    return n;
}

int cmd_enrich(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"stages", required_argument, NULL, 's'}, {"text", no_argument, NULL, 't'},
        {"lang", required_argument, NULL, 'l'},   {"workers", required_argument, NULL, 'w'},
        {"no-timing", no_argument, NULL, 'n'},    {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *names[16];
    size_t n_names = 0;
    char *stages_arg = NULL;
    const char *lang = NULL;
    int text_mode = 0, timing = 1, workers = (int)sysconf(_SC_NPROCESSORS_ONLN), c, failed = 0;
    int rc = 0;

    optind = 1;
    while ((c = getopt_long(argc, argv, "s:tl:w:nh", longopts, NULL)) != -1) {
        switch (c) {
        case 's':
            stages_arg = optarg;
            break;
        case 't':
            text_mode = 1;
            break;
        case 'l':
            lang = optarg;
            break;
        case 'w':
            workers = atoi(optarg);
            if (workers < 1 || workers > 64) {
                fprintf(stderr, "enrichd enrich: --workers: must be 1..64\n");
                return 64;
            }
            break;
        case 'n':
            timing = 0;
            break;
        case 'h':
            enrich_usage(stdout);
            return 0;
        default:
            enrich_usage(stderr);
            return 64;
        }
    }
    if (workers < 1)
        workers = 1;
    if (stages_arg == NULL) {
        for (size_t i = 0; stage_registry[i] != NULL && n_names < 16; i++)
            names[n_names++] = stage_registry[i]->name;
    } else if (strcmp(stages_arg, "none") != 0) {
        n_names = split_list(stages_arg, names, 16);
    }

    struct errbuf err = {{0}};
    struct pipeline_options opts = {.timing = timing};
    struct pipeline *pipe = pipeline_new(names, n_names, NULL, 0, &opts, &err);
    if (pipe == NULL) {
        fprintf(stderr, "enrichd enrich: %s\n", err.msg);
        return 78;
    }
    struct batch_job job = {.pipe = pipe, .lang_hint = lang};
    job.lines = calloc(BATCH_CHUNK, sizeof(*job.lines));
    pthread_mutex_init(&job.lock, NULL);
    if (job.lines == NULL) {
        rc = -ENOMEM;
    } else if (optind >= argc) {
        rc = enrich_stream(stdin, "<stdin>", &job, workers, text_mode, &failed);
    } else {
        for (int i = optind; i < argc && rc == 0; i++) {
            FILE *f = strcmp(argv[i], "-") == 0 ? stdin : fopen(argv[i], "r");
            if (f == NULL) {
                fprintf(stderr, "enrichd enrich: %s: %s\n", argv[i], strerror(errno));
                failed = 1;
                continue;
            }
            rc = enrich_stream(f, argv[i], &job, workers, text_mode, &failed);
            if (f != stdin)
                fclose(f);
        }
    }
    pthread_mutex_destroy(&job.lock);
    free(job.lines);
    pipeline_free(pipe);
    if (fflush(stdout) != 0)
        rc = -EIO;
    if (rc != 0) {
        fprintf(stderr, "enrichd enrich: %s\n", strerror(-rc));
        return 74;
    }
    return failed ? 65 : 0;
}
