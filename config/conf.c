/* conf: enrichd.conf parsing (libinih) and validation against one table of keys. */
#include "config/conf.h"

#include <errno.h>
#include <arpa/inet.h>
#include <ini.h>
#include <librdkafka/rdkafka.h>
#include <limits.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

enum conf_type {
    CONF_STRING, /* non-empty string */
    CONF_LIST,   /* comma-separated list of non-empty names */
    CONF_INT,    /* integer in [min, max]; k/M/G suffixes (x1024) allowed when size */
    CONF_BOOL    /* true/false, yes/no, on/off, 1/0 */
};

struct conf_key_def {
    struct conf_key_info info;
    enum conf_type type;
    size_t offset;       /* of the member in struct conf */
    size_t count_offset; /* CONF_LIST: of the size_t count */
    long min, max;       /* CONF_INT */
    int size;            /* CONF_INT: accepts k, M, G suffixes */
    int empty_ok;        /* CONF_LIST: an empty value means an empty list; CONF_STRING: allowed */
};

#define STR(sec, name, member, def, help)                                                          \
    {                                                                                              \
        {sec, name, def, help}, CONF_STRING, offsetof(struct conf, member), 0, 0, 0, 0, 0          \
    }
#define LIST(sec, name, member, count, def, empty_ok, help)                                        \
    {                                                                                              \
        {sec, name, def, help}, CONF_LIST, offsetof(struct conf, member),                          \
            offsetof(struct conf, count), 0, 0, 0, empty_ok                                        \
    }
#define INT(sec, name, member, def, lo, hi, size, help)                                            \
    {                                                                                              \
        {sec, name, def, help}, CONF_INT, offsetof(struct conf, member), 0, lo, hi, size, 0        \
    }
#define BOOL(sec, name, member, def, help)                                                         \
    {                                                                                              \
        {sec, name, def, help}, CONF_BOOL, offsetof(struct conf, member), 0, 0, 1, 0, 0            \
    }

/* Every key of enrichd.conf except the pass-through and [stage.NAME] sections. */
static const struct conf_key_def conf_keys[] = {
    STR("kafka", "brokers", brokers, "localhost:9092",
        "bootstrap servers, host:port[,host:port...]"),
    LIST("kafka", "input_topics", input_topics, n_input_topics, "articles", 0,
         "comma-separated topics to consume articles from"),
    STR("kafka", "output_topic", output_topic, "articles.enriched",
        "topic the enriched articles are produced to"),
    STR("kafka", "dlq_topic", dlq_topic, "articles.dlq",
        "dead-letter topic for input that cannot be enriched"),
    STR("kafka", "group_id", group_id, "enrichd", "consumer group id"),
    /* Checked by conf_check_guarantee. */
    STR("kafka", "processing.guarantee", processing_guarantee, "at_least_once",
        "at_least_once, or exactly_once: a transactional producer that commits the consumed "
        "offsets in the transaction of the outputs"),
    INT("kafka", "transaction_interval_ms", transaction_interval_ms, "1000", 10, 60000, 0,
        "exactly_once: ms after which the open transaction is committed"),
    INT("kafka", "transaction_max_messages", transaction_max_messages, "10000", 1, 10000000, 0,
        "exactly_once: messages in a transaction that commit it before the interval"),
    LIST("pipeline", "stages", stages, n_stages, NULL, 1,
         "comma-separated stages in order; empty for none; default every registered stage"),
    INT("pipeline", "max_inflight_messages", max_inflight_messages, "10000", 1, 10000000, 0,
        "messages consumed but not yet delivered before the partitions are paused"),
    INT("pipeline", "max_inflight_bytes", max_inflight_bytes, "64M", 1024, LONG_MAX, 1,
        "bytes consumed but not yet delivered before the partitions are paused"),
    INT("pipeline", "drain_timeout_ms", drain_timeout_ms, "10000", 0, 3600000, 0,
        "ms to finish in-flight work at shutdown"),
    INT("pipeline", "max_message_bytes", max_message_bytes, "4M", 16, 256L * 1024 * 1024, 1,
        "larger input values go to the dead-letter topic as oversized"),
    INT("pipeline", "workers", workers, "0", 0, 1024, 0,
        "worker threads for the stages; 0 = one per online CPU"),
    BOOL("pipeline", "timing", timing, "false",
         "emit enrichment.timing_us; off keeps a repeated message byte-identical"),
    STR("input", "id_field", id_field, "id", "name of the article id field"),
    STR("input", "title_field", title_field, "title", "name of the title field"),
    STR("input", "text_field", text_field, "text", "name of the text field"),
    BOOL("input", "accept_plain_text", accept_plain_text, "false",
         "take a value that is not JSON as the article text instead of rejecting it"),
    /* Checked by conf_check_log_level. */
    STR("log", "level", log_level, "info",
        "messages up to this level are logged: err, warning, notice, info or debug; the "
        "environment's ENRICHD_LOG_LEVEL overrides it; a reload applies it"),
    /* Checked by conf_check_metrics_listen; empty_ok lets `listen =` (or off) disable it. */
    {{"metrics", "listen", "127.0.0.1:9464",
      "HOST:PORT of the /metrics, /healthz and /readyz listener (IPv4 or [IPv6]); empty or "
      "off disables it"},
     CONF_STRING,
     offsetof(struct conf, metrics_listen),
     0,
     0,
     0,
     0,
     1},
};
#define CONF_N_KEYS (sizeof(conf_keys) / sizeof(conf_keys[0]))

