/* pipeline: article ingest, the stage run and the enriched output. */
#include "stages/pipeline.h"

#include <errno.h>
#include <stdbool.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#ifndef ENRICHD_VERSION
#define ENRICHD_VERSION "0.0.0"
#endif

#define PIPELINE_MAX_STAGES 8
#define PIPELINE_DEFAULT_MAX_BYTES (4u << 20)

struct pipeline_stage {
    const struct stage_ops *ops;
    void *ctx;
};

struct pipeline {
    struct pipeline_stage stages[PIPELINE_MAX_STAGES];
    size_t n_stages;
    int tokenize; /* some stage needs tokenized fields */
    size_t max_bytes;
    char *id_field;
    char *title_field;
    char *text_field;
    int accept_plain_text;
    int timing;
};

static const char *const reason_names[ARTICLE_REASON_COUNT] = {
    [ARTICLE_OK] = "ok",
    [ARTICLE_EMPTY] = "empty",
    [ARTICLE_OVERSIZED] = "oversized",
    [ARTICLE_INVALID_UTF8] = "invalid_utf8",
    [ARTICLE_NUL_BYTE] = "nul_byte",
    [ARTICLE_NOT_JSON] = "not_json",
    [ARTICLE_TOO_DEEP] = "too_deep",
    [ARTICLE_NOT_OBJECT] = "not_object",
    [ARTICLE_MISSING_TEXT] = "missing_text",
    [ARTICLE_BAD_FIELD] = "bad_field",
    [ARTICLE_STAGE_FAILED] = "stage_failed",
    [ARTICLE_NO_MEMORY] = "no_memory",
};

const char *article_reason_name(enum article_reason r)
{
    if ((unsigned)r >= ARTICLE_REASON_COUNT)
        return "unknown";
    return reason_names[r];
}

static char *dup_or(const char *s, const char *def)
{
    return strdup(s != NULL && s[0] != '\0' ? s : def);
}

struct pipeline *pipeline_new(const char *const *stage_names, size_t n_stages,
                              const struct conf_section *sections, size_t n_sections,
                              const struct pipeline_options *opts, struct errbuf *err)
{
    struct pipeline *p = calloc(1, sizeof(*p));
    struct pipeline_options def = {0};

    if (p == NULL) {
        errbuf_set(err, -ENOMEM, "out of memory");
        return NULL;
    }
    if (opts == NULL)
        opts = &def;
    p->max_bytes = opts->max_bytes ? opts->max_bytes : PIPELINE_DEFAULT_MAX_BYTES;
    p->id_field = dup_or(opts->id_field, "id");
    p->title_field = dup_or(opts->title_field, "title");
    p->text_field = dup_or(opts->text_field, "text");
    p->accept_plain_text = opts->accept_plain_text;
    p->timing = opts->timing;
    if (p->id_field == NULL || p->title_field == NULL || p->text_field == NULL) {
        errbuf_set(err, -ENOMEM, "out of memory");
        goto fail;
    }
    if (n_stages > PIPELINE_MAX_STAGES) {
        errbuf_set(err, -EINVAL, "stages: at most %d stages", PIPELINE_MAX_STAGES);
        goto fail;
    }
    for (size_t i = 0; i < n_stages; i++) {
        const struct stage_ops *ops = stage_find(stage_names[i]);
        const struct conf_section *sec = NULL;
        char secname[64];
        struct errbuf serr = {{0}};

        if (ops == NULL) {
            errbuf_set(err, -EINVAL, "stages: unknown stage '%s'", stage_names[i]);
            goto fail;
        }
        for (size_t k = 0; k < p->n_stages; k++) {
            if (p->stages[k].ops == ops) {
                errbuf_set(err, -EINVAL, "stages: '%s' listed twice", stage_names[i]);
                goto fail;
            }
        }
        snprintf(secname, sizeof(secname), "stage.%s", ops->name);
        for (size_t k = 0; k < n_sections; k++)
            if (sections[k].name != NULL && strcmp(sections[k].name, secname) == 0)
                sec = &sections[k];
        if (ops->init(&p->stages[p->n_stages].ctx, sec, &serr) != 0) {
            errbuf_set(err, -EINVAL, "[stage.%s] %s", ops->name, serr.msg);
            ops->fini(p->stages[p->n_stages].ctx);
            goto fail;
        }
        p->stages[p->n_stages++].ops = ops;
        p->tokenize |= !ops->raw_text;
    }
    return p;
fail:
    pipeline_free(p);
    return NULL;
}

