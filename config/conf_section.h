/* conf_section: the key/value options of one config section, as a stage sees them. */
#ifndef ENRICHD_CONFIG_CONF_SECTION_H
#define ENRICHD_CONFIG_CONF_SECTION_H

#include <stddef.h>

struct conf_kv {
    char *key;    /* owned */
    char *value;  /* owned */
    int line;     /* line in the config file, 0 when set from the command line or defaults */
    int secret;   /* value is a secret: never logged, redacted by `enrichd check --dump-config` */
    char *source; /* owned, NULL for a literal value: the `@file:PATH` or `@credential:NAME`
                   * reference the value was read from */
};

struct conf_section {
    char *name;         /* owned: "stage.lang", "kafka.consumer", ... */
    const char *file;   /* borrowed: config file name for messages, may be NULL */
    struct conf_kv *kv; /* owned array */
    size_t n_kv;
};

/* Returns the value of key (borrowed), or NULL when absent. s may be NULL. */
const char *conf_section_get(const struct conf_section *s, const char *key);

/* Adds or replaces key. Returns 0 or -ENOMEM. */
int conf_section_set(struct conf_section *s, const char *key, const char *value, int line);

/* Marks key (which must be set) as secret, read from source (borrowed, copied; NULL for a
 * literal value). Returns 0, -ENOENT when key is not set, or -ENOMEM. */
int conf_section_set_secret(struct conf_section *s, const char *key, const char *source);

/* Frees the members of s (not s itself). Accepts NULL. */
void conf_section_clear(struct conf_section *s);

#endif
