/* entities: the entity stage. Tags each sentence with the model of the document's language,
 * turns BIOES spans into mentions and groups the mentions of one article into entities. */
#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "stages/entities/ent_model.h"
#include "stages/stage.h"

#define ENT_MAX_MODELS 32
#define ENT_NAME_MAX 512 /* bytes of a canonical name; longer mentions keep their raw text */

struct key_map {
    const char **key; /* borrowed keys */
    int *val;
    size_t mask;
};

/* A "name<TAB>value" file: folded names to values; empty when the file is absent. */
struct name_table {
    char *text;          /* owned: the file; keys and values point into it */
    const char **value;  /* owned array of borrowed values */
    struct key_map map;  /* folded name -> index into value */
    size_t n;
};

struct ent_ctx {
    struct ent_model *models[ENT_MAX_MODELS]; /* owned */
    size_t n_models;
    struct name_table countries; /* countries.tsv: name -> ISO 3166-1 alpha-2 */
    struct name_table cities;    /* cities.tsv: name -> GeoNames id */
};

static int load_table(struct name_table *t, const char *dir, const char *file,
                      struct errbuf *err);
static void table_fini(struct name_table *t);
static void key_map_fini(struct key_map *m);
static int key_map_get(const struct key_map *m, const char *key);

/* One tagged span. */
struct mention {
    size_t field;      /* index into doc->fields */
    size_t first, end; /* token range of the mention (title included) */
    size_t name_first; /* first token of the canonical name (after titles) */
    size_t sentence;   /* sentence index within the field */
    int type;
    char *name;        /* owned: canonical name */
    char *key;         /* owned: type-prefixed folded name used for grouping */
    int entity;        /* index of the entity it belongs to */
};

struct entity {
    int type;
    const char *name; /* borrowed from the mention that names it */
    size_t count;
    double score;
};

/* Titles and honorifics: part of a mention, never of the canonical name. Lower case. */
static const char *const honorifics[] = {
    "präsident", "präsidentin", "staatspräsident", "staatspräsidentin", "ministerpräsident",
    "ministerpräsidentin", "bundespräsident", "bundespräsidentin", "kanzler", "kanzlerin",
    "bundeskanzler", "bundeskanzlerin", "minister", "ministerin", "herr", "herrn", "frau", "dr.",
    "prof.", "dr", "prof", "mr.", "mrs.", "ms.", "mr", "mrs", "ms", "president", "sir", "dame",
    "lord", "premier", "prime", "chancellor", "senator", "gov.", "sen.", "rep.", "st.", NULL};

static int is_honorific(const char *s, size_t len)
{
    char low[32];
    long n;

    if (len >= sizeof(low))
        return 0;
    n = text_fold(s, len, low, sizeof(low));
    if (n < 0)
        return 0;
    for (size_t i = 0; honorifics[i] != NULL; i++)
        if (strcmp(low, honorifics[i]) == 0)
            return strcmp(low, "st.") != 0; /* "St. Petersburg" keeps its St. */
    return 0;
}

/* Titles that only ever precede a person's name. */
static int is_person_title(const char *s, size_t len)
{
    static const char *const t[] = {"mr.", "mrs.", "ms.", "dr.", "herr", "herrn", "frau", NULL};
    char low[16];

    if (len >= sizeof(low) || text_fold(s, len, low, sizeof(low)) < 0)
        return 0;
    for (size_t i = 0; t[i] != NULL; i++)
        if (strcmp(low, t[i]) == 0)
            return 1;
    return 0;
}

/* ---- model loading ---- */

static void entities_fini(void *vctx)
{
    struct ent_ctx *ctx = vctx;

    if (ctx == NULL)
        return;
    for (size_t i = 0; i < ctx->n_models; i++)
        ent_model_free(ctx->models[i]);
    table_fini(&ctx->countries);
    table_fini(&ctx->cities);
    free(ctx);
}

