/* conf_section: a small ordered key/value list for one config section. */
#include "config/conf_section.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

const char *conf_section_get(const struct conf_section *s, const char *key)
{
    if (s == NULL)
        return NULL;
    for (size_t i = 0; i < s->n_kv; i++)
        if (strcmp(s->kv[i].key, key) == 0)
            return s->kv[i].value;
    return NULL;
}

int conf_section_set(struct conf_section *s, const char *key, const char *value, int line)
{
    char *v;

    for (size_t i = 0; i < s->n_kv; i++) {
        if (strcmp(s->kv[i].key, key) == 0) {
            if ((v = strdup(value)) == NULL)
                return -ENOMEM;
            free(s->kv[i].value);
            s->kv[i].value = v;
            s->kv[i].line = line;
            return 0;
        }
    }
    struct conf_kv *kv = realloc(s->kv, (s->n_kv + 1) * sizeof(*kv));
    if (kv == NULL)
        return -ENOMEM;
    s->kv = kv;
    kv[s->n_kv].key = strdup(key);
    kv[s->n_kv].value = strdup(value);
    kv[s->n_kv].line = line;
    if (kv[s->n_kv].key == NULL || kv[s->n_kv].value == NULL) {
        free(kv[s->n_kv].key);
        free(kv[s->n_kv].value);
        return -ENOMEM;
    }
    s->n_kv++;
    return 0;
}

void conf_section_clear(struct conf_section *s)
{
    if (s == NULL)
        return;
    for (size_t i = 0; i < s->n_kv; i++) {
        free(s->kv[i].key);
        free(s->kv[i].value);
    }
    free(s->kv);
    free(s->name);
    s->kv = NULL;
    s->name = NULL;
    s->n_kv = 0;
}
