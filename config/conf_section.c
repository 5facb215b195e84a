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
            if (s->kv[i].secret)
                explicit_bzero(s->kv[i].value, strlen(s->kv[i].value));
            free(s->kv[i].value);
            free(s->kv[i].source);
            s->kv[i].value = v;
            s->kv[i].line = line;
            s->kv[i].secret = 0;
            s->kv[i].source = NULL;
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
    kv[s->n_kv].secret = 0;
    kv[s->n_kv].source = NULL;
    if (kv[s->n_kv].key == NULL || kv[s->n_kv].value == NULL) {
        free(kv[s->n_kv].key);
        free(kv[s->n_kv].value);
        return -ENOMEM;
    }
    s->n_kv++;
    return 0;
}

int conf_section_set_secret(struct conf_section *s, const char *key, const char *source)
{
    for (size_t i = 0; i < s->n_kv; i++) {
        if (strcmp(s->kv[i].key, key) != 0)
            continue;
        char *copy = NULL;
        if (source != NULL && (copy = strdup(source)) == NULL)
            return -ENOMEM;
        free(s->kv[i].source);
        s->kv[i].source = copy;
        s->kv[i].secret = 1;
        return 0;
    }
    return -ENOENT;
}

void conf_section_clear(struct conf_section *s)
{
    if (s == NULL)
        return;
    for (size_t i = 0; i < s->n_kv; i++) {
        if (s->kv[i].secret)
            explicit_bzero(s->kv[i].value, strlen(s->kv[i].value));
        free(s->kv[i].key);
        free(s->kv[i].value);
        free(s->kv[i].source);
    }
    free(s->kv);
    free(s->name);
    s->kv = NULL;
    s->name = NULL;
    s->n_kv = 0;
}