static int entities_init(void **out, const struct conf_section *conf, struct errbuf *err)
{
    struct ent_ctx *ctx;
    char dir[4096], path[4096 + 256];
    const char *model_dir = conf_section_get(conf, "model_dir");
    DIR *d;
    struct dirent *de;
    int rc = 0;

    *out = NULL;
    for (size_t i = 0; conf != NULL && i < conf->n_kv; i++)
        if (strcmp(conf->kv[i].key, "model_dir") != 0)
            return errbuf_set(err, -EINVAL, "%s: unknown key in [stage.entities]", conf->kv[i].key);
    if (model_dir != NULL)
        snprintf(dir, sizeof(dir), "%s", model_dir);
    else
        snprintf(dir, sizeof(dir), "%s/entities", stage_model_dir());
    ctx = calloc(1, sizeof(*ctx));
    if (ctx == NULL)
        return errbuf_set(err, -ENOMEM, "out of memory");
    d = opendir(dir);
    if (d == NULL) {
        rc = errbuf_set(err, -errno, "%s: %s", dir, strerror(errno));
        entities_fini(ctx);
        return rc;
    }
    while ((de = readdir(d)) != NULL) {
        size_t n = strlen(de->d_name);
        char lang[16];

        if (n < 7 || n - 6 >= sizeof(lang) || strcmp(de->d_name + n - 6, ".model") != 0)
            continue;
        if (ctx->n_models == ENT_MAX_MODELS) {
            rc = errbuf_set(err, -E2BIG, "%s: more than %d models", dir, ENT_MAX_MODELS);
            break;
        }
        memcpy(lang, de->d_name, n - 6);
        lang[n - 6] = '\0';
        snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
        rc = ent_model_load(&ctx->models[ctx->n_models], path, lang, err);
        if (rc != 0)
            break;
        ctx->n_models++;
    }
    closedir(d);
    if (rc == 0 && ctx->n_models == 0)
        rc = errbuf_set(err, -ENOENT, "%s: no *.model files", dir);
    if (rc == 0)
        rc = load_table(&ctx->countries, dir, "countries.tsv", err);
    if (rc == 0)
        rc = load_table(&ctx->cities, dir, "cities.tsv", err);
    if (rc != 0) {
        entities_fini(ctx);
        return rc;
    }
    *out = ctx;
    return 0;
}

static const struct ent_model *model_for(const struct ent_ctx *ctx, const char *lang)
{
    for (size_t i = 0; i < ctx->n_models; i++)
        if (strcmp(ctx->models[i]->lang, lang) == 0)
            return ctx->models[i];
    return NULL;
}

/* The language decides the model. No lang stage result: the input's hint, else English. A
 * language without a model (and "und") gets no entities. */
static const struct ent_model *choose_model(const struct ent_ctx *ctx, const struct doc *doc)
{
    if (doc->lang[0] != '\0')
        return model_for(ctx, doc->lang);
    if (doc->lang_hint != NULL && doc->lang_hint[0] != '\0' && model_for(ctx, doc->lang_hint))
        return model_for(ctx, doc->lang_hint);
    return model_for(ctx, "en");
}

/* ---- a small string map for grouping ---- */

static uint64_t str_hash(const char *s)
{
    uint64_t h = 0xcbf29ce484222325ULL;

    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 0x100000001b3ULL;
    return h;
}

static int key_map_init(struct key_map *m, size_t n)
{
    size_t cap = 16;

    while (cap < n * 2)
        cap *= 2;
    m->key = calloc(cap, sizeof(*m->key));
    m->val = calloc(cap, sizeof(*m->val));
    m->mask = cap - 1;
    return m->key != NULL && m->val != NULL ? 0 : -ENOMEM;
}

static void key_map_fini(struct key_map *m)
{
    free(m->key);
    free(m->val);
}

