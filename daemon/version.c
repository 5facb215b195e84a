/* version: `enrichd --version`, with build, library and model information. */
#include <dirent.h>
#include <inttypes.h>
#include <jansson.h>
#include <librdkafka/rdkafka.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <utf8proc.h>
#include <uv.h>

#include "daemon/commands.h"
#include "stages/stage.h"

#ifndef ENRICHD_VERSION
#define ENRICHD_VERSION "0.0.0"
#endif

/* FNV-1a 64 of a file, so two installs can tell whether their models are the same. */
static int file_fingerprint(const char *path, uint64_t *h, long long *size)
{
    FILE *f = fopen(path, "rb");
    unsigned char buf[65536];
    size_t n;

    if (f == NULL)
        return -1;
    *h = 14695981039346656037ull;
    *size = 0;
    while ((n = fread(buf, 1, sizeof(buf), f)) > 0) {
        for (size_t i = 0; i < n; i++) {
            *h ^= buf[i];
            *h *= 1099511628211ull;
        }
        *size += (long long)n;
    }
    fclose(f);
    return 0;
}

static void list_models(const char *dir, const char *rel)
{
    char path[4096];
    DIR *d = opendir(dir);
    struct dirent *e;

    if (d == NULL)
        return;
    while ((e = readdir(d)) != NULL) {
        struct stat st;
        if (e->d_name[0] == '.')
            continue;
        snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
        if (stat(path, &st) != 0)
            continue;
        char sub[1024];
        snprintf(sub, sizeof(sub), "%s%s%s", rel, rel[0] ? "/" : "", e->d_name);
        if (S_ISDIR(st.st_mode)) {
            list_models(path, sub);
        } else if (strstr(e->d_name, ".md") == NULL && strstr(e->d_name, "LICENSE") == NULL) {
            uint64_t h;
            long long size;
            if (file_fingerprint(path, &h, &size) == 0)
                printf("  model %s: %lld bytes, fnv1a64 %016" PRIx64 "\n", sub, size, h);
        }
    }
    closedir(d);
}

int cmd_version(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    printf("enrichd %s\n", ENRICHD_VERSION);
    printf("  built %s %s, C %ld, %s\n", __DATE__, __TIME__, (long)__STDC_VERSION__,
#ifdef __clang__
           "clang " __clang_version__
#else
           "gcc " __VERSION__
#endif
    );
    printf("  output schema version 1\n");
    printf("  librdkafka %s, libuv %s, jansson %s, utf8proc %s\n", rd_kafka_version_str(),
           uv_version_string(), jansson_version_str(), utf8proc_version());
    printf("  stages:");
    for (size_t i = 0; stage_registry[i] != NULL; i++)
        printf(" %s", stage_registry[i]->name);
    printf("\n  model dir %s\n", stage_model_dir());
    list_models(stage_model_dir(), "");
    return 0;
}