/* librdkafka properties that enrichd sets itself; setting them would break its guarantees. */
static const char *const conf_managed_consumer[] = {
    "bootstrap.servers",        "metadata.broker.list",          "group.id",
    "enable.auto.offset.store", "partition.assignment.strategy", NULL};
static const char *const conf_managed_producer[] = {"bootstrap.servers", "metadata.broker.list",
                                                    "enable.idempotence", NULL};

const struct conf_key_info *conf_key(size_t i)
{
    return i < CONF_N_KEYS ? &conf_keys[i].info : NULL;
}

static void conf_where(const struct conf *c, int line, char *buf, size_t len)
{
    if (line > 0)
        snprintf(buf, len, "%s:%d", c->file != NULL ? c->file : "(config)", line);
    else
        snprintf(buf, len, "%s", line == 0 ? "command line" : "default");
}

static int conf_fail(const struct conf *c, struct errbuf *err, int line, const char *section,
                     const char *key, const char *reason)
{
    char where[300];

    conf_where(c, line, where, sizeof(where));
    return errbuf_set(err, -EINVAL, "%s: [%s] %s: %s", where, section, key, reason);
}

static void conf_free_list(char **list, size_t n)
{
    for (size_t i = 0; list != NULL && i < n; i++)
        free(list[i]);
    free(list);
}

static char *conf_trim(char *s)
{
    char *end;

    while (*s == ' ' || *s == '\t')
        s++;
    end = s + strlen(s);
    while (end > s && (end[-1] == ' ' || end[-1] == '\t'))
        *--end = '\0';
    return s;
}

/* Splits value at commas into a new list of trimmed, non-empty items. */
static int conf_parse_list(const char *value, int empty_ok, char ***out, size_t *n_out,
                           const char **reason)
{
    char *copy = strdup(value), *save = NULL, *tok;
    char **list = NULL;
    size_t n = 0;

    if (copy == NULL)
        return -ENOMEM;
    if (*conf_trim(copy) == '\0') {
        free(copy);
        if (!empty_ok) {
            *reason = "must not be empty";
            return -EINVAL;
        }
        *out = NULL;
        *n_out = 0;
        return 0;
    }
    /* strtok_r would skip empty items silently; walk by hand to reject "a,,b". */
    for (tok = copy;; tok = save + 1) {
        save = strchr(tok, ',');
        if (save != NULL)
            *save = '\0';
        char *item = conf_trim(tok);
        char **grown;
        if (*item == '\0') {
            *reason = "empty item in list";
            goto fail;
        }
        for (size_t i = 0; i < n; i++) {
            if (strcmp(list[i], item) == 0) {
                *reason = "item listed twice";
                goto fail;
            }
        }
        if ((grown = realloc(list, (n + 1) * sizeof(*list))) == NULL)
            goto nomem;
        list = grown;
        if ((list[n] = strdup(item)) == NULL)
            goto nomem;
        n++;
        if (save == NULL)
            break;
    }
    free(copy);
    *out = list;
    *n_out = n;
    return 0;
nomem:
    *reason = "out of memory";
fail:
    conf_free_list(list, n);
    free(copy);
    return -EINVAL;
}

static int conf_parse_int(const char *value, int size, long lo, long hi, long *out,
                          const char **reason)
{
    char *end;
    long v, mult = 1;

    errno = 0;
    v = strtol(value, &end, 10);
    if (end == value || errno == ERANGE) {
        *reason = "not an integer";
        return -EINVAL;
    }
    if (size && *end != '\0' && end[1] == '\0') {
        switch (*end) {
        case 'k':
        case 'K':
            mult = 1024L;
            end++;
            break;
        case 'm':
        case 'M':
            mult = 1024L * 1024;
            end++;
            break;
        case 'g':
        case 'G':
            mult = 1024L * 1024 * 1024;
            end++;
            break;
        default:
            break;
        }
    }
    if (*end != '\0') {
        *reason = size ? "not a size (integer with optional k, M or G)" : "not an integer";
        return -EINVAL;
    }
    if (v > LONG_MAX / mult || v < LONG_MIN / mult) {
        *reason = "out of range";
        return -EINVAL;
    }
    v *= mult;
    if (v < lo || v > hi) {
        *reason = "out of range";
        return -EINVAL;
    }
    *out = v;
    return 0;
}

