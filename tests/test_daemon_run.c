/* Integration tests of `enrichd run` against `enrichd broker` (librdkafka's mock cluster): every
 * good article once and in order, bad input in the dead-letter topic, restarts lose nothing. */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <librdkafka/rdkafka.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "stages/stage.h"
#include "tests/daemon_harness.h"

Test(daemon_run, delivers_every_good_article_once_in_order_and_bad_ones_to_the_dlq, .timeout = 120)
{
    struct broker b;
    struct seen *s = malloc(sizeof(*s));
    int n_bad = 0;

    seen_init(s);
    broker_start(&b);
    rd_kafka_t *prod = producer_new(&b);
    produce_range(prod, 0, 2000, &n_bad);
    harness_producer_close(prod);
    cr_assert_eq(n_bad, 20);
    write_conf("g-once", 10000);
    pid_t d = daemon_start(&b);
    read_back(&b, s, 2000, n_bad, 60, 1.0);
    kill(d, SIGTERM);
    assert_clean_exit(d, 30);
    unlink(conf_file);
    broker_stop(&b);
    fprintf(stderr, "once: %d outputs, %d duplicates, %d dead letters\n", s->total, s->duplicates,
            s->dlq_total);
    assert_complete(s, 2000, n_bad);
    cr_assert_eq(s->duplicates, 0);
    cr_assert_eq(s->total, 2000);
    cr_assert_eq(s->dlq_total, n_bad);
    seen_free(s);
    free(s);
}

/* Stops the daemon with sig while input is still being produced, restarts it, and returns
 * what came out. */
static void restart_scenario(struct seen *s, int sig, long max_inflight, const char *group)
{
    struct broker b;
    int n_bad = 0;

    seen_init(s);
    broker_start(&b);
    write_conf(group, max_inflight);
    pid_t d = daemon_start(&b);
    rd_kafka_t *prod = producer_new(&b);
    produce_range(prod, 0, 1000, &n_bad);
    cr_assert_eq(rd_kafka_flush(prod, 30000), RD_KAFKA_RESP_ERR_NO_ERROR);
    /* Let the daemon get going on the first half before the signal. */
    wait_for_outputs(&b, 300);
    kill(d, sig);
    produce_range(prod, 1000, 2000, &n_bad);
    harness_producer_close(prod);
    if (sig == SIGTERM) {
        assert_clean_exit(d, 30);
    } else {
        int st = harness_wait_exit(d, 30);
        cr_assert(st != -1 && WIFSIGNALED(st));
    }
    d = daemon_start(&b);
    read_back(&b, s, 2000, n_bad, 60, 1.0);
    kill(d, SIGTERM);
    assert_clean_exit(d, 30);
    unlink(conf_file);
    broker_stop(&b);
    assert_complete(s, 2000, n_bad);
}

Test(daemon_run, loses_and_repeats_nothing_across_sigterm_and_restart, .timeout = 150)
{
    struct seen *s = malloc(sizeof(*s));

    restart_scenario(s, SIGTERM, 10000, "g-term");
    fprintf(stderr, "sigterm: %d outputs, %d duplicates\n", s->total, s->duplicates);
    cr_assert_eq(s->duplicates, 0);
    seen_free(s);
    free(s);
}

Test(daemon_run, loses_nothing_across_sigkill_and_restart, .timeout = 150)
{
    struct seen *s = malloc(sizeof(*s));

    restart_scenario(s, SIGKILL, 10000, "g-kill");
    /* At least once: a kill may repeat what was delivered but not yet committed. */
    fprintf(stderr, "sigkill: %d outputs, %d duplicates\n", s->total, s->duplicates);
    seen_free(s);
    free(s);
}

Test(daemon_run, keeps_order_under_a_small_in_flight_cap, .timeout = 120)
{
    struct broker b;
    struct seen *s = malloc(sizeof(*s));
    int n_bad = 0;

    seen_init(s);
    broker_start(&b);
    rd_kafka_t *prod = producer_new(&b);
    produce_range(prod, 0, 2000, &n_bad);
    harness_producer_close(prod);
    write_conf("g-small", 100);
    pid_t d = daemon_start(&b);
    read_back(&b, s, 2000, n_bad, 60, 0.5);
    kill(d, SIGTERM);
    assert_clean_exit(d, 30);
    unlink(conf_file);
    broker_stop(&b);
    assert_complete(s, 2000, n_bad);
    cr_assert_eq(s->duplicates, 0);
    seen_free(s);
    free(s);
}