/* Value of key, or -1. */
static int key_map_get(const struct key_map *m, const char *key)
{
    for (size_t i = str_hash(key) & m->mask;; i = (i + 1) & m->mask) {
        if (m->key[i] == NULL)
            return -1;
        if (strcmp(m->key[i], key) == 0)
            return m->val[i];
    }
}

/* Sets key (borrowed) to val unless present. The map never fills: it has twice the slots of
 * the most keys put in. */
static void key_map_put(struct key_map *m, const char *key, int val)
{
    for (size_t i = str_hash(key) & m->mask;; i = (i + 1) & m->mask) {
        if (m->key[i] == NULL) {
            m->key[i] = key;
            m->val[i] = val;
            return;
        }
        if (strcmp(m->key[i], key) == 0)
            return;
    }
}

static void table_fini(struct name_table *t)
{
    key_map_fini(&t->map);
    free(t->value);
    free(t->text);
}

/* Loads dir/file ("name<TAB>value" lines) into t when the file is present. */
static int load_table(struct name_table *t, const char *dir, const char *file, struct errbuf *err)
{
    char path[4096 + 64];
    FILE *f;
    long size;
    size_t n = 0;
    char *p, *text;

    snprintf(path, sizeof(path), "%s/%s", dir, file);
    f = fopen(path, "rb");
    if (f == NULL)
        return errno == ENOENT ? 0 : errbuf_set(err, -errno, "%s: %s", path, strerror(errno));
    if (fseek(f, 0, SEEK_END) != 0 || (size = ftell(f)) < 0 || fseek(f, 0, SEEK_SET) != 0 ||
        size > (1L << 26)) {
        fclose(f);
        return errbuf_set(err, -EINVAL, "%s: cannot read", path);
    }
    text = malloc((size_t)size + 1);
    if (text == NULL || fread(text, 1, (size_t)size, f) != (size_t)size) {
        free(text);
        fclose(f);
        return errbuf_set(err, -EIO, "%s: cannot read", path);
    }
    fclose(f);
    text[size] = '\0';
    t->text = text;
    for (p = text; *p; p++)
        n += *p == '\n';
    t->value = calloc(n + 1, sizeof(*t->value));
    if (t->value == NULL || key_map_init(&t->map, n + 1) != 0)
        return errbuf_set(err, -ENOMEM, "%s: out of memory", path);
    for (p = text; *p;) {
        char *nl = strchr(p, '\n'), *tab = strchr(p, '\t');
        char folded[256];
        long fl;
        int last;

        if (nl == NULL)
            nl = p + strlen(p);
        last = *nl == '\0';
        if (tab == NULL || tab > nl || tab + 1 == nl || t->n > n)
            return errbuf_set(err, -EINVAL, "%s: bad line \"%.*s\"", path, (int)(nl - p), p);
        *tab = '\0';
        *nl = '\0';
        /* The folded name replaces the original in place when it is not longer. */
        fl = text_fold(p, (size_t)(tab - p), folded, sizeof(folded));
        if (fl > 0 && fl <= tab - p) {
            memcpy(p, folded, (size_t)fl + 1);
            t->value[t->n] = tab + 1;
            key_map_put(&t->map, p, (int)t->n);
            t->n++;
        }
        p = last ? nl : nl + 1;
    }
    return 0;
}

/* Value of a name (any case) in t, or NULL. */
static const char *table_get(const struct name_table *t, const char *name)
{
    char folded[256];
    int i;

    if (t->n == 0 || text_fold(name, strlen(name), folded, sizeof(folded)) < 0)
        return NULL;
    i = key_map_get(&t->map, folded);
    return i >= 0 ? t->value[i] : NULL;
}

static const char *country_code(const struct ent_ctx *ctx, const char *name)
{
    return table_get(&ctx->countries, name);
}

/* ---- mentions ---- */

struct mention_list {
    struct mention *m;
    size_t n, cap;
};

