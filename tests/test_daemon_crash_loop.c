/* Crash loop: `enrichd run` is killed with SIGKILL at random moments while keyed articles flow
 * through it and restarted each time; at the end nothing is missing, the first delivery of
 * each article keeps its key's order, and the duplicates (at least once) are counted. */
#include <criterion/criterion.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "tests/harness/kafka_harness.h"

#define N_PARTITIONS 6
#define N_KILLS 12

/* xorshift32 with a seed printed by the test, so a failing run can be repeated. */
static unsigned rng_state;

static unsigned rng(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 17;
    rng_state ^= rng_state << 5;
    return rng_state;
}

static int rng_between(int lo, int hi)
{
    return lo + (int)(rng() % (unsigned)(hi - lo + 1));
}

static int env_int(const char *name, int fallback)
{
    const char *v = getenv(name);

    return v != NULL && atoi(v) > 0 ? atoi(v) : fallback;
}

/* Fails the test when the daemon exited on its own, printing the end of its log. */
static void assert_running(pid_t d, const char *log)
{
    int st;

    if (waitpid(d, &st, WNOHANG) == d) {
        char cmd[256];
        snprintf(cmd, sizeof(cmd), "tail -n 20 %s >&2", log);
        if (system(cmd) != 0)
            fprintf(stderr, "(no log)\n");
        cr_assert_fail("enrichd run exited by itself with status 0x%x", st);
    }
}

TestSuite(daemon_crash_loop, .fini = harness_reap_daemons);

Test(daemon_crash_loop, loses_nothing_across_repeated_sigkills, .timeout = 900)
{
    /* CMake lowers the count for the sanitizer build; the normal build moves 20,000. */
    int n = env_int("ENRICHD_CRASH_LOOP_ARTICLES", 20000);
    struct harness_mock mock;
    struct harness_flow flow;
    char log[] = "/tmp/test_crash_loop_log_XXXXXX";
    int produced = 0, kills = 0, time_kills = 0;
    /* Produced input runs at most this far ahead of what has come out, so the daemon cannot
     * race through the input between two kills. */
    int window;
    double t0 = harness_now();

    rng_state = (unsigned)env_int("ENRICHD_CRASH_LOOP_SEED", (int)(time(NULL) & 0x7fffffff) | 1);
    window = n / 20;
    fprintf(stderr, "crash loop: %d articles, seed %u\n", n, rng_state);
    close(mkstemp(log));
    harness_mock_start(&mock, 1, N_PARTITIONS);
    /* A killed member stays in the group until its session times out; a short session lets
     * the restarted daemon get the partitions back within a few seconds. */
    char *conf = harness_write_conf("g-crash", "session.timeout.ms = 3000\n"
                                               "heartbeat.interval.ms = 300\n", "");
    rd_kafka_t *prod = harness_producer_new(mock.bootstrap);
    harness_flow_init(&flow, mock.bootstrap, N_PARTITIONS, n);

    pid_t d = harness_daemon_start(conf, mock.bootstrap, log);
    while (kills < N_KILLS) {
        /* The moment of the next kill: mostly after a random amount of new output, so the
         * daemon is busy; every third one a random time after the start, which also hits the
         * start-up and the group join. */
        int by_time = kills % 3 == 2;
        int progress = rng_between(n / 60, n / 25);
        double at = harness_now() + rng_between(0, 1500) / 1000.0;
        /* Read up to what is there, so the progress counts the new daemon's output. */
        while (harness_flow_poll(&flow, 200) > 0)
            ;
        int from = flow.distinct;
        double stall = harness_now() + 120;

        /* Near the end of the input the rest of the kills go by time. */
        if (from + progress >= n - window)
            by_time = 1;
        for (;;) {
            while (produced < n && produced - flow.distinct < window)
                harness_produce_seq(prod, produced++);
            harness_flow_poll(&flow, 20);
            assert_running(d, log);
            if (by_time ? harness_now() >= at : flow.distinct >= from + progress)
                break;
            cr_assert(harness_now() < stall, "no progress for 120 s after restart %d", kills);
        }
        if (!by_time)
            harness_sleep_ms(rng_between(0, 100));
        cr_assert_eq(kill(d, SIGKILL), 0);
        int st = harness_wait_exit(d, 30);
        cr_assert(st != -1 && WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL, "status 0x%x", st);
        kills++;
        time_kills += by_time;
        d = harness_daemon_start(conf, mock.bootstrap, log);
    }
    while (produced < n)
        harness_produce_seq(prod, produced++);
    harness_producer_close(prod);
    harness_flow_wait(&flow, 180, 1.0);
    assert_running(d, log);
    kill(d, SIGTERM);
    int st = harness_wait_exit(d, 60);
    cr_assert(st != -1 && WIFEXITED(st) && WEXITSTATUS(st) == 0, "final stop: status 0x%x", st);
    fprintf(stderr, "crash loop: %d SIGKILLs (%d at a random time after a start), %.1f s\n",
            kills, time_kills, harness_now() - t0);
    harness_flow_assert(&flow, "crash loop");
    harness_flow_fini(&flow);
    harness_mock_stop(&mock);
    unlink(conf);
    free(conf);
    unlink(log);
}