Test(daemon_run, check_reports_a_config_error_with_status_78)
{
    int fd;
    FILE *f;
    char path[] = "/tmp/test_daemon_XXXXXX", cmd[512];

    cr_assert((fd = mkstemp(path)) >= 0);
    cr_assert((f = fdopen(fd, "w")) != NULL);
    fputs("[pipeline]\nstages =\n[kafka.consumer]\nsession.timeout.ms = soon\n", f);
    fclose(f);
    snprintf(cmd, sizeof(cmd), "%s check -c %s 2>/dev/null", ENRICHD_BIN, path);
    int st = system(cmd);
    cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 78, "status 0x%x", st);
    f = fopen(path, "w");
    fputs("[pipeline]\nstages =\n", f);
    fclose(f);
    snprintf(cmd, sizeof(cmd), "%s check -c %s", ENRICHD_BIN, path);
    FILE *out = popen(cmd, "r");
    char line[128] = "";
    cr_assert(fgets(line, sizeof(line), out) != NULL);
    st = pclose(out);
    cr_assert_str_eq(line, "configuration OK\n");
    cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    unlink(path);
}

Test(daemon_run, stops_with_status_1_on_an_undeliverable_message_and_loses_nothing, .timeout = 120)
{
    struct broker b;
    struct seen *s = malloc(sizeof(*s));
    char key[16], value[4096];

    seen_init(s);
    broker_start(&b);
    rd_kafka_t *prod = producer_new(&b);
    /* Article 100's enriched output is larger than the producer's message.max.bytes. */
    for (int i = 0; i < 200; i++) {
        snprintf(key, sizeof(key), "k%02d", i % N_KEYS);
        int len = snprintf(value, sizeof(value), "{\"id\":\"a%05d\",\"seq\":%d,\"text\":\"%s%d\"}",
                           i, i, i == 100 ? "" : "short ", i);
        if (i == 100) {
            len = snprintf(value, sizeof(value), "{\"id\":\"a%05d\",\"seq\":%d,\"text\":\"", i, i);
            memset(value + len, 'x', 3000);
            len += 3000;
            len += snprintf(value + len, sizeof(value) - (size_t)len, "\"}");
        }
        produce(prod, key, value, (size_t)len);
    }
    harness_producer_close(prod);
    write_conf_extra("g-fail", 10000, "message.max.bytes = 3000\n");
    pid_t d = daemon_start(&b);
    int st = harness_wait_exit(d, 60);
    cr_assert(st != -1 && WIFEXITED(st) && WEXITSTATUS(st) == 1, "status 0x%x", st);
    unlink(conf_file);
    /* The restart, able to deliver it, finds everything from the delivered prefix on. */
    write_conf("g-fail", 10000);
    d = daemon_start(&b);
    read_back(&b, s, 200, 0, 60, 0.5);
    kill(d, SIGTERM);
    assert_clean_exit(d, 30);
    unlink(conf_file);
    broker_stop(&b);
    fprintf(stderr, "fail-stop: %d outputs, %d duplicates\n", s->total, s->duplicates);
    assert_complete(s, 200, 0);
    seen_free(s);
    free(s);
}