static int mention_push(struct mention_list *l, const struct mention *m)
{
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 32;
        struct mention *p = realloc(l->m, cap * sizeof(*p));

        if (p == NULL)
            return -ENOMEM;
        l->m = p;
        l->cap = cap;
    }
    l->m[l->n++] = *m;
    return 0;
}

/* Tags every sentence of field fi and appends its mentions. */
static int tag_field(const struct ent_model *model, const struct doc *doc, size_t fi,
                     struct ent_scratch *s, struct mention_list *out)
{
    const struct text_field *f = &doc->fields[fi];
    const char **tok = NULL;
    size_t *len = NULL, cap = 0;
    uint8_t *tags = NULL;
    int rc = 0;

    for (size_t si = 0; si < f->n_sentences && rc == 0; si++) {
        const struct text_sentence *sen = &f->sentences[si];
        size_t n = sen->n_tokens, start = 0;

        if (n > cap) {
            free(tok);
            free(len);
            free(tags);
            cap = n < 64 ? 64 : n;
            tok = malloc(cap * sizeof(*tok));
            len = malloc(cap * sizeof(*len));
            tags = malloc(cap);
            if (tok == NULL || len == NULL || tags == NULL) {
                rc = -ENOMEM;
                break;
            }
        }
        for (size_t i = 0; i < n; i++) {
            const struct text_token *t = &f->tokens[sen->first + i];

            tok[i] = text_tok_ptr(f, t);
            len[i] = text_tok_len(t);
        }
        rc = ent_model_tag(model, tok, len, n, s, tags);
        for (size_t i = 0; i < n && rc == 0; i++) {
            unsigned t = tags[i];
            struct mention m;

            if (t == ENT_TAG_O)
                continue;
            if (ENT_TAG_POS(t) == ENT_POS_B || ENT_TAG_POS(t) == ENT_POS_S)
                start = i;
            if (ENT_TAG_POS(t) != ENT_POS_E && ENT_TAG_POS(t) != ENT_POS_S)
                continue;
            memset(&m, 0, sizeof(m));
            m.field = fi;
            m.type = ENT_TAG_TYPE(t);
            m.first = sen->first + start;
            m.end = sen->first + i + 1;
            m.sentence = si;
            /* Titles inside the span, or right before a person, belong to the mention only. */
            m.name_first = m.first;
            while (m.name_first + 1 < m.end &&
                   is_honorific(tok[m.name_first - sen->first], len[m.name_first - sen->first]))
                m.name_first++;
            /* "Mr. Cameron" is a person whatever the tagger thought. */
            if (m.type != ENT_PER && m.end == m.first + 1 && m.first > sen->first &&
                is_person_title(tok[m.first - 1 - sen->first], len[m.first - 1 - sen->first]))
                m.type = ENT_PER;
            for (int k = 0; k < 3 && m.type == ENT_PER && m.first > sen->first &&
                            is_honorific(tok[m.first - 1 - sen->first], len[m.first - 1 - sen->first]);
                 k++)
                m.first--;
            rc = mention_push(out, &m);
        }
    }
    free(tok);
    free(len);
    free(tags);
    return rc;
}

/* Builds name and key of mention m. Strips an English possessive. */
static int name_mention(const struct doc *doc, struct mention *m)
{
    const struct text_field *f = &doc->fields[m->field];
    const struct text_token *a = &f->tokens[m->name_first], *b = &f->tokens[m->end - 1];
    const char *s = f->data + a->start_byte;
    size_t len = b->end_byte - a->start_byte;
    char low[ENT_NAME_MAX];
    long n;

    if (len > 2 && (memcmp(s + len - 2, "'s", 2) == 0))
        len -= 2;
    else if (len > 4 && memcmp(s + len - 4, "\xe2\x80\x99s", 4) == 0)
        len -= 4;
    m->name = strndup(s, len);
    if (m->name == NULL)
        return -ENOMEM;
    n = len < sizeof(low) ? text_fold(s, len, low, sizeof(low)) : -ENOSPC;
    if (n < 0) {
        n = (long)(len < sizeof(low) - 1 ? len : sizeof(low) - 1);
        memcpy(low, s, (size_t)n);
        low[n] = '\0';
    }
    m->key = malloc((size_t)n + 3);
    if (m->key == NULL)
        return -ENOMEM;
    m->key[0] = (char)('0' + m->type);
    m->key[1] = ':';
    memcpy(m->key + 2, low, (size_t)n + 1);
    return 0;
}