static int conf_parse_bool(const char *value, int *out)
{
    static const char *const yes[] = {"true", "yes", "on", "1"};
    static const char *const no[] = {"false", "no", "off", "0"};

    for (size_t i = 0; i < 4; i++) {
        if (strcasecmp(value, yes[i]) == 0) {
            *out = 1;
            return 0;
        }
        if (strcasecmp(value, no[i]) == 0) {
            *out = 0;
            return 0;
        }
    }
    return -EINVAL;
}

/* [metrics] listen: empty or `off`, or HOST:PORT with HOST a numeric IPv4 address or a
 * bracketed IPv6 one (the listener resolves no names) and PORT in [0, 65535]. */
static int conf_check_metrics_listen(const char *value, const char **reason)
{
    char host[64];
    const char *colon, *start = value, *end;
    unsigned char addr[16];
    char *pend;
    long port;
    int family = AF_INET;

    if (*value == '\0' || strcasecmp(value, "off") == 0)
        return 0;
    if (*value == '[') {
        start = value + 1;
        end = strchr(value, ']');
        colon = end != NULL && end[1] == ':' ? end + 1 : NULL;
        family = AF_INET6;
    } else {
        colon = end = strrchr(value, ':');
    }
    *reason = "expected HOST:PORT (IPv4 address or [IPv6] address), empty or off";
    if (colon == NULL || end == NULL || end < start || (size_t)(end - start) >= sizeof(host))
        return -EINVAL;
    memcpy(host, start, (size_t)(end - start));
    host[end - start] = '\0';
    if (inet_pton(family, host, addr) != 1) {
        *reason = family == AF_INET ? "host: not an IPv4 address (names are not resolved)"
                                    : "host: not an IPv6 address";
        return -EINVAL;
    }
    errno = 0;
    port = strtol(colon + 1, &pend, 10);
    if (colon[1] < '0' || colon[1] > '9' || *pend != '\0' || errno != 0 || port > 65535) {
        *reason = "port: not a number in [0, 65535]";
        return -EINVAL;
    }
    return 0;
}

/* [log] level: one of the syslog level names the daemon's log understands. */
static int conf_check_log_level(const char *value, const char **reason)
{
    static const char *const names[] = {"err", "warning", "notice", "info", "debug"};

    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
        if (strcasecmp(value, names[i]) == 0)
            return 0;
    *reason = "must be err, warning, notice, info or debug";
    return -EINVAL;
}

/* [kafka] processing.guarantee: one of the two modes the daemon has. */
static int conf_check_guarantee(const char *value, const char **reason)
{
    if (strcmp(value, "at_least_once") == 0 || strcmp(value, "exactly_once") == 0)
        return 0;
    *reason = "must be at_least_once or exactly_once";
    return -EINVAL;
}

int conf_exactly_once(const struct conf *c)
{
    return c->processing_guarantee != NULL && strcmp(c->processing_guarantee, "exactly_once") == 0;
}

static int conf_set_known(struct conf *c, const struct conf_key_def *k, const char *value, int line,
                          struct errbuf *err)
{
    char *base = (char *)c;
    const char *reason = NULL;
    char range[128];

