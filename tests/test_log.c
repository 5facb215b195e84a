/* Tests for daemon/log: levels, journald prefixes only on journald's stream, rate limits. */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "daemon/log.h"

static char out_path[64];
static int saved_stderr = -1;

/* Sends stderr to a fresh file until capture_end; returns the file's "DEV:INO" in stream. */
static void capture_begin(char *stream, size_t size)
{
    struct stat st;
    int fd;

    strcpy(out_path, "/tmp/test_log_XXXXXX");
    fd = mkstemp(out_path);
    cr_assert(fd >= 0);
    cr_assert_eq(fstat(fd, &st), 0);
    snprintf(stream, size, "%llu:%llu", (unsigned long long)st.st_dev,
             (unsigned long long)st.st_ino);
    saved_stderr = dup(STDERR_FILENO);
    cr_assert(saved_stderr >= 0);
    cr_assert(dup2(fd, STDERR_FILENO) >= 0);
    close(fd);
}

/* Restores stderr and returns what was written (new, free()). */
static char *capture_end(void)
{
    char *text = NULL;
    size_t len = 0;
    FILE *f;

    dup2(saved_stderr, STDERR_FILENO);
    close(saved_stderr);
    f = fopen(out_path, "r");
    cr_assert(f != NULL);
    if (getdelim(&text, &len, '\0', f) < 0) {
        free(text);
        text = strdup("");
    }
    fclose(f);
    unlink(out_path);
    return text;
}

static void clear_env(void)
{
    unsetenv("JOURNAL_STREAM");
    unsetenv("ENRICHD_LOG_LEVEL");
}

TestSuite(log, .init = clear_env, .fini = clear_env);

Test(log, prefixes_the_priority_when_stderr_is_journalds_stream)
{
    char stream[64], *text;

    capture_begin(stream, sizeof(stream));
    setenv("JOURNAL_STREAM", stream, 1);
    log_init();
    log_warn("disk %d full", 3);
    log_err("gone");
    text = capture_end();
    cr_assert_str_eq(text, "<4>disk 3 full\n<3>gone\n");
    free(text);
}

Test(log, writes_timestamps_when_journal_stream_names_another_file)
{
    char stream[64], *text;

    capture_begin(stream, sizeof(stream));
    /* Inherited from a parent whose stderr went to the journal; ours goes elsewhere. */
    setenv("JOURNAL_STREAM", "1:2", 1);
    log_init();
    log_warn("disk full");
    text = capture_end();
    cr_assert(strncmp(text, "<", 1) != 0, "%s", text);
    cr_assert(strstr(text, "Z enrichd warning: disk full\n") != NULL, "%s", text);
    cr_assert_eq(text[4], '-');
    free(text);
}

static int evaluated;

static int count_evaluation(void)
{
    return ++evaluated;
}

Test(log, drops_lines_above_the_level_without_evaluating_their_arguments)
{
    char stream[64], *text;

    capture_begin(stream, sizeof(stream));
    setenv("JOURNAL_STREAM", stream, 1);
    log_init();
    log_set_conf_level("warning");
    evaluated = 0;
    log_info("hidden %d", count_evaluation());
    log_debug("hidden %d", count_evaluation());
    log_warn("shown %d", count_evaluation());
    log_set_conf_level("info");
    text = capture_end();
    cr_assert_eq(evaluated, 1);
    cr_assert_str_eq(text, "<4>shown 1\n");
    free(text);
}

Test(log, lets_the_environment_level_win_over_the_config)
{
    setenv("ENRICHD_LOG_LEVEL", "debug", 1);
    log_init();
    cr_assert_eq(log_set_conf_level("err"), LOG_LEVEL_DEBUG);
    unsetenv("ENRICHD_LOG_LEVEL");
    cr_assert_eq(log_set_conf_level("err"), LOG_LEVEL_ERR);
    cr_assert_str_eq(log_level_name(log_set_conf_level("info")), "info");
}

Test(log, limits_a_flood_of_warnings_and_counts_what_it_suppressed)
{
    struct log_ratelimit rl = LOG_RATELIMIT_INIT(10000, 3);
    char stream[64], *text;

    capture_begin(stream, sizeof(stream));
    setenv("JOURNAL_STREAM", stream, 1);
    log_init();
    for (int i = 0; i < 100; i++)
        log_warn_limited(&rl, 1000 + (uint64_t)i, "bad record %d", i);
    /* A new window: the count of the suppressed ones comes first. */
    log_warn_limited(&rl, 12000, "bad record %d", 100);
    text = capture_end();
    cr_assert_str_eq(text, "<4>bad record 0\n<4>bad record 1\n<4>bad record 2\n"
                           "<4>97 similar message(s) suppressed in the last 11000 ms\n"
                           "<4>bad record 100\n");
    free(text);
}
