/* ent_data: corpus readers for the entity trainer and evaluator. */
#include "tools/entities/ent_data.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <zlib.h>

#include "stages/entities/ent_model.h"

enum corpus_format { FMT_BIOES, FMT_CONLL, FMT_WIKIANN, FMT_GERMEVAL };

/* Type names of other schemas: DFKI MobIE/SmartData and WNUT17 (lower case), German LER codes. */
static const struct {
    const char *name;
    int type;
} type_aliases[] = {
    {"PER", ENT_PER},      {"person", ENT_PER},
    {"RR", ENT_PER},       {"AN", ENT_PER},
    {"LOC", ENT_LOC},      {"location", ENT_LOC},
    {"location-city", ENT_LOC}, {"location-street", ENT_LOC},
    {"location-stop", ENT_LOC}, {"LD", ENT_LOC},
    {"ST", ENT_LOC},       {"STR", ENT_LOC},
    {"LDS", ENT_LOC},      {"ORG", ENT_ORG},
    {"organization", ENT_ORG}, {"organization-company", ENT_ORG},
    {"UN", ENT_ORG},       {"INN", ENT_ORG},
    {"GRT", ENT_ORG},      {"MRK", ENT_ORG},
    {"group", ENT_ORG},    {"corporation", ENT_ORG},
    {"OTH", ENT_MISC},     {"MISC", ENT_MISC},
    {"product", ENT_MISC}, {"creative-work", ENT_MISC},
};

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
    for (size_t i = 0; i < sizeof(type_aliases) / sizeof(type_aliases[0]); i++)
        if (strcasecmp(name, type_aliases[i].name) == 0)
            l.type = type_aliases[i].type;
    if (l.type < 0)
        return l;
    l.begin = tag[0] == 'B' || tag[0] == 'S';
    l.end = tag[0] == 'E' || tag[0] == 'S';
    return l;
}

/* Closes the sentence collected since the last boundary: converts labels to BIOES. */
/* Per-file reading options. */
struct read_opts {
    enum corpus_format fmt;
    int nomisc, softmisc;
    float weight;
};

static int end_sentence(struct ent_corpus *c, const struct raw_label *lab,
                        const struct read_opts *o)
{
    size_t first = c->sent[c->n_sent];
    size_t n = c->n_tok - first;
    int bioes = o->fmt == FMT_BIOES;

    if (n == 0)
        return 0;
    for (size_t i = 0; i < n; i++) {
        const struct raw_label *l = &lab[i];
        int start, stop;

        c->loose[first + i] = (uint8_t)((o->nomisc && l->type < 0) ||
                                        (o->softmisc && l->type == ENT_MISC));
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
    if (grow((void **)&c->sent, &c->cap_sent, c->n_sent + 2, sizeof(size_t)) != 0 ||
        grow((void **)&c->sent_w, &c->cap_w, c->n_sent + 1, sizeof(float)) != 0)
        return -ENOMEM;
    c->sent_w[c->n_sent] = o->weight;
    c->n_sent++;
    c->sent[c->n_sent] = c->n_tok;
    return 0;
}

/* Parses "FORMAT[,OPTION]..." (the n bytes before the colon of spec) into o. */
static int parse_opts(const char *spec, size_t n, struct read_opts *o)
{
    static const char *const formats[] = {"bioes", "conll", "wikiann", "germeval"};
    char buf[128], *save = NULL, *w;
    int k = 0;

    if (n >= sizeof(buf)) {
        fprintf(stderr, "%s: format too long\n", spec);
        return -EINVAL;
    }
    memcpy(buf, spec, n);
    buf[n] = '\0';
    for (w = strtok_r(buf, ",", &save); w != NULL; w = strtok_r(NULL, ",", &save), k++) {
        if (k == 0) {
            int found = 0;

            for (int i = 0; i < 4; i++)
                if (strcmp(w, formats[i]) == 0) {
                    o->fmt = (enum corpus_format)i;
                    found = 1;
                }
            if (!found) {
                fprintf(stderr, "%s: unknown format (bioes, conll, wikiann, germeval)\n", spec);
                return -EINVAL;
            }
        } else if (strcmp(w, "nomisc") == 0) {
            o->nomisc = 1;
        } else if (strcmp(w, "softmisc") == 0) {
            o->softmisc = 1;
        } else if (w[0] == 'w' && strtof(w + 1, NULL) > 0) {
            o->weight = strtof(w + 1, NULL);
        } else {
            fprintf(stderr, "%s: unknown option %s (nomisc, softmisc, wX)\n", spec, w);
            return -EINVAL;
        }
    }
    return k > 0 ? 0 : -EINVAL;
}

int ent_corpus_read(struct ent_corpus *c, const char *spec)
{
    const char *colon = strchr(spec, ':');
    struct read_opts o = {FMT_BIOES, 0, 0, 1.0f};
    gzFile f;
    char line[8192];
    struct raw_label *lab = NULL;
    size_t lab_cap = 0;
    int rc = 0;

    if (colon == NULL) {
        fprintf(stderr, "%s: expected FORMAT:PATH\n", spec);
        return -EINVAL;
    }
    if (parse_opts(spec, (size_t)(colon - spec), &o) != 0)
        return -EINVAL;
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
        if (o.fmt == FMT_GERMEVAL && line[0] == '#')
            continue;
        if (len == 0 || strncmp(line, "-DOCSTART-", 10) == 0) {
            if ((rc = end_sentence(c, lab, &o)) != 0)
                break;
            continue;
        }
        for (char *p = strtok_r(line, o.fmt == FMT_GERMEVAL ? "\t" : " \t", &save);
             p != NULL && nf < 8; p = strtok_r(NULL, o.fmt == FMT_GERMEVAL ? "\t" : " \t", &save))
            fields[nf++] = p;
        if (nf < 2 || (o.fmt == FMT_GERMEVAL && nf < 3))
            continue;
        tok = o.fmt == FMT_GERMEVAL ? fields[1] : fields[0];
        tag = o.fmt == FMT_GERMEVAL ? fields[2] : fields[nf - 1];
        if (o.fmt == FMT_WIKIANN && strlen(tok) > 3 && tok[2] == ':')
            tok += 3;
        if (grow((void **)&c->tok_off, &c->cap_tok, c->n_tok + 1, sizeof(size_t)) != 0 ||
            (c->tok_len = realloc(c->tok_len, c->cap_tok * sizeof(uint32_t))) == NULL ||
            (c->tags = realloc(c->tags, c->cap_tok)) == NULL ||
            (c->loose = realloc(c->loose, c->cap_tok)) == NULL ||
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
        rc = end_sentence(c, lab, &o);
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
    free(c->loose);
    free(c->sent);
    free(c->sent_w);
    memset(c, 0, sizeof(*c));
}
