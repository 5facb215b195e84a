/* stage: the static stage registry, the output builder and model lookup. */
#include "stages/stage.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#ifndef ENRICHD_MODEL_DIR_DEFAULT
#define ENRICHD_MODEL_DIR_DEFAULT "models"
#endif
#ifndef ENRICHD_BUILD_DIR
#define ENRICHD_BUILD_DIR "build"
#endif
#ifndef ENRICHD_MODEL_DIR_INSTALLED
#define ENRICHD_MODEL_DIR_INSTALLED "/usr/share/enrichd/models"
#endif

/* Each stage's subdirectory defines ENRICHD_HAVE_<STAGE> when it builds the stage. */
#ifdef ENRICHD_HAVE_LANG
extern const struct stage_ops lang_stage_ops;
#endif
#ifdef ENRICHD_HAVE_ENTITIES
extern const struct stage_ops entities_stage_ops;
#endif
#ifdef ENRICHD_HAVE_NUMFACTS
extern const struct stage_ops numfacts_stage_ops;
#endif

const struct stage_ops *const stage_registry[] = {
#ifdef ENRICHD_HAVE_LANG
    &lang_stage_ops,
#endif
#ifdef ENRICHD_HAVE_ENTITIES
    &entities_stage_ops,
#endif
#ifdef ENRICHD_HAVE_NUMFACTS
    &numfacts_stage_ops,
#endif
    NULL,
};

const struct stage_ops *stage_find(const char *name)
{
    for (size_t i = 0; stage_registry[i] != NULL; i++)
        if (strcmp(stage_registry[i]->name, name) == 0)
            return stage_registry[i];
    return NULL;
}

/* Whether the running executable lies in the build tree; 1 when that cannot be told. */
static int stage_run_from_build_tree(void)
{
    char exe[4096];
    size_t len = strlen(ENRICHD_BUILD_DIR);
    ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);

    if (n <= 0)
        return 1;
    exe[n] = '\0';
    return strncmp(exe, ENRICHD_BUILD_DIR, len) == 0 && exe[len] == '/';
}

const char *stage_model_dir(void)
{
    const char *env = getenv("ENRICHD_MODEL_DIR");

    if (env != NULL && env[0] != '\0')
        return env;
    /* a binary run from its build tree uses the source tree's models, an installed one the
     * installed models, even on the host it was built on */
    if (access(ENRICHD_MODEL_DIR_INSTALLED, R_OK) == 0 &&
        (!stage_run_from_build_tree() || access(ENRICHD_MODEL_DIR_DEFAULT, R_OK) != 0))
        return ENRICHD_MODEL_DIR_INSTALLED;
    return ENRICHD_MODEL_DIR_DEFAULT;
}

int doc_set_result(struct doc *doc, const char *member, json_t *value)
{
    if (value == NULL)
        return -ENOMEM;
    if (json_object_set_new(doc->enrichment, member, value) != 0)
        return -ENOMEM;
    return 0;
}

const struct text_field *doc_field(const struct doc *doc, const char *name)
{
    for (size_t i = 0; i < doc->n_fields; i++)
        if (strcmp(doc->fields[i].name, name) == 0)
            return &doc->fields[i];
    return NULL;
}