/* Key of the last word of a multi-word person name ("0:alijew"), or NULL. New. */
static char *surname_key(const struct mention *m)
{
    const char *sp;

    if (m->type != ENT_PER)
        return NULL;
    sp = strrchr(m->key + 2, ' ');
    if (sp == NULL || sp[1] == '\0')
        return NULL;
    {
        size_t n = strlen(sp + 1);
        char *k = malloc(n + 3);

        if (k == NULL)
            return NULL;
        k[0] = m->key[0];
        k[1] = ':';
        memcpy(k + 2, sp + 1, n + 1);
        return k;
    }
}

/* Upper-case initials of the capitalised words of a multi-word name ("State Oil Company of
 * Azerbaijan Republic" -> "SOCAR"), as a key of the same type; NULL when under two letters. */
static char *acronym_key(const struct mention *m)
{
    char buf[40];
    size_t n = 0;
    const char *p = m->name;

    while (*p != '\0' && n + 1 < sizeof(buf)) {
        while (*p == ' ' || *p == '-')
            p++;
        if (*p >= 'A' && *p <= 'Z')
            buf[n++] = (char)(*p - 'A' + 'a');
        while (*p != '\0' && *p != ' ' && *p != '-')
            p++;
    }
    if (n < 2 || strchr(m->name, ' ') == NULL)
        return NULL;
    buf[n] = '\0';
    {
        char *k = malloc(n + 3);

        if (k == NULL)
            return NULL;
        k[0] = m->key[0];
        k[1] = ':';
        memcpy(k + 2, buf, n + 1);
        return k;
    }
}

static json_t *mention_json(const struct doc *doc, const struct mention *m)
{
    const struct text_field *f = &doc->fields[m->field];
    const struct text_token *a = &f->tokens[m->first], *b = &f->tokens[m->end - 1];

    return json_pack("{s:s, s:I, s:I, s:I, s:I, s:s%}", "field", f->name, "start",
                     (json_int_t)a->start_cp, "end", (json_int_t)b->end_cp, "start_byte",
                     (json_int_t)a->start_byte, "end_byte", (json_int_t)b->end_byte, "text",
                     f->data + a->start_byte, (size_t)(b->end_byte - a->start_byte));
}

static int has_lower_ascii(const char *s)
{
    for (; *s; s++)
        if (*s >= 'a' && *s <= 'z')
            return 1;
    return 0;
}

static int mention_cmp(const void *a, const void *b)
{
    const struct mention *x = a, *y = b;

    if (x->field != y->field)
        return x->field < y->field ? -1 : 1;
    return x->first < y->first ? -1 : x->first > y->first;
}

/* Whether most words of a sentence are written in capitals (a headline): the tagger is
 * unreliable there, so names already found elsewhere in the article are looked up instead. */
static int sentence_is_caps(const struct text_field *f, const struct text_sentence *sen)
{
    size_t words = 0, caps = 0;

    for (size_t i = sen->first; i < sen->first + sen->n_tokens; i++) {
        if (!(f->tokens[i].flags & TEXT_F_HAS_ALPHA))
            continue;
        words++;
        caps += (f->tokens[i].flags & TEXT_F_ALL_UPPER) != 0;
    }
    return words >= 2 && caps * 10 >= words * 7;
}

#define ENT_CAPS_MAX_WORDS 6

