/* conf_section: the key/value options of one config section, as a stage sees them. */
#ifndef ENRICHD_CONFIG_CONF_SECTION_H
#define ENRICHD_CONFIG_CONF_SECTION_H

#include <stddef.h>

struct conf_kv {
    char *key;   /* owned */
    char *value; /* owned */
    int line;    /* line in the config file, 0 when set from the command line or defaults */
};

struct conf_section {
    char *name;          /* owned: "stage.lang", "kafka.consumer", ... */
    const char *file;    /* borrowed: config file name for messages, may be NULL */
    struct conf_kv *kv;  /* owned array */
    size_t n_kv;
};

/* Returns the value of key (borrowed), or NULL when absent. s may be NULL. */
const char *conf_section_get(const struct conf_section *s, const char *key);

/* Adds or replaces key. Returns 0 or -ENOMEM. */
int conf_section_set(struct conf_section *s, const char *key, const char *value, int line);

/* Frees the members of s (not s itself). Accepts NULL. */
void conf_section_clear(struct conf_section *s);

#endif
