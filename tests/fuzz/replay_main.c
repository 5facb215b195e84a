/* replay_main: feeds every file of the given corpus directories (or files) to a fuzz target,
 * so a plain build replays the committed seeds without libFuzzer. */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "tests/fuzz/fuzz.h"

/* Reads path into a buffer of exactly its size, so a read past the end is caught by ASan.
 * Returns 0, or -errno. *out is new (free), NULL for an empty file. */
static int read_file(const char *path, uint8_t **out, size_t *len)
{
    FILE *f = fopen(path, "rb");
    struct stat st;
    uint8_t *buf = NULL;

    *out = NULL;
    *len = 0;
    if (f == NULL)
        return -errno;
    if (fstat(fileno(f), &st) != 0) {
        fclose(f);
        return -errno;
    }
    if (st.st_size > 0) {
        buf = malloc((size_t)st.st_size);
        if (buf == NULL || fread(buf, 1, (size_t)st.st_size, f) != (size_t)st.st_size) {
            free(buf);
            fclose(f);
            return -EIO;
        }
    }
    fclose(f);
    *out = buf;
    *len = (size_t)st.st_size;
    return 0;
}

static int replay_one(const char *path)
{
    uint8_t *buf;
    size_t len;
    int rc = read_file(path, &buf, &len);

    if (rc != 0) {
        fprintf(stderr, "%s: %s\n", path, strerror(-rc));
        return rc;
    }
    LLVMFuzzerTestOneInput(buf, len);
    free(buf);
    return 0;
}

static int by_name(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Replays the regular files of dir in name order. Returns the number replayed, or -errno. */
static long replay_dir(const char *dir)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    char **names = NULL;
    size_t n = 0, cap = 0;
    long done = 0;

    if (d == NULL)
        return -errno;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.')
            continue;
        if (n == cap) {
            cap = cap ? cap * 2 : 64;
            char **nn = realloc(names, cap * sizeof(*names));
            if (nn == NULL)
                break;
            names = nn;
        }
        names[n] = strdup(e->d_name);
        if (names[n] != NULL)
            n++;
    }
    closedir(d);
    if (n > 0)
        qsort(names, n, sizeof(*names), by_name);
    for (size_t i = 0; i < n; i++) {
        char path[4096];
        struct stat st;

        snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
        if (stat(path, &st) == 0 && S_ISREG(st.st_mode) && replay_one(path) == 0)
            done++;
        free(names[i]);
    }
    free(names);
    return done;
}

int main(int argc, char **argv)
{
    long total = 0;

    if (argc < 2) {
        fprintf(stderr, "usage: %s CORPUS_DIR|FILE...\n", argv[0]);
        return 2;
    }
    for (int i = 1; i < argc; i++) {
        struct stat st;
        long n;

        if (stat(argv[i], &st) != 0) {
            fprintf(stderr, "%s: %s\n", argv[i], strerror(errno));
            return 1;
        }
        n = S_ISDIR(st.st_mode) ? replay_dir(argv[i]) : (replay_one(argv[i]) == 0 ? 1 : -EIO);
        if (n < 0) {
            fprintf(stderr, "%s: %s\n", argv[i], strerror((int)-n));
            return 1;
        }
        total += n;
    }
    if (total == 0) {
        fprintf(stderr, "no inputs replayed\n");
        return 1;
    }
    printf("replayed %ld inputs\n", total);
    return 0;
}