    switch (k->type) {
    case CONF_STRING: {
        char *copy;
        if ((k->offset == offsetof(struct conf, metrics_listen) &&
             conf_check_metrics_listen(value, &reason) != 0) ||
            (k->offset == offsetof(struct conf, log_level) &&
             conf_check_log_level(value, &reason) != 0) ||
            (k->offset == offsetof(struct conf, processing_guarantee) &&
             conf_check_guarantee(value, &reason) != 0))
            return conf_fail(c, err, line, k->info.section, k->info.name, reason);
        if (strcasecmp(value, "off") == 0)
            value = "";
        if (*value == '\0' && !k->empty_ok)
            return conf_fail(c, err, line, k->info.section, k->info.name, "must not be empty");
        if ((copy = strdup(value)) == NULL)
            return conf_fail(c, err, line, k->info.section, k->info.name, "out of memory");
        char **slot = (char **)(base + k->offset);
        free(*slot);
        *slot = copy;
        return 0;
    }
    case CONF_LIST: {
        char **list;
        size_t n;
        if (conf_parse_list(value, k->empty_ok, &list, &n, &reason) != 0)
            return conf_fail(c, err, line, k->info.section, k->info.name,
                             reason != NULL ? reason : "out of memory");
        char ***slot = (char ***)(base + k->offset);
        size_t *count = (size_t *)(base + k->count_offset);
        conf_free_list(*slot, *count);
        *slot = list;
        *count = n;
        if (k->offset == offsetof(struct conf, stages))
            c->stages_set = 1;
        return 0;
    }
    case CONF_INT: {
        long v;
        if (conf_parse_int(value, k->size, k->min, k->max, &v, &reason) != 0) {
            if (strcmp(reason, "out of range") == 0) {
                snprintf(range, sizeof(range), "out of range [%ld, %ld]", k->min, k->max);
                reason = range;
            }
            return conf_fail(c, err, line, k->info.section, k->info.name, reason);
        }
        *(long *)(base + k->offset) = v;
        return 0;
    }
    case CONF_BOOL:
        if (conf_parse_bool(value, (int *)(base + k->offset)) != 0)
            return conf_fail(c, err, line, k->info.section, k->info.name,
                             "not a boolean (true/false, yes/no, on/off, 1/0)");
        return 0;
    }
    return -EINVAL;
}

/* ---- secrets in [kafka.consumer] and [kafka.producer] ---- */

#define CONF_REF_FILE "@file:"
#define CONF_REF_CREDENTIAL "@credential:"
#define CONF_SECRET_MAX_BYTES (1024 * 1024)
#define CONF_REDACTED "<redacted>"

int conf_secret_property(const char *key)
{
    static const char *const suffixes[] = {"password", "secret", "key.pem"};
    size_t len = strlen(key);

    if (strcmp(key, "sasl.oauthbearer.config") == 0)
        return 1;
    for (size_t i = 0; i < sizeof(suffixes) / sizeof(suffixes[0]); i++) {
        size_t sl = strlen(suffixes[i]);
        if (len >= sl && strcmp(key + len - sl, suffixes[i]) == 0)
            return 1;
    }
    return 0;
}

/* Replaces every occurrence of secret in buf (NUL-terminated, size bytes) with <redacted>. */
static void conf_redact(char *buf, size_t size, const char *secret)
{
    size_t sl = strlen(secret), rl = strlen(CONF_REDACTED);
    char *at = buf;

    if (sl == 0)
        return;
    while ((at = strstr(at, secret)) != NULL) {
        size_t tail = strlen(at + sl);
        if ((size_t)(at - buf) + rl + tail + 1 > size) { /* no room: cut the message here */
            snprintf(at, size - (size_t)(at - buf), "%s", CONF_REDACTED);
            return;
        }
        memmove(at + rl, at + sl, tail + 1);
        memcpy(at, CONF_REDACTED, rl);
        at += rl;
    }
}

/* Reads the secret in path: at most 1 MiB, no NUL byte, one trailing newline dropped. *out is
 * new (free with free()). Returns 0 or a negative errno with the reason in reason. */
static int conf_read_secret_file(const char *path, const char *ref, char **out, char *reason,
                                 size_t len)
{
    FILE *f = fopen(path, "r");
    char *buf;
    size_t n;
    int rc;

    if (f == NULL) {
        rc = -errno;
        snprintf(reason, len, "%.200s: cannot read %.200s: %s", ref, path, strerror(-rc));
        return rc;
    }
    if ((buf = malloc(CONF_SECRET_MAX_BYTES + 1)) == NULL) {
        fclose(f);
        snprintf(reason, len, "out of memory");
        return -ENOMEM;
    }
    n = fread(buf, 1, CONF_SECRET_MAX_BYTES + 1, f);
    rc = ferror(f) ? -EIO : 0;
    fclose(f);
    if (rc == 0 && n > CONF_SECRET_MAX_BYTES) {
        snprintf(reason, len, "%.200s: %.200s is larger than 1 MiB", ref, path);
        rc = -EFBIG;
    } else if (rc != 0) {
        snprintf(reason, len, "%.200s: cannot read %.200s", ref, path);
    } else if (memchr(buf, '\0', n) != NULL) {
        snprintf(reason, len, "%.200s: %.200s contains a NUL byte", ref, path);
        rc = -EINVAL;
    }
    if (rc == 0) {
        if (n > 0 && buf[n - 1] == '\n')
            n--;
        if (n > 0 && buf[n - 1] == '\r')
            n--;
        if (n == 0) {
            snprintf(reason, len, "%.200s: %.200s is empty", ref, path);
            rc = -EINVAL;
        }
    }
    if (rc != 0) {
        explicit_bzero(buf, CONF_SECRET_MAX_BYTES + 1);
        free(buf);
        return rc;
    }
    buf[n] = '\0';
    *out = buf;
    return 0;
}