/* Adds mentions for the known entity names in all-caps sentences (ent_of: key -> entity). */
static int find_in_caps(const struct doc *doc, struct mention_list *ml, struct entity *ents,
                        const struct key_map *ent_of)
{
    size_t n_before = ml->n;

    for (size_t fi = 0; fi < doc->n_fields; fi++) {
        const struct text_field *f = &doc->fields[fi];
        unsigned char *covered = NULL;

        for (size_t si = 0; si < f->n_sentences; si++) {
            const struct text_sentence *sen = &f->sentences[si];
            size_t end = sen->first + sen->n_tokens;

            if (!sentence_is_caps(f, sen))
                continue;
            if (covered == NULL) {
                covered = calloc(f->n_tokens + 1, 1);
                if (covered == NULL)
                    return -ENOMEM;
                for (size_t k = 0; k < n_before; k++)
                    if (ml->m[k].field == fi)
                        memset(covered + ml->m[k].first, 1, ml->m[k].end - ml->m[k].first);
            }
            for (size_t i = sen->first; i < end; i++) {
                int found = -1;
                size_t best_end = 0;

                if (covered[i] || !(f->tokens[i].flags & TEXT_F_UPPER_INITIAL))
                    continue;
                for (size_t j = i; j < end && j < i + ENT_CAPS_MAX_WORDS; j++) {
                    char key[ENT_NAME_MAX];
                    size_t len = f->tokens[j].end_byte - f->tokens[i].start_byte;
                    long n;

                    if (len + 3 > sizeof(key))
                        break;
                    n = text_fold(f->data + f->tokens[i].start_byte, len, key + 2,
                                  sizeof(key) - 2);
                    if (n < 0)
                        break;
                    key[1] = ':';
                    for (int t = 0; t < ENT_N_TYPES; t++) {
                        int e;

                        key[0] = (char)('0' + t);
                        e = key_map_get(ent_of, key);
                        if (e >= 0) {
                            found = e;
                            best_end = j + 1;
                        }
                    }
                }
                if (found >= 0) {
                    struct mention m;

                    memset(&m, 0, sizeof(m));
                    m.field = fi;
                    m.first = m.name_first = i;
                    m.end = best_end;
                    m.sentence = si;
                    m.type = ents[found].type;
                    m.entity = found;
                    if (mention_push(ml, &m) != 0) {
                        free(covered);
                        return -ENOMEM;
                    }
                    ents[found].count++;
                    ents[found].score += strcmp(f->name, "title") == 0 ? 3.0 : 1.0;
                    i = best_end - 1;
                }
            }
        }
        free(covered);
    }
    if (ml->n > n_before)
        qsort(ml->m, ml->n, sizeof(*ml->m), mention_cmp);
    return 0;
}

/* Groups mentions into entities: same type and folded name; a German genitive -s when the
 * stem occurs too or is a country; a lone surname to an earlier full name; an acronym to its expansion. */
static int group_mentions(const struct ent_ctx *ctx, const struct doc *doc, const char *lang,
                          struct mention_list *ml,
                          struct entity **ents_out, size_t *n_ents_out)
{
    struct key_map names = {0}, aliases = {0};
    char **extra = NULL;
    size_t n_extra = 0;
    struct entity *ents = NULL;
    size_t n_ents = 0;
    int rc = -ENOMEM;