Test(daemon_run, shares_the_input_with_a_second_daemon_in_the_group, .timeout = 150)
{
    struct broker b;
    struct seen *s = malloc(sizeof(*s));
    int n_bad = 0;

    seen_init(s);
    broker_start(&b);
    write_conf("g-two", 10000);
    pid_t d1 = daemon_start(&b);
    rd_kafka_t *prod = producer_new(&b);
    produce_range(prod, 0, 1000, &n_bad);
    cr_assert_eq(rd_kafka_flush(prod, 30000), RD_KAFKA_RESP_ERR_NO_ERROR);
    wait_for_outputs(&b, 300);
    char log2[] = "/tmp/test_daemon_log_XXXXXX", line[512];
    close(mkstemp(log2));
    pid_t d2 = daemon_start_log(&b, log2);
    /* The second half goes in once the group has given the newcomer its share. */
    cr_assert(wait_for_line(log2, "rebalance: assigned", 60, line, sizeof(line)) != NULL,
              "the second daemon got no partitions");
    produce_range(prod, 1000, 2000, &n_bad);
    harness_producer_close(prod);
    read_back(&b, s, 2000, n_bad, 60, 1.0);
    kill(d1, SIGTERM);
    kill(d2, SIGTERM);
    assert_clean_exit(d1, 30);
    assert_clean_exit(d2, 30);
    cr_assert(wait_for_line(log2, "stopped: ", 1, line, sizeof(line)) != NULL);
    unsigned long consumed2 = strtoul(strstr(line, "stopped: ") + 9, NULL, 10);
    unlink(log2);
    unlink(conf_file);
    broker_stop(&b);
    fprintf(stderr, "two daemons: %d outputs, %d duplicates, second daemon consumed %lu\n",
            s->total, s->duplicates, consumed2);
    assert_complete(s, 2000, n_bad);
    cr_assert(consumed2 > 0, "the second daemon did no work");
    seen_free(s);
    free(s);
}

Test(daemon_run, interoperates_with_kcat_as_producer_and_consumer, .timeout = 120)
{
    struct broker b;
    char in_path[] = "/tmp/test_daemon_kcat_XXXXXX", cmd[1024], line[8192];
    int fd, n = 0, german = 0;
    FILE *f;

    if (system("command -v kcat >/dev/null 2>&1") != 0)
        cr_skip_test("kcat is not installed");
    broker_start(&b);
    cr_assert((fd = mkstemp(in_path)) >= 0);
    cr_assert((f = fdopen(fd, "w")) != NULL);
    for (int i = 0; i < 100; i++)
        fprintf(
            f,
            "k%02d\t{\"id\":\"a%05d\",\"seq\":%d,\"title\":\"Bahn baut aus\","
            "\"text\":\"Die Deutsche Bahn will die Kapazitaet der Strecke bis 2030 von 1 "
            "Million auf 5 Millionen Tonnen erhoehen, teilte das Unternehmen in Berlin mit.\"}\n",
            i % N_KEYS, i, i);
    fclose(f);
    snprintf(cmd, sizeof(cmd), "kcat -b %s -P -t in -K '\\t' -l %s", b.bootstrap, in_path);
    cr_assert_eq(system(cmd), 0, "kcat could not produce");
    unlink(in_path);
    /* All registered stages, with the models of the source tree. */
    write_conf_full("g-kcat", 10000, "", "");
    pid_t d = daemon_start(&b);
    snprintf(cmd, sizeof(cmd),
             "timeout 60 kcat -b %s -C -t out -o beginning -c 100 -q -f '%%k\\t%%s\\n'",
             b.bootstrap);
    FILE *out = popen(cmd, "r");
    cr_assert(out != NULL);
    while (fgets(line, sizeof(line), out) != NULL) {
        char *tab = strchr(line, '\t');
        cr_assert(tab != NULL, "%s", line);
        json_error_t jerr;
        json_t *root = json_loads(tab + 1, 0, &jerr);
        cr_assert(root != NULL, "kcat read no JSON: %s", jerr.text);
        int seq = (int)json_integer_value(json_object_get(root, "seq"));
        char want[8];
        snprintf(want, sizeof(want), "k%02d", seq % N_KEYS);
        cr_assert(strncmp(line, want, strlen(want)) == 0 && line + strlen(want) == tab);
        json_t *lang = json_object_get(json_object_get(root, "enrichment"), "language");
        if (lang != NULL && strcmp(json_string_value(json_object_get(lang, "code")), "de") == 0)
            german++;
        json_decref(root);
        n++;
    }
    int st = pclose(out);
    kill(d, SIGTERM);
    assert_clean_exit(d, 30);
    unlink(conf_file);
    broker_stop(&b);
    cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0, "kcat status 0x%x", st);
    cr_assert_eq(n, 100);
    if (stage_find("lang") != NULL)
        cr_assert_eq(german, 100, "language stage ran on %d of 100", german);
}