/* Resolves `@file:/ABSOLUTE/PATH` and `@credential:NAME` ($CREDENTIALS_DIRECTORY/NAME, as
 * systemd's LoadCredential= provides it) into *out (new, free with free()). A value of any other
 * form is a literal: *out = NULL. Returns 0 or a negative errno with the reason in reason. */
static int conf_resolve_reference(const char *value, char **out, char *reason, size_t len)
{
    char path[4096];

    *out = NULL;
    if (strncmp(value, CONF_REF_FILE, strlen(CONF_REF_FILE)) == 0) {
        const char *file = value + strlen(CONF_REF_FILE);
        if (file[0] != '/') {
            snprintf(reason, len, "%.200s: the path must be absolute", value);
            return -EINVAL;
        }
        if ((size_t)snprintf(path, sizeof(path), "%s", file) >= sizeof(path)) {
            snprintf(reason, len, "%s: path too long", CONF_REF_FILE);
            return -ENAMETOOLONG;
        }
    } else if (strncmp(value, CONF_REF_CREDENTIAL, strlen(CONF_REF_CREDENTIAL)) == 0) {
        const char *name = value + strlen(CONF_REF_CREDENTIAL);
        const char *dir = getenv("CREDENTIALS_DIRECTORY");
        if (name[0] == '\0' || strchr(name, '/') != NULL || strcmp(name, ".") == 0 ||
            strcmp(name, "..") == 0) {
            snprintf(reason, len, "%.200s: not a credential name", value);
            return -EINVAL;
        }
        if (dir == NULL || dir[0] == '\0') {
            snprintf(reason, len,
                     "%.200s: $CREDENTIALS_DIRECTORY is not set (LoadCredential= in the unit)",
                     value);
            return -ENOENT;
        }
        if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir, name) >= sizeof(path)) {
            snprintf(reason, len, "%.200s: path too long", value);
            return -ENAMETOOLONG;
        }
    } else {
        return 0;
    }
    return conf_read_secret_file(path, value, out, reason, len);
}

/* Sets one property on kc; a rejection is described in reason, with a secret value redacted. */
static int conf_rdkafka_try(rd_kafka_conf_t *kc, const char *key, const char *value, int secret,
                            char *reason, size_t len)
{
    char errstr[512];
    size_t n;

    if (rd_kafka_conf_set(kc, key, value, errstr, sizeof(errstr)) == RD_KAFKA_CONF_OK)
        return 0;
    if (secret)
        conf_redact(errstr, sizeof(errstr), value);
    n = strlen(errstr);
    if (n > 0 && errstr[n - 1] == '.')
        errstr[n - 1] = '\0';
    snprintf(reason, len, "rejected by librdkafka: %s", errstr);
    return -EINVAL;
}

int conf_rdkafka_apply(rd_kafka_conf_t *kc, const struct conf_section *s, struct errbuf *err)
{
    char reason[600], where[300];

    for (size_t i = 0; i < s->n_kv; i++) {
        const struct conf_kv *kv = &s->kv[i];
        if (conf_rdkafka_try(kc, kv->key, kv->value, kv->secret, reason, sizeof(reason)) == 0)
            continue;
        if (kv->line > 0)
            snprintf(where, sizeof(where), "%s:%d", s->file != NULL ? s->file : "(config)",
                     kv->line);
        else
            snprintf(where, sizeof(where), "command line");
        return errbuf_set(err, -EINVAL, "%s: [%s] %s: %s", where, s->name, kv->key, reason);
    }
    return 0;
}

/* Checks a librdkafka property on a scratch configuration: what librdkafka rejects here it
 * would reject at start, so it is a load-time error. A value given as a reference is read here,
 * and it, like the value of a property librdkafka treats as sensitive, is marked secret. */
static int conf_set_rdkafka(struct conf *c, struct conf_section *s, const char *const *managed,
                            const char *section, const char *key, const char *value, int line,
                            struct errbuf *err)
{
    char reason[600];
    char *resolved = NULL;
    const char *source = NULL;
    rd_kafka_conf_t *scratch;
    int rc, secret;

