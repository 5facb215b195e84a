/* conf: the enrichd.conf INI file, loaded and validated into one struct; errors read
 * `file:line: [section] key: reason`. */
#ifndef ENRICHD_CONFIG_CONF_H
#define ENRICHD_CONFIG_CONF_H

#include <librdkafka/rdkafka.h>
#include <stddef.h>
#include <stdio.h>

#include "config/conf_section.h"
#include "stages/errbuf.h"

/* Exit status for configuration errors (sysexits.h EX_CONFIG). */
#define CONF_EXIT_CONFIG 78

struct conf {
    char *file; /* owned: the loaded file's name, NULL before conf_load */

    /* [kafka] */
    char *brokers;       /* owned, bootstrap.servers */
    char **input_topics; /* owned array of owned strings, n_input_topics >= 1 after load */
    size_t n_input_topics;
    char *output_topic; /* owned */
    char *dlq_topic;    /* owned */
    char *group_id;     /* owned */
    /* owned: "at_least_once" (offsets committed after delivery) or "exactly_once"
     * (a transactional producer; see docs/reliability.md) */
    char *processing_guarantee;
    long transaction_interval_ms;  /* exactly_once: ms a transaction stays open at most */
    long transaction_max_messages; /* exactly_once: messages that commit a transaction early */

    /* [kafka.consumer] and [kafka.producer]: librdkafka properties, passed through verbatim */
    struct conf_section consumer;
    struct conf_section producer;

    /* [pipeline] */
    char **stages; /* owned; meaningful only when stages_set */
    size_t n_stages;
    int stages_set;             /* 0: every registered stage in registry order */
    long max_inflight_messages; /* messages consumed but not yet delivered, >= 1 */
    long max_inflight_bytes;    /* bytes of those messages, >= 1 */
    long drain_timeout_ms;      /* ms to finish in-flight work at shutdown */
    long max_message_bytes;     /* larger input values go to the dead-letter topic */
    long workers;               /* worker threads; 0 = one per online CPU */
    int timing;                 /* emit enrichment.timing_us (then repeats are not identical) */

    /* [input] */
    char *id_field;    /* owned */
    char *title_field; /* owned */
    char *text_field;  /* owned */
    int accept_plain_text;

    /* [log] */
    char *log_level; /* owned: err, warning, notice, info or debug; ENRICHD_LOG_LEVEL wins */

    /* [metrics] */
    char *metrics_listen; /* owned: HOST:PORT of the metrics and health listener; "" = off */

    /* [stage.NAME]: free keys for each stage, in file order */
    struct conf_section *stage_sections; /* owned array */
    size_t n_stage_sections;
};

/* Fills c with the defaults of every key. c is overwritten, not freed. Returns 0 or -ENOMEM. */
int conf_init(struct conf *c);

/* Reads path (borrowed) into c, which conf_init prepared: keys in the file replace defaults.
 * Returns 0, or a negative errno with `file:line: [section] key: reason` in err
 * (-ENOENT etc. when the file cannot be read, -EINVAL for bad content). */
int conf_load(struct conf *c, const char *path, struct errbuf *err);

/* Receives one error message (borrowed) of conf_load_all. */
typedef void conf_report_fn(void *user, const char *msg);

/* Like conf_load, but goes on after an error: report is called with every error, in line order,
 * as `file:line: [section] key: reason`. Returns 0 or the negative errno of conf_load. */
int conf_load_all(struct conf *c, const char *path, conf_report_fn *report, void *user);

/* Sets one key as if it appeared in [section] at line (0 = command line). Validates type and
 * range, and librdkafka properties against librdkafka. Returns 0 or -EINVAL with detail. */
int conf_set(struct conf *c, const char *section, const char *key, const char *value, int line,
             struct errbuf *err);

/* Whether c asks for exactly-once processing ([kafka] processing.guarantee). */
int conf_exactly_once(const struct conf *c);

/* Returns the [stage.NAME] section for stage name, or NULL. Borrowed. */
const struct conf_section *conf_stage_section(const struct conf *c, const char *name);

/* One entry of the key table, for documentation and `enrichd check --keys`. */
struct conf_key_info {
    const char *section;
    const char *name;
    const char *def;
    const char *help;
};
/* Returns the i-th known key, or NULL past the end. Borrowed. */
const struct conf_key_info *conf_key(size_t i);

/* Secrets. In [kafka.consumer] and [kafka.producer] a value `@file:/ABSOLUTE/PATH` is read from
 * that file, and `@credential:NAME` from $CREDENTIALS_DIRECTORY/NAME (systemd's LoadCredential=);
 * one trailing newline is dropped. Such values, and the values of the properties that
 * conf_secret_property names, are marked secret in their conf_kv: never logged, and shown as
 * the reference or `<redacted>` by conf_dump. */

/* Returns 1 when librdkafka property key holds a secret (passwords, client secrets, private
 * keys, the OAUTHBEARER config), else 0. */
int conf_secret_property(const char *key);

/* Applies every property of s (borrowed) to kc. Returns 0, or -EINVAL with
 * `file:line: [section] key: rejected by librdkafka: ...` in err, a secret value redacted. */
int conf_rdkafka_apply(rd_kafka_conf_t *kc, const struct conf_section *s, struct errbuf *err);

/* Writes the effective configuration to out as a config file: every key with its value, the
 * pass-through and stage sections; secret values appear as their `@file:`/`@credential:`
 * reference or as `<redacted>`. Returns 0 or -EIO. */
int conf_dump(const struct conf *c, FILE *out);

/* Frees everything c owns (not c). Accepts NULL and a half-built c. */
void conf_free(struct conf *c);

#endif