void pipeline_free(struct pipeline *p)
{
    if (p == NULL)
        return;
    for (size_t i = 0; i < p->n_stages; i++)
        p->stages[i].ops->fini(p->stages[i].ctx);
    free(p->id_field);
    free(p->title_field);
    free(p->text_field);
    free(p);
}

size_t pipeline_n_stages(const struct pipeline *p)
{
    return p->n_stages;
}

const char *pipeline_stage_name(const struct pipeline *p, size_t i)
{
    return i < p->n_stages ? p->stages[i].ops->name : NULL;
}

static int reject(struct pipeline_result *res, enum article_reason r, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int reject(struct pipeline_result *res, enum article_reason r, const char *fmt, ...)
{
    va_list ap;

    res->reason = r;
    va_start(ap, fmt);
    vsnprintf(res->detail, sizeof(res->detail), fmt, ap);
    va_end(ap);
    free(res->out);
    res->out = NULL;
    res->out_len = 0;
    return -1;
}

static uint64_t now_us(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

/* A stable id from the content: FNV-1a 64 of the input bytes. */
static char *content_id(const char *buf, size_t len)
{
    uint64_t h = 14695981039346656037ull;
    char *id = malloc(24);

    for (size_t i = 0; i < len; i++) {
        h ^= (unsigned char)buf[i];
        h *= 1099511628211ull;
    }
    if (id != NULL)
        snprintf(id, 24, "h%016" PRIx64, h);
    return id;
}

static bool only_space(const char *buf, size_t len)
{
    for (size_t i = 0; i < len; i++)
        if (buf[i] != ' ' && buf[i] != '\t' && buf[i] != '\n' && buf[i] != '\r')
            return false;
    return true;
}

/* Reads an optional string member. Returns 0 (value or NULL in *out), -1 on wrong type. */
static int opt_string(json_t *root, const char *key, const char **out, size_t *len)
{
    json_t *v = json_object_get(root, key);

    *out = NULL;
    if (len != NULL)
        *len = 0;
    if (v == NULL || json_is_null(v))
        return 0;
    if (!json_is_string(v))
        return -1;
    *out = json_string_value(v);
    if (len != NULL)
        *len = json_string_length(v);
    return 0;
}

/* Parses buf as an article object. Returns the new root, or NULL with res filled. */
static json_t *parse_article(const struct pipeline *p, const char *buf, size_t len,
                             struct pipeline_result *res, bool *plain)
{
    json_error_t jerr;
    json_t *root;

    *plain = false;
    root = json_loadb(buf, len, JSON_DECODE_ANY, &jerr);
    if (root == NULL && json_error_code(&jerr) == json_error_numeric_overflow) {
        /* a huge integer somewhere: read it as a real; the output keeps the input bytes */
        root = json_loadb(buf, len, JSON_DECODE_ANY | JSON_DECODE_INT_AS_REAL, &jerr);
    }
    if (root == NULL) {
        enum json_error_code code = json_error_code(&jerr);
        size_t i = 0;
        while (i < len && (buf[i] == ' ' || buf[i] == '\t' || buf[i] == '\n' || buf[i] == '\r'))
            i++;
        if (p->accept_plain_text && i < len && buf[i] != '{' && buf[i] != '[') {
            *plain = true;
            return NULL;
        }
        if (code == json_error_null_character)
            reject(res, ARTICLE_NUL_BYTE, "\\u0000 escape at line %d column %d", jerr.line,
                   jerr.column);
        else if (code == json_error_stack_overflow)
            reject(res, ARTICLE_TOO_DEEP, "nesting too deep at line %d column %d", jerr.line,
                   jerr.column);
        else
            reject(res, ARTICLE_NOT_JSON, "line %d column %d: %s", jerr.line, jerr.column,
                   jerr.text);
        return NULL;
    }
    if (!json_is_object(root)) {
        const char *what = json_is_array(root)    ? "an array"
                           : json_is_string(root) ? "a string"
                           : json_is_number(root) ? "a number"
                                                  : "a literal";
        if (p->accept_plain_text && json_is_string(root)) {
            json_decref(root);
            *plain = true;
            return NULL;
        }
        reject(res, ARTICLE_NOT_OBJECT, "top-level value is %s, not an object", what);
        json_decref(root);
        return NULL;
    }
    return root;
}

/* Adds the field name (data may be NULL: no such field) to doc, tokenized when a stage needs
 * tokens. Returns 0, or -1 with the article rejected. */
static int doc_add_field(const struct pipeline *p, struct doc *doc, const char *name,
                         const char *data, size_t len, struct pipeline_result *res)
{
    struct text_field *f = &doc->fields[doc->n_fields];
    struct errbuf err = {{0}};
    int rc;

    if (data == NULL)
        return 0;
    rc = p->tokenize ? text_field_init(f, name, data, len, &err)
                     : text_field_init_untokenized(f, name, data, len, &err);
    if (rc != 0)
        return reject(res, rc == -ENOMEM ? ARTICLE_NO_MEMORY : ARTICLE_OVERSIZED, "%s", err.msg);
    doc->n_fields++;
    return 0;
}

static int run_stages(const struct pipeline *p, struct doc *doc, struct pipeline_result *res)
{
    json_t *timing = p->timing ? json_object() : NULL;

    for (size_t i = 0; i < p->n_stages; i++) {
        struct errbuf serr = {{0}};
        uint64_t t0 = now_us();
        int rc = p->stages[i].ops->process(p->stages[i].ctx, doc, &serr);
        uint64_t dt = now_us() - t0;

        if (i < sizeof(res->stage_us) / sizeof(res->stage_us[0])) {
            res->stage_us[i] = dt;
            res->stages_run = i + 1;
        }
        if (rc != 0) {
            res->stage_failed = 1;
            json_decref(timing);
            if (rc == -ENOMEM)
                return reject(res, ARTICLE_NO_MEMORY, "%s: out of memory", p->stages[i].ops->name);
            return reject(res, ARTICLE_STAGE_FAILED, "%s: %s", p->stages[i].ops->name,
                          serr.msg[0] ? serr.msg : strerror(-rc));
        }
        if (timing != NULL)
            json_object_set_new(timing, p->stages[i].ops->name, json_integer((json_int_t)dt));
    }
    if (timing != NULL && doc_set_result(doc, "timing_us", timing) != 0)
        return reject(res, ARTICLE_NO_MEMORY, "out of memory");
    return 0;
}

/* Writes the output: the input bytes with "enrichment" spliced in before the closing brace,
 * so every other member passes through byte for byte. When the input already has an
 * "enrichment" member, the object is re-serialised without it instead. */
static int build_output(const char *buf, size_t len, json_t *root, bool splice, json_t *enr,
                        struct pipeline_result *res)
{
    char *e = json_dumps(enr, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(15));
    char *body = NULL;
    size_t blen;

    if (e == NULL)
        return reject(res, ARTICLE_NO_MEMORY, "out of memory");
    if (!splice) {
        json_object_del(root, "enrichment");
        body = json_dumps(root, JSON_COMPACT | JSON_PRESERVE_ORDER);
        if (body == NULL) {
            free(e);
            return reject(res, ARTICLE_NO_MEMORY, "out of memory");
        }
        buf = body;
        len = strlen(body);
    }
    /* the last '}' closes the top-level object */
    blen = len;
    while (blen > 0 && buf[blen - 1] != '}')
        blen--;
    if (blen == 0) {
        free(e);
        free(body);
        return reject(res, ARTICLE_NOT_JSON, "object has no closing brace");
    }
    blen--;
    size_t elen = strlen(e);
    bool empty = json_object_size(root) == 0;
    res->out = malloc(blen + elen + 32);
    if (res->out == NULL) {
        free(e);
        free(body);
        return reject(res, ARTICLE_NO_MEMORY, "out of memory");
    }
    /* drop white space before the brace so the splice stays compact */
    size_t keep = blen;
    while (keep > 0 && (buf[keep - 1] == ' ' || buf[keep - 1] == '\n' || buf[keep - 1] == '\r' ||
                        buf[keep - 1] == '\t'))
        keep--;
    memcpy(res->out, buf, keep);
    size_t o = keep;
    if (!empty)
        res->out[o++] = ',';
    memcpy(res->out + o, "\"enrichment\":", 13);
    o += 13;
    memcpy(res->out + o, e, elen);
    o += elen;
    res->out[o++] = '}';
    res->out[o] = '\0';
    res->out_len = o;
    free(e);
    free(body);
    return 0;
}

int pipeline_process(const struct pipeline *p, const char *buf, size_t len, const char *lang_hint,
                     struct pipeline_result *res)
{
    json_t *root = NULL;
    struct doc doc;
    bool plain = false;
    size_t bad_at = 0;
    int rc = -1;
    const char *title = NULL, *text = NULL, *s = NULL;
    size_t title_len = 0, text_len = 0;

    memset(res, 0, sizeof(*res));
    memset(&doc, 0, sizeof(doc));
    if (len == 0 || only_space(buf, len))
        return reject(res, ARTICLE_EMPTY, len == 0 ? "empty value" : "white space only");
    if (len > p->max_bytes)
        return reject(res, ARTICLE_OVERSIZED, "%zu bytes, limit %zu", len, p->max_bytes);
    if (text_validate_utf8(buf, len, &bad_at) != 0) {
        if (buf[bad_at] == '\0')
            return reject(res, ARTICLE_NUL_BYTE, "NUL byte at offset %zu", bad_at);
        return reject(res, ARTICLE_INVALID_UTF8, "invalid UTF-8 at byte %zu", bad_at);
    }
    root = parse_article(p, buf, len, res, &plain);
    if (root == NULL && !plain)
        return -1;
    if (plain) {
        /* a plain-text value becomes {"id": <content id>, "text": <value>} */
        char *id = content_id(buf, len);
        root = json_object();
        if (id == NULL || root == NULL ||
            json_object_set_new(root, p->id_field, json_string(id)) != 0 ||
            json_object_set_new(root, p->text_field, json_stringn(buf, len)) != 0) {
            free(id);
            json_decref(root);
            return reject(res, ARTICLE_NO_MEMORY, "out of memory");
        }
        free(id);
    }

    json_t *idv = json_object_get(root, p->id_field);
    if (idv != NULL && json_is_string(idv) && json_string_length(idv) > 0)
        res->id = strdup(json_string_value(idv));
    else if (idv != NULL && json_is_integer(idv)) {
        res->id = malloc(24);
        if (res->id != NULL)
            snprintf(res->id, 24, "%" JSON_INTEGER_FORMAT, json_integer_value(idv));
    } else if (idv != NULL && !json_is_null(idv) && !json_is_string(idv)) {
        reject(res, ARTICLE_BAD_FIELD, "%s: must be a string or an integer", p->id_field);
        goto out;
    } else {
        res->id = content_id(buf, len);
    }
    if (res->id == NULL) {
        reject(res, ARTICLE_NO_MEMORY, "out of memory");
        goto out;
    }
    if (opt_string(root, p->title_field, &title, &title_len) != 0) {
        reject(res, ARTICLE_BAD_FIELD, "%s: must be a string", p->title_field);
        goto out;
    }
    if (opt_string(root, p->text_field, &text, &text_len) != 0) {
        reject(res, ARTICLE_BAD_FIELD, "%s: must be a string", p->text_field);
        goto out;
    }
    if ((title == NULL || only_space(title, title_len)) &&
        (text == NULL || only_space(text, text_len))) {
        reject(res, ARTICLE_MISSING_TEXT, "no %s and no %s", p->text_field, p->title_field);
        goto out;
    }
    if (opt_string(root, "lang", &s, NULL) != 0) {
        reject(res, ARTICLE_BAD_FIELD, "lang: must be a string");
        goto out;
    }
    doc.lang_hint = lang_hint != NULL ? lang_hint : s;
    if (opt_string(root, "published_at", &doc.published_at, NULL) != 0) {
        reject(res, ARTICLE_BAD_FIELD, "published_at: must be a string");
        goto out;
    }
    doc.id = res->id;

    if (doc_add_field(p, &doc, "title", title, title_len, res) != 0 ||
        doc_add_field(p, &doc, "text", text, text_len, res) != 0)
        goto out;

    doc.enrichment = json_object();
    if (doc.enrichment == NULL || doc_set_result(&doc, "schema_version", json_integer(1)) != 0 ||
        doc_set_result(&doc, "enrichd", json_string(ENRICHD_VERSION)) != 0) {
        reject(res, ARTICLE_NO_MEMORY, "out of memory");
        goto out;
    }
    if (run_stages(p, &doc, res) != 0)
        goto out;
    rc = build_output(buf, len, root, !plain && json_object_get(root, "enrichment") == NULL,
                      doc.enrichment, res);
out:
    for (size_t i = 0; i < doc.n_fields; i++)
        text_field_fini(&doc.fields[i]);
    json_decref(doc.enrichment);
    json_decref(root);
    if (rc == 0)
        res->reason = ARTICLE_OK;
    return rc == 0 ? 0 : -1;
}

void pipeline_result_fini(struct pipeline_result *res)
{
    if (res == NULL)
        return;
    free(res->out);
    free(res->id);
    res->out = NULL;
    res->id = NULL;
}