    for (size_t i = 0; managed[i] != NULL; i++)
        if (strcmp(key, managed[i]) == 0)
            return conf_fail(c, err, line, section, key,
                             "set by enrichd itself (use the [kafka] section or leave it out)");
    if (conf_resolve_reference(value, &resolved, reason, sizeof(reason)) != 0)
        return conf_fail(c, err, line, section, key, reason);
    if (resolved != NULL) {
        source = value;
        value = resolved;
    }
    secret = source != NULL || conf_secret_property(key);
    if ((scratch = rd_kafka_conf_new()) == NULL) {
        rc = conf_fail(c, err, line, section, key, "out of memory");
        goto out;
    }
    rc = conf_rdkafka_try(scratch, key, value, secret, reason, sizeof(reason));
    rd_kafka_conf_destroy(scratch);
    if (rc != 0) {
        rc = conf_fail(c, err, line, section, key, reason);
        goto out;
    }
    if (conf_section_set(s, key, value, line) != 0 ||
        (secret && conf_section_set_secret(s, key, source) != 0))
        rc = conf_fail(c, err, line, section, key, "out of memory");
out:
    if (resolved != NULL) {
        explicit_bzero(resolved, strlen(resolved));
        free(resolved);
    }
    return rc;
}

static struct conf_section *conf_stage_section_mut(struct conf *c, const char *name, int create)
{
    struct conf_section *grown;

    for (size_t i = 0; i < c->n_stage_sections; i++)
        if (strcmp(c->stage_sections[i].name, name) == 0)
            return &c->stage_sections[i];
    if (!create)
        return NULL;
    grown = realloc(c->stage_sections, (c->n_stage_sections + 1) * sizeof(*grown));
    if (grown == NULL)
        return NULL;
    c->stage_sections = grown;
    memset(&grown[c->n_stage_sections], 0, sizeof(*grown));
    if ((grown[c->n_stage_sections].name = strdup(name)) == NULL)
        return NULL;
    grown[c->n_stage_sections].file = c->file;
    return &c->stage_sections[c->n_stage_sections++];
}

const struct conf_section *conf_stage_section(const struct conf *c, const char *name)
{
    char full[128];

    snprintf(full, sizeof(full), "stage.%s", name);
    for (size_t i = 0; i < c->n_stage_sections; i++)
        if (strcmp(c->stage_sections[i].name, full) == 0)
            return &c->stage_sections[i];
    return NULL;
}

int conf_set(struct conf *c, const char *section, const char *key, const char *value, int line,
             struct errbuf *err)
{
    if (strcmp(section, "kafka.consumer") == 0)
        return conf_set_rdkafka(c, &c->consumer, conf_managed_consumer, section, key, value, line,
                                err);
    if (strcmp(section, "kafka.producer") == 0)
        return conf_set_rdkafka(c, &c->producer, conf_managed_producer, section, key, value, line,
                                err);
    if (strncmp(section, "stage.", 6) == 0) {
        struct conf_section *s;
        if (section[6] == '\0')
            return conf_fail(c, err, line, section, key, "stage section without a stage name");
        if ((s = conf_stage_section_mut(c, section, 1)) == NULL ||
            conf_section_set(s, key, value, line) != 0)
            return conf_fail(c, err, line, section, key, "out of memory");
        return 0;
    }
    int known_section = 0;
    for (size_t i = 0; i < CONF_N_KEYS; i++) {
        if (strcmp(conf_keys[i].info.section, section) != 0)
            continue;
        known_section = 1;
        if (strcmp(conf_keys[i].info.name, key) == 0)
            return conf_set_known(c, &conf_keys[i], value, line, err);
    }
    return conf_fail(c, err, line, section, key, known_section ? "unknown key" : "unknown section");
}

/* ---- the effective configuration, secrets redacted (`enrichd check --dump-config`) ---- */

static void conf_dump_section(const struct conf_section *s, FILE *out)
{
    fprintf(out, "\n[%s]\n", s->name);
    for (size_t i = 0; i < s->n_kv; i++) {
        const struct conf_kv *kv = &s->kv[i];
        const char *shown = kv->source != NULL ? kv->source
                            : kv->secret       ? CONF_REDACTED
                                               : kv->value;
        fprintf(out, "%s = %s\n", kv->key, shown);
    }
}

static void conf_dump_key(const struct conf *c, const struct conf_key_def *k, FILE *out)
{
    const char *base = (const char *)c;

    switch (k->type) {
    case CONF_STRING:
        fprintf(out, "%s = %s\n", k->info.name, *(char *const *)(base + k->offset));
        return;
    case CONF_LIST: {
        char *const *list = *(char **const *)(base + k->offset);
        size_t n = *(const size_t *)(base + k->count_offset);
        if (k->offset == offsetof(struct conf, stages) && !c->stages_set) {
            fprintf(out, "; %s: not set, every registered stage\n", k->info.name);
            return;
        }
        fprintf(out, "%s =", k->info.name);
        for (size_t i = 0; i < n; i++)
            fprintf(out, "%s%s", i == 0 ? " " : ", ", list[i]);
        fputc('\n', out);
        return;
    }
    case CONF_INT:
        fprintf(out, "%s = %ld\n", k->info.name, *(const long *)(base + k->offset));
        return;
    case CONF_BOOL:
        fprintf(out, "%s = %s\n", k->info.name,
                *(const int *)(base + k->offset) ? "true" : "false");
        return;
    }
}