    *ents_out = NULL;
    *n_ents_out = 0;
    if (key_map_init(&names, ml->n + 1) != 0 || key_map_init(&aliases, 2 * ml->n + 1) != 0)
        goto done;
    extra = calloc(2 * ml->n + 1, sizeof(*extra));
    ents = calloc(ml->n + 1, sizeof(*ents));
    if (extra == NULL || ents == NULL)
        goto done;
    for (size_t i = 0; i < ml->n; i++)
        if (name_mention(doc, &ml->m[i]) != 0)
            goto done;
    /* Every full key present in the article (for the genitive check). */
    for (size_t i = 0; i < ml->n; i++)
        key_map_put(&names, ml->m[i].key, (int)i);
    /* German genitive: "Aserbaidschans" joins "Aserbaidschan" when that occurs. Decide for
     * all mentions first: the map borrows the keys that are then shortened. */
    if (strcmp(lang, "de") == 0) {
        unsigned char *gen = calloc(ml->n + 1, 1);

        if (gen == NULL)
            goto done;
        for (size_t i = 0; i < ml->n; i++) {
            struct mention *m = &ml->m[i];
            size_t kl = strlen(m->key), nl = strlen(m->name);

            if (kl < 5 || m->key[kl - 1] != 's' || nl < 2 || m->name[nl - 1] != 's')
                continue;
            if (m->type == ENT_LOC && country_code(ctx, m->name) == NULL) {
                m->name[nl - 1] = '\0';
                gen[i] = country_code(ctx, m->name) != NULL;
                m->name[nl - 1] = 's';
                if (gen[i])
                    continue;
            }
            {
                char *stem = strndup(m->key, kl - 1);

                if (stem == NULL) {
                    free(gen);
                    goto done;
                }
                gen[i] = key_map_get(&names, stem) >= 0;
                free(stem);
            }
        }
        for (size_t i = 0; i < ml->n; i++)
            if (gen[i]) {
                ml->m[i].key[strlen(ml->m[i].key) - 1] = '\0';
                ml->m[i].name[strlen(ml->m[i].name) - 1] = '\0';
            }
        free(gen);
    }
    /* Aliases: surnames and acronyms of multi-word names, first one wins. */
    for (size_t i = 0; i < ml->n; i++) {
        char *k = surname_key(&ml->m[i]);

        if (k == NULL)
            k = acronym_key(&ml->m[i]);
        if (k == NULL)
            continue;
        extra[n_extra++] = k;
        key_map_put(&aliases, k, (int)i);
    }
    {
        struct key_map ent_of;

        if (key_map_init(&ent_of, ml->n + 1) != 0)
            goto done;
        for (size_t i = 0; i < ml->n; i++) {
            struct mention *m = &ml->m[i];
            int e = key_map_get(&ent_of, m->key);

            if (e < 0 && strchr(m->key + 2, ' ') == NULL) {
                int full = key_map_get(&aliases, m->key);

                /* "Hayward" tagged as a place after "Tony Hayward": the person's surname. */
                if (full < 0 && m->type != ENT_PER) {
                    char c0 = m->key[0];

                    m->key[0] = (char)('0' + ENT_PER);
                    full = key_map_get(&aliases, m->key);
                    m->key[0] = c0;
                    if (full >= 0 && ml->m[full].type != ENT_PER)
                        full = -1;
                }

                /* A lone "Alijew" or "SOCAR" joins the full name's entity, created now if
                 * the full name comes later. */
                if (full >= 0) {
                    e = key_map_get(&ent_of, ml->m[full].key);
                    if (e < 0) {
                        e = (int)n_ents++;
                        ents[e].type = ml->m[full].type;
                        ents[e].name = ml->m[full].name;
                        key_map_put(&ent_of, ml->m[full].key, e);
                    }
                }
            }
            if (e < 0) {
                e = (int)n_ents++;
                ents[e].type = m->type;
                ents[e].name = m->name;
            }
            key_map_put(&ent_of, m->key, e);
            /* An all-caps headline mention names the entity only until a normal one comes. */
            if (!has_lower_ascii(ents[e].name) && has_lower_ascii(m->name) &&
                (strchr(ents[e].name, ' ') != NULL) == (strchr(m->name, ' ') != NULL))
                ents[e].name = m->name;
            m->entity = e;
            ents[e].count++;
            /* Salience: title mentions weigh 3, text mentions 1 plus a bonus for early ones. */
            ents[e].score += strcmp(doc->fields[m->field].name, "title") == 0
                                 ? 3.0
                                 : 1.0 + 1.0 / (1.0 + (double)m->sentence);
        }
        rc = find_in_caps(doc, ml, ents, &ent_of);
        key_map_fini(&ent_of);
        if (rc != 0)
            goto done;
        rc = -ENOMEM;
    }
    *ents_out = ents;
    *n_ents_out = n_ents;
    ents = NULL;
    rc = 0;
done:
    for (size_t i = 0; i < n_extra; i++)
        free(extra[i]);
    free(extra);
    free(ents);
    key_map_fini(&names);
    key_map_fini(&aliases);
    return rc;
}

