/* fuzz_conf: the config parser (inih plus the key table and the librdkafka pass-through) on
 * arbitrary file contents: a load either succeeds with a usable config or fails with
 * -EINVAL and a message that names the file, and conf_free releases everything either way. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config/conf.h"
#include "tests/fuzz/fuzz.h"

/* conf_load reads a path, so every input is written to one temporary file, reused. */
static char path[64];
static int fd = -1;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct conf c;
    struct errbuf err = {{0}};
    int rc;

    if (fd < 0) {
        strcpy(path, "/tmp/fuzz_conf_XXXXXX");
        fd = mkstemp(path);
        FUZZ_CHECK(fd >= 0);
        /* Unlinked at once: the open descriptor keeps it, /proc/self/fd names it. */
        unlink(path);
        snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
    }
    FUZZ_CHECK(ftruncate(fd, 0) == 0);
    FUZZ_CHECK(size == 0 || pwrite(fd, data, size, 0) == (ssize_t)size);
    FUZZ_CHECK(conf_init(&c) == 0);
    rc = conf_load(&c, path, &err);
    FUZZ_CHECK(rc == 0 || rc == -EINVAL);
    if (rc != 0) {
        FUZZ_CHECK(strncmp(err.msg, path, strlen(path)) == 0 && err.msg[strlen(path)] == ':');
        FUZZ_CHECK(memchr(err.msg, '\0', sizeof(err.msg)) != NULL);
    } else {
        FUZZ_CHECK(c.n_input_topics >= 1 && c.input_topics[0] != NULL);
        FUZZ_CHECK(c.output_topic != NULL && c.dlq_topic != NULL && c.group_id != NULL);
        FUZZ_CHECK(c.max_inflight_messages >= 1 && c.max_inflight_bytes >= 1);
        FUZZ_CHECK(c.drain_timeout_ms >= 0 && c.max_message_bytes >= 1 && c.workers >= 0);
        for (size_t i = 0; c.stages_set && i < c.n_stages; i++)
            FUZZ_CHECK(c.stages[i] != NULL);
        for (size_t i = 0; i < c.n_stage_sections; i++)
            FUZZ_CHECK(c.stage_sections[i].name != NULL);
    }
    conf_free(&c);
    return 0;
}