int conf_dump(const struct conf *c, FILE *out)
{
    const char *section = NULL;

    fprintf(out, "; effective configuration%s%s; secret values redacted\n",
            c->file != NULL ? " of " : "", c->file != NULL ? c->file : "");
    for (size_t i = 0; i < CONF_N_KEYS; i++) {
        const struct conf_key_def *k = &conf_keys[i];
        if (section == NULL || strcmp(section, k->info.section) != 0) {
            /* the pass-through sections follow [kafka] */
            if (section != NULL && strcmp(section, "kafka") == 0) {
                conf_dump_section(&c->consumer, out);
                conf_dump_section(&c->producer, out);
            }
            section = k->info.section;
            fprintf(out, "\n[%s]\n", section);
        }
        conf_dump_key(c, k, out);
    }
    for (size_t i = 0; i < c->n_stage_sections; i++)
        conf_dump_section(&c->stage_sections[i], out);
    return ferror(out) ? -EIO : 0;
}

int conf_init(struct conf *c)
{
    struct errbuf err;

    memset(c, 0, sizeof(*c));
    if ((c->consumer.name = strdup("kafka.consumer")) == NULL ||
        (c->producer.name = strdup("kafka.producer")) == NULL)
        goto fail;
    for (size_t i = 0; i < CONF_N_KEYS; i++) {
        if (conf_keys[i].info.def == NULL)
            continue;
        if (conf_set_known(c, &conf_keys[i], conf_keys[i].info.def, -1, &err) != 0)
            goto fail;
    }
    return 0;
fail:
    conf_free(c);
    memset(c, 0, sizeof(*c));
    return -ENOMEM;
}

/* State of one ini_parse_stream run: inih's handler has no line number in Debian's build, so
 * the reader counts the lines it hands out. */
struct conf_parse {
    struct conf *c;
    FILE *f;
    int line;
    struct errbuf *err; /* the current error */
    int nul_line;       /* line of the first NUL byte, 0 if none */
    int mid_line;       /* the last piece handed to inih did not end its line */
    /* "section\0key" of every key seen so far, to reject duplicates */
    char **seen;
    size_t n_seen;
    /* every error, reported in line order once the file is read */
    struct conf_error *errors;
    size_t n_errors;
    int nomem; /* an error could not be recorded */
};

struct conf_error {
    int line;
    char *msg; /* owned */
};

/* Records p->err's message as the error of line. */
static void conf_parse_error(struct conf_parse *p, int line)
{
    struct conf_error *grown = realloc(p->errors, (p->n_errors + 1) * sizeof(*grown));

    if (grown == NULL) {
        p->nomem = 1;
        return;
    }
    p->errors = grown;
    if ((grown[p->n_errors].msg = strdup(p->err->msg)) == NULL) {
        p->nomem = 1;
        return;
    }
    grown[p->n_errors++].line = line;
}

/* fgets would hand inih a line cut at a NUL byte and lose the line count; a config file is
 * text, so the reader records the first NUL as an error of its line, and the keys of that line
 * are not applied. A line longer than inih's buffer comes in pieces, counted once, at its first
 * piece. */
static char *conf_reader(char *str, int num, void *stream)
{
    struct conf_parse *p = stream;
    int ch = EOF, n = 0;

    while (n < num - 1 && (ch = getc(p->f)) != EOF) {
        if (n == 0 && !p->mid_line)
            p->line++;
        if (ch == '\0' && p->nul_line == 0)
            p->nul_line = p->line;
        str[n++] = (char)ch;
        if (ch == '\n')
            break;
    }
    if (n == 0)
        return NULL;
    str[n] = '\0';
    p->mid_line = ch != '\n';
    return str;
}

static int conf_seen_before(struct conf_parse *p, const char *section, const char *key)
{
    size_t ls = strlen(section), lk = strlen(key);
    char *entry, **grown;

    for (size_t i = 0; i < p->n_seen; i++)
        if (strcmp(p->seen[i], section) == 0 &&
            strcmp(p->seen[i] + strlen(p->seen[i]) + 1, key) == 0)
            return 1;
    if ((entry = malloc(ls + lk + 2)) == NULL)
        return -ENOMEM;
    memcpy(entry, section, ls + 1);
    memcpy(entry + ls + 1, key, lk + 1);
    if ((grown = realloc(p->seen, (p->n_seen + 1) * sizeof(*grown))) == NULL) {
        free(entry);
        return -ENOMEM;
    }
    p->seen = grown;
    p->seen[p->n_seen++] = entry;
    return 0;
}