static json_t *entities_json(const struct ent_ctx *ctx, const struct doc *doc, const struct mention_list *ml,
                             const struct entity *ents, size_t n_ents)
{
    json_t *arr = json_array();
    double total = 0;

    if (arr == NULL)
        return NULL;
    for (size_t e = 0; e < n_ents; e++)
        total += ents[e].score;
    for (size_t e = 0; e < n_ents; e++) {
        json_t *ms = json_array(), *obj;
        double sal = total > 0 ? round(ents[e].score / total * 1e4) / 1e4 : 0;

        if (ms == NULL)
            goto fail;
        for (size_t i = 0; i < ml->n; i++)
            if (ml->m[i].entity == (int)e && json_array_append_new(ms, mention_json(doc, &ml->m[i])) != 0) {
                json_decref(ms);
                goto fail;
            }
        obj = json_pack("{s:I, s:s, s:s, s:I, s:f, s:o}", "id", (json_int_t)e, "type",
                        ent_type_name(ents[e].type), "name", ents[e].name,
                        "count", (json_int_t)ents[e].count, "salience", sal, "mentions", ms);
        if (obj == NULL || json_array_append_new(arr, obj) != 0)
            goto fail;
        if (ents[e].type == ENT_LOC) {
            const char *iso = country_code(ctx, ents[e].name);

            const char *gid = iso == NULL ? table_get(&ctx->cities, ents[e].name) : NULL;

            if (iso != NULL && json_object_set_new(obj, "country", json_string(iso)) != 0)
                goto fail;
            if (gid != NULL &&
                json_object_set_new(obj, "geonameid", json_integer(strtoll(gid, NULL, 10))) != 0)
                goto fail;
        }
    }
    return arr;
fail:
    json_decref(arr);
    return NULL;
}

static int entities_process(void *vctx, struct doc *doc, struct errbuf *err)
{
    const struct ent_ctx *ctx = vctx;
    const struct ent_model *model = choose_model(ctx, doc);
    struct ent_scratch s;
    struct mention_list ml;
    struct entity *ents = NULL;
    size_t n_ents = 0;
    json_t *arr = NULL;
    int rc = 0;

    memset(&s, 0, sizeof(s));
    memset(&ml, 0, sizeof(ml));
    for (size_t fi = 0; model != NULL && fi < doc->n_fields && rc == 0; fi++)
        rc = tag_field(model, doc, fi, &s, &ml);
    if (rc == 0)
        rc = group_mentions(ctx, doc, model != NULL ? model->lang : "", &ml, &ents, &n_ents);
    if (rc == 0) {
        arr = entities_json(ctx, doc, &ml, ents, n_ents);
        rc = doc_set_result(doc, "entities", arr);
    }
    for (size_t i = 0; i < ml.n; i++) {
        free(ml.m[i].name);
        free(ml.m[i].key);
    }
    free(ml.m);
    free(ents);
    ent_scratch_fini(&s);
    if (rc != 0)
        return errbuf_set(err, rc, "entities: out of memory");
    return 0;
}

const struct stage_ops entities_stage_ops = {
    .name = "entities",
    .init = entities_init,
    .process = entities_process,
    .fini = entities_fini,
};
