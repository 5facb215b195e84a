/* ent_data: corpus readers for the entity trainer and evaluator. */
#include "tools/entities/ent_data.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <zlib.h>

#include "stages/entities/ent_model.h"

enum corpus_format { FMT_BIOES, FMT_CONLL, FMT_GERMEVAL };

/* Raw label of one token before BIOES conversion. */
struct raw_label {
    int type;  /* -1 for O */
    int begin; /* the tag opens a chunk (B-, S-) */
    int end;   /* the tag closes a chunk (E-, S-; BIOES input only) */
};

static int grow(void **p, size_t *cap, size_t need, size_t elem)
{
    size_t n = *cap ? *cap : 1024;
    void *q;

    if (need <= *cap)
        return 0;
    while (n < need)
        n *= 2;
    q = realloc(*p, n * elem);
    if (q == NULL)
        return -ENOMEM;
    *p = q;
    *cap = n;
    return 0;
}

static struct raw_label parse_label(const char *tag)
{
    struct raw_label l = {-1, 0, 0};
    const char *name;

    if (tag[0] == '\0' || tag[1] != '-')
        return l;
    name = tag + 2;
    if (strcasecmp(name, "PER") == 0)
        l.type = ENT_PER;
    else if (strcasecmp(name, "LOC") == 0)
        l.type = ENT_LOC;
    else if (strcasecmp(name, "ORG") == 0)
        l.type = ENT_ORG;
    else if (strcasecmp(name, "OTH") == 0 || strcasecmp(name, "MISC") == 0)
        l.type = ENT_MISC;
    else
        return l;
    l.begin = tag[0] == 'B' || tag[0] == 'S';
    l.end = tag[0] == 'E' || tag[0] == 'S';
    return l;
}

/* Closes the sentence collected since the last boundary: converts labels to BIOES. */
static int end_sentence(struct ent_corpus *c, const struct raw_label *lab, int bioes)
{
    size_t first = c->sent[c->n_sent];
    size_t n = c->n_tok - first;

    if (n == 0)
        return 0;
    for (size_t i = 0; i < n; i++) {
        const struct raw_label *l = &lab[i];
        int start, stop;

        if (l->type < 0) {
            c->tags[first + i] = ENT_TAG_O;
            continue;
        }
        start = l->begin || i == 0 || lab[i - 1].type != l->type || (bioes && lab[i - 1].end);
        stop = i + 1 == n || lab[i + 1].type != l->type || lab[i + 1].begin || (bioes && l->end);
        c->tags[first + i] = ENT_TAG(l->type, start && stop ? ENT_POS_S
                                              : start       ? ENT_POS_B
                                              : stop        ? ENT_POS_E
                                                            : ENT_POS_I);
    }
    if (grow((void **)&c->sent, &c->cap_sent, c->n_sent + 2, sizeof(size_t)) != 0)
        return -ENOMEM;
    c->n_sent++;
    c->sent[c->n_sent] = c->n_tok;
    return 0;
}

int ent_corpus_read(struct ent_corpus *c, const char *spec)
{
    const char *colon = strchr(spec, ':');
    enum corpus_format fmt;
    gzFile f;
    char line[8192];
    struct raw_label *lab = NULL;
    size_t lab_cap = 0;
    int rc = 0;

    if (colon == NULL) {
        fprintf(stderr, "%s: expected FORMAT:PATH\n", spec);
        return -EINVAL;
    }
    if (strncmp(spec, "bioes:", 6) == 0)
        fmt = FMT_BIOES;
    else if (strncmp(spec, "conll:", 6) == 0)
        fmt = FMT_CONLL;
    else if (strncmp(spec, "germeval:", 9) == 0)
        fmt = FMT_GERMEVAL;
    else {
        fprintf(stderr, "%s: unknown format (bioes, conll, germeval)\n", spec);
        return -EINVAL;
    }
    f = gzopen(colon + 1, "rb");
    if (f == NULL) {
        fprintf(stderr, "%s: %s\n", colon + 1, strerror(errno));
        return -errno;
    }
    if (c->sent == NULL) {
        if (grow((void **)&c->sent, &c->cap_sent, 2, sizeof(size_t)) != 0)
            return -ENOMEM;
        c->sent[0] = 0;
    }
    while (gzgets(f, line, sizeof(line)) != NULL) {
        size_t len = strlen(line);
        char *fields[8];
        int nf = 0;
        char *save = NULL, *tok, *tag;
        size_t first = c->sent[c->n_sent];

        while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r'))
            line[--len] = '\0';
        if (len >= 3 && (unsigned char)line[0] == 0xef && (unsigned char)line[1] == 0xbb)
            memmove(line, line + 3, len - 2), len -= 3;
        if (fmt == FMT_GERMEVAL && line[0] == '#')
            continue;
        if (len == 0 || strncmp(line, "-DOCSTART-", 10) == 0) {
            if ((rc = end_sentence(c, lab, fmt == FMT_BIOES)) != 0)
                break;
            continue;
        }
        for (char *p = strtok_r(line, fmt == FMT_GERMEVAL ? "\t" : " \t", &save);
             p != NULL && nf < 8; p = strtok_r(NULL, fmt == FMT_GERMEVAL ? "\t" : " \t", &save))
            fields[nf++] = p;
        if (nf < 2 || (fmt == FMT_GERMEVAL && nf < 3))
            continue;
        tok = fmt == FMT_GERMEVAL ? fields[1] : fields[0];
        tag = fmt == FMT_GERMEVAL ? fields[2] : fields[nf - 1];
        if (grow((void **)&c->tok_off, &c->cap_tok, c->n_tok + 1, sizeof(size_t)) != 0 ||
            (c->tok_len = realloc(c->tok_len, c->cap_tok * sizeof(uint32_t))) == NULL ||
            (c->tags = realloc(c->tags, c->cap_tok)) == NULL ||
            grow((void **)&lab, &lab_cap, c->n_tok - first + 1, sizeof(*lab)) != 0 ||
            grow((void **)&c->text, &c->text_cap, c->text_len + strlen(tok) + 1, 1) != 0) {
            rc = -ENOMEM;
            break;
        }
        c->tok_off[c->n_tok] = c->text_len;
        c->tok_len[c->n_tok] = (uint32_t)strlen(tok);
        memcpy(c->text + c->text_len, tok, strlen(tok) + 1);
        c->text_len += strlen(tok) + 1;
        lab[c->n_tok - first] = parse_label(tag);
        c->n_tok++;
    }
    if (rc == 0)
        rc = end_sentence(c, lab, fmt == FMT_BIOES);
    gzclose(f);
    free(lab);
    if (rc != 0)
        fprintf(stderr, "%s: out of memory\n", spec);
    return rc;
}

void ent_corpus_fini(struct ent_corpus *c)
{
    free(c->text);
    free(c->tok_off);
    free(c->tok_len);
    free(c->tags);
    free(c->sent);
    memset(c, 0, sizeof(*c));
}