static int conf_handler(void *user, const char *section, const char *name, const char *value)
{
    struct conf_parse *p = user;
    int r;

    if (p->nul_line == p->line) /* cut at the NUL byte, already an error */
        return 1;
    if (name == NULL) /* a section header alone (INI_CALL_HANDLER_ON_NEW_SECTION) */
        return 1;
    if (*section == '\0') {
        conf_fail(p->c, p->err, p->line, "", name, "key outside of any section");
        conf_parse_error(p, p->line);
        return 1;
    }
    if ((r = conf_seen_before(p, section, name)) != 0) {
        conf_fail(p->c, p->err, p->line, section, name, r > 0 ? "set twice" : "out of memory");
        conf_parse_error(p, p->line);
        return 1;
    }
    if (conf_set(p->c, section, name, value, p->line, p->err) != 0)
        conf_parse_error(p, p->line);
    return 1;
}

int conf_load_all(struct conf *c, const char *path, conf_report_fn *report, void *user)
{
    struct errbuf err = {{0}};
    struct conf_parse p = {.c = c, .err = &err};
    int rc = 0, r;

    free(c->file);
    if ((c->file = strdup(path)) == NULL) {
        errbuf_set(&err, -ENOMEM, "%s: out of memory", path);
        report(user, err.msg);
        return -ENOMEM;
    }
    c->consumer.file = c->producer.file = c->file;
    if ((p.f = fopen(path, "r")) == NULL) {
        rc = -errno;
        errbuf_set(&err, rc, "%s: cannot open: %s", path, strerror(-rc));
        report(user, err.msg);
        return rc;
    }
    /* inih goes on after a syntax error and returns the line of the first one */
    r = ini_parse_stream(conf_reader, &p, conf_handler, &p);
    if (p.nul_line > 0) {
        errbuf_set(&err, -EINVAL, "%s:%d: NUL byte", path, p.nul_line);
        conf_parse_error(&p, p.nul_line);
    }
    if (r > 0 && r != p.nul_line) {
        errbuf_set(&err, -EINVAL, "%s:%d: syntax error (expected [section] or key = value)", path,
                   r);
        conf_parse_error(&p, r);
    } else if (r < 0) {
        errbuf_set(&err, -EIO, "%s: cannot read", path);
        conf_parse_error(&p, 0);
        rc = -EIO;
    }
    fclose(p.f);
    for (size_t i = 0; i < p.n_seen; i++)
        free(p.seen[i]);
    free(p.seen);
    for (size_t i = 0; i < c->n_stage_sections; i++)
        c->stage_sections[i].file = c->file;
    /* in line order (insertion sort: stable, and there are few) */
    for (size_t i = 1; i < p.n_errors; i++) {
        struct conf_error e = p.errors[i];
        size_t j = i;
        for (; j > 0 && p.errors[j - 1].line > e.line; j--)
            p.errors[j] = p.errors[j - 1];
        p.errors[j] = e;
    }
    for (size_t i = 0; i < p.n_errors; i++) {
        report(user, p.errors[i].msg);
        free(p.errors[i].msg);
    }
    free(p.errors);
    if (p.nomem) {
        report(user, "out of memory");
        return -ENOMEM;
    }
    if (rc == 0 && p.n_errors > 0)
        rc = -EINVAL;
    return rc;
}

/* conf_load's report: keeps the first error. */
static void conf_keep_first(void *user, const char *msg)
{
    struct errbuf *err = user;

    if (err != NULL && err->msg[0] == '\0')
        snprintf(err->msg, sizeof(err->msg), "%s", msg);
}

int conf_load(struct conf *c, const char *path, struct errbuf *err)
{
    errbuf_clear(err);
    return conf_load_all(c, path, conf_keep_first, err);
}

void conf_free(struct conf *c)
{
    if (c == NULL)
        return;
    free(c->file);
    free(c->brokers);
    conf_free_list(c->input_topics, c->n_input_topics);
    free(c->output_topic);
    free(c->dlq_topic);
    free(c->group_id);
    free(c->processing_guarantee);
    conf_section_clear(&c->consumer);
    conf_section_clear(&c->producer);
    conf_free_list(c->stages, c->n_stages);
    free(c->id_field);
    free(c->title_field);
    free(c->text_field);
    free(c->log_level);
    free(c->metrics_listen);
    for (size_t i = 0; i < c->n_stage_sections; i++)
        conf_section_clear(&c->stage_sections[i]);
    free(c->stage_sections);
    memset(c, 0, sizeof(*c));
}
