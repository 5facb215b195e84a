/* Tests for config/conf: defaults, types, ranges, pass-through validation, error locations. */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config/conf.h"

static char conf_path[64];

/* Writes text to a fresh temporary file and returns its name (static buffer). */
static const char *write_conf(const char *text)
{
    int fd;
    FILE *f;

    strcpy(conf_path, "/tmp/test_conf_XXXXXX");
    fd = mkstemp(conf_path);
    cr_assert(fd >= 0);
    f = fdopen(fd, "w");
    cr_assert(f != NULL);
    fputs(text, f);
    fclose(f);
    return conf_path;
}

/* Loads text; returns conf_load's result with the error in err. */
static int load_text(struct conf *c, const char *text, struct errbuf *err)
{
    const char *path = write_conf(text);
    int rc;

    cr_assert_eq(conf_init(c), 0);
    errbuf_clear(err);
    rc = conf_load(c, path, err);
    unlink(path);
    return rc;
}

Test(conf, has_documented_defaults_without_a_file)
{
    struct conf c;

    cr_assert_eq(conf_init(&c), 0);
    cr_assert_str_eq(c.brokers, "localhost:9092");
    cr_assert_eq(c.n_input_topics, 1);
    cr_assert_str_eq(c.input_topics[0], "articles");
    cr_assert_str_eq(c.output_topic, "articles.enriched");
    cr_assert_str_eq(c.dlq_topic, "articles.dlq");
    cr_assert_str_eq(c.group_id, "enrichd");
    cr_assert_eq(c.stages_set, 0);
    cr_assert_eq(c.max_inflight_messages, 10000);
    cr_assert_eq(c.max_inflight_bytes, 64L * 1024 * 1024);
    cr_assert_eq(c.max_message_bytes, 4L * 1024 * 1024);
    cr_assert_eq(c.accept_plain_text, 0);
    cr_assert_str_eq(c.text_field, "text");
    conf_free(&c);
}

Test(conf, reads_every_section)
{
    struct conf c;
    struct errbuf err;
    int rc = load_text(&c,
                       "; comment\n"
                       "[kafka]\n"
                       "brokers = a:1,b:2\n"
                       "input_topics = in1, in2 ,in3\n"
                       "output_topic = out\n"
                       "dlq_topic = dead\n"
                       "group_id = g\n"
                       "[kafka.consumer]\n"
                       "session.timeout.ms = 6000\n"
                       "auto.offset.reset = earliest\n"
                       "[kafka.producer]\n"
                       "linger.ms = 5\n"
                       "[pipeline]\n"
                       "stages = lang, numfacts\n"
                       "max_inflight_messages = 500\n"
                       "max_inflight_bytes = 2M\n"
                       "drain_timeout_ms = 1500\n"
                       "max_message_bytes = 64k\n"
                       "workers = 3\n"
                       "[input]\n"
                       "id_field = guid\n"
                       "accept_plain_text = yes\n"
                       "[stage.entities]\n"
                       "gazetteer = /x/y.tsv\n",
                       &err);
    cr_assert_eq(rc, 0, "%s", err.msg);
    cr_assert_str_eq(c.brokers, "a:1,b:2");
    cr_assert_eq(c.n_input_topics, 3);
    cr_assert_str_eq(c.input_topics[1], "in2");
    cr_assert_str_eq(c.input_topics[2], "in3");
    cr_assert_str_eq(c.output_topic, "out");
    cr_assert_str_eq(c.dlq_topic, "dead");
    cr_assert_str_eq(c.group_id, "g");
    cr_assert_str_eq(conf_section_get(&c.consumer, "session.timeout.ms"), "6000");
    cr_assert_str_eq(conf_section_get(&c.consumer, "auto.offset.reset"), "earliest");
    cr_assert_str_eq(conf_section_get(&c.producer, "linger.ms"), "5");
    cr_assert_eq(c.stages_set, 1);
    cr_assert_eq(c.n_stages, 2);
    cr_assert_str_eq(c.stages[1], "numfacts");
    cr_assert_eq(c.max_inflight_messages, 500);
    cr_assert_eq(c.max_inflight_bytes, 2L * 1024 * 1024);
    cr_assert_eq(c.drain_timeout_ms, 1500);
    cr_assert_eq(c.max_message_bytes, 64L * 1024);
    cr_assert_eq(c.workers, 3);
    cr_assert_str_eq(c.id_field, "guid");
    cr_assert_eq(c.accept_plain_text, 1);
    const struct conf_section *s = conf_stage_section(&c, "entities");
    cr_assert(s != NULL);
    cr_assert_str_eq(conf_section_get(s, "gazetteer"), "/x/y.tsv");
    cr_assert_eq(s->kv[0].line, 24);
    cr_assert_null(conf_stage_section(&c, "lang"));
    conf_free(&c);
}

Test(conf, takes_an_empty_stage_list_as_no_stages)
{
    struct conf c;
    struct errbuf err;

    cr_assert_eq(load_text(&c, "[pipeline]\nstages =\n", &err), 0, "%s", err.msg);
    cr_assert_eq(c.stages_set, 1);
    cr_assert_eq(c.n_stages, 0);
    conf_free(&c);
}

/* Asserts that text fails to load with an error that ends with expected after "file:". */
static void assert_load_error(const char *text, const char *expected)
{
    struct conf c;
    struct errbuf err;
    char want[600];

    cr_assert_neq(load_text(&c, text, &err), 0, "accepted: %s", text);
    snprintf(want, sizeof(want), "%s:%s", conf_path, expected);
    cr_assert_str_eq(err.msg, want);
    conf_free(&c);
}

Test(conf, reports_an_unknown_key_with_file_and_line)
{
    assert_load_error("[kafka]\nbrokers = x:1\n\nbrokerz = y\n", "4: [kafka] brokerz: unknown key");
}

Test(conf, reports_an_unknown_section)
{
    assert_load_error("[kafak]\nbrokers = x\n", "2: [kafak] brokers: unknown section");
}

Test(conf, rejects_a_key_set_twice)
{
    assert_load_error("[kafka]\ngroup_id = a\ngroup_id = b\n", "3: [kafka] group_id: set twice");
}

Test(conf, rejects_an_out_of_range_value)
{
    assert_load_error("[pipeline]\nmax_inflight_messages = 0\n",
                      "2: [pipeline] max_inflight_messages: out of range [1, 10000000]");
}

Test(conf, rejects_a_value_that_is_not_an_integer)
{
    assert_load_error("[pipeline]\nworkers = four\n", "2: [pipeline] workers: not an integer");
}

Test(conf, rejects_a_bad_boolean)
{
    assert_load_error(
        "[input]\naccept_plain_text = maybe\n",
        "2: [input] accept_plain_text: not a boolean (true/false, yes/no, on/off, 1/0)");
}

Test(conf, rejects_an_empty_topic)
{
    assert_load_error("[kafka]\noutput_topic =\n", "2: [kafka] output_topic: must not be empty");
    assert_load_error("[kafka]\ninput_topics = a,,b\n",
                      "2: [kafka] input_topics: empty item in list");
}

Test(conf, rejects_a_property_librdkafka_rejects)
{
    struct conf c;
    struct errbuf err;

    cr_assert_neq(load_text(&c, "[kafka.consumer]\n\nsession.timeout.ms = soon\n", &err), 0);
    cr_assert(strstr(err.msg,
                     ":3: [kafka.consumer] session.timeout.ms: rejected by librdkafka: ") != NULL,
              "%s", err.msg);
    conf_free(&c);
    cr_assert_neq(load_text(&c, "[kafka.producer]\nno.such.property = 1\n", &err), 0);
    cr_assert(strstr(err.msg, ":2: [kafka.producer] no.such.property: rejected by librdkafka") !=
                  NULL,
              "%s", err.msg);
    conf_free(&c);
}

Test(conf, rejects_properties_enrichd_manages_itself)
{
    struct conf c;
    struct errbuf err;

    cr_assert_neq(load_text(&c, "[kafka.consumer]\nenable.auto.offset.store = true\n", &err), 0);
    cr_assert(strstr(err.msg, ":2: [kafka.consumer] enable.auto.offset.store: set by enrichd") !=
                  NULL,
              "%s", err.msg);
    conf_free(&c);
}

Test(conf, reports_a_syntax_error_with_its_line)
{
    assert_load_error("[kafka]\nbrokers = x\nthis line has no equals sign\n",
                      "3: syntax error (expected [section] or key = value)");
}

Test(conf, reports_a_missing_file)
{
    struct conf c;
    struct errbuf err;

    cr_assert_eq(conf_init(&c), 0);
    cr_assert_eq(conf_load(&c, "/nonexistent/enrichd.conf", &err), -ENOENT);
    cr_assert(strstr(err.msg, "/nonexistent/enrichd.conf: cannot open") != NULL, "%s", err.msg);
    conf_free(&c);
}

Test(conf, applies_command_line_overrides)
{
    struct conf c;
    struct errbuf err;

    cr_assert_eq(conf_init(&c), 0);
    cr_assert_eq(conf_set(&c, "kafka", "input_topics", "x,y", 0, &err), 0);
    cr_assert_eq(c.n_input_topics, 2);
    cr_assert_neq(conf_set(&c, "kafka", "brokers", "", 0, &err), 0);
    cr_assert_str_eq(err.msg, "command line: [kafka] brokers: must not be empty");
    conf_free(&c);
}

Test(conf, loads_the_shipped_example)
{
    struct conf c;
    struct errbuf err;

    cr_assert_eq(conf_init(&c), 0);
    cr_assert_eq(conf_load(&c, ENRICHD_SOURCE_DIR "/config/enrichd.conf.example", &err), 0, "%s",
                 err.msg);
    conf_free(&c);
}

/* Loads the first len bytes of text (which may hold NUL bytes); returns conf_load's result. */
static int load_bytes(struct conf *c, const char *text, size_t len, struct errbuf *err)
{
    int fd;

    strcpy(conf_path, "/tmp/test_conf_XXXXXX");
    cr_assert((fd = mkstemp(conf_path)) >= 0);
    cr_assert_eq(write(fd, text, len), (ssize_t)len);
    close(fd);
    cr_assert_eq(conf_init(c), 0);
    errbuf_clear(err);
    int rc = conf_load(c, conf_path, err);
    unlink(conf_path);
    return rc;
}

/* Found by fuzz_conf: inih saw the line cut at the NUL (what followed was ignored) and the
 * line count stopped, so errors named "command line". */
Test(conf, rejects_a_nul_byte_with_its_line)
{
    static const char text[] = "[pipeline]\nworkers = 2\0 junk\nstages =\n";
    struct conf c;
    struct errbuf err;
    char want[600];

    cr_assert_eq(load_bytes(&c, text, sizeof(text) - 1, &err), -EINVAL);
    snprintf(want, sizeof(want), "%s:2: NUL byte", conf_path);
    cr_assert_str_eq(err.msg, want);
    conf_free(&c);
    /* In a comment too: the file is not text. */
    static const char comment[] = "; a\0b\n[pipeline]\nworkers = 2\n";
    cr_assert_eq(load_bytes(&c, comment, sizeof(comment) - 1, &err), -EINVAL);
    snprintf(want, sizeof(want), "%s:1: NUL byte", conf_path);
    cr_assert_str_eq(err.msg, want);
    conf_free(&c);
}

/* Found by fuzz_conf: a line longer than inih's buffer reaches the handler in pieces; the
 * first piece was counted as no line at all. */
Test(conf, names_the_line_of_an_overlong_line)
{
    char text[700];
    struct conf c;
    struct errbuf err;

    snprintf(text, sizeof(text), "\n\nnot_in_a_section_%0500d = 1\n", 0);
    cr_assert_eq(load_text(&c, text, &err), -EINVAL);
    cr_assert(strncmp(err.msg, conf_path, strlen(conf_path)) == 0 &&
                  strncmp(err.msg + strlen(conf_path), ":3: ", 4) == 0,
              "%s", err.msg);
    conf_free(&c);
}

Test(conf, takes_a_metrics_listen_address_or_off_and_rejects_names)
{
    struct conf c;
    struct errbuf err;

    cr_assert_eq(conf_init(&c), 0);
    cr_assert_str_eq(c.metrics_listen, "127.0.0.1:9464");
    conf_free(&c);
    cr_assert_eq(load_text(&c, "[metrics]\nlisten = [::1]:9100\n", &err), 0, "%s", err.msg);
    cr_assert_str_eq(c.metrics_listen, "[::1]:9100");
    conf_free(&c);
    cr_assert_eq(load_text(&c, "[metrics]\nlisten = off\n", &err), 0, "%s", err.msg);
    cr_assert_str_eq(c.metrics_listen, "");
    conf_free(&c);
    cr_assert_eq(load_text(&c, "[metrics]\nlisten =\n", &err), 0, "%s", err.msg);
    cr_assert_str_eq(c.metrics_listen, "");
    conf_free(&c);
    cr_assert_eq(load_text(&c, "[metrics]\nlisten = localhost:9464\n", &err), -EINVAL);
    cr_assert(strstr(err.msg, ":2: [metrics] listen: host: not an IPv4 address") != NULL, "%s",
              err.msg);
    conf_free(&c);
    cr_assert_eq(load_text(&c, "[metrics]\nlisten = 127.0.0.1:70000\n", &err), -EINVAL);
    cr_assert(strstr(err.msg, "[metrics] listen: port") != NULL, "%s", err.msg);
    conf_free(&c);
    cr_assert_eq(load_text(&c, "[metrics]\nlisten = 9464\n", &err), -EINVAL);
    conf_free(&c);
}

Test(conf, takes_a_log_level_name)
{
    struct conf c;
    struct errbuf err;

    cr_assert_eq(conf_init(&c), 0);
    cr_assert_str_eq(c.log_level, "info");
    conf_free(&c);
    cr_assert_eq(load_text(&c, "[log]\nlevel = Debug\n", &err), 0, "%s", err.msg);
    cr_assert_str_eq(c.log_level, "Debug");
    conf_free(&c);
    cr_assert_eq(load_text(&c, "[log]\nlevel = verbose\n", &err), -EINVAL);
    cr_assert(strstr(err.msg, ":2: [log] level: must be err, warning, notice, info or debug") !=
                  NULL,
              "%s", err.msg);
    conf_free(&c);
}

/* ---- every error at once, secrets, the dump ---- */

struct collected {
    char msgs[8][600];
    size_t n;
};

static void collect(void *user, const char *msg)
{
    struct collected *col = user;

    if (col->n < 8)
        snprintf(col->msgs[col->n], sizeof(col->msgs[0]), "%s", msg);
    col->n++;
}

Test(conf, reports_every_error_in_line_order)
{
    struct conf c;
    struct collected col = {0};
    const char *path = write_conf("[kafka]\nbrokers =\nnope = 1\nthis line has no equals sign\n"
                                  "[pipeline]\nworkers = -1\nworkers = 2\n[kafka.producer]\n"
                                  "linger.ms = later\n");
    char want[600];

    cr_assert_eq(conf_init(&c), 0);
    cr_assert_eq(conf_load_all(&c, path, collect, &col), -EINVAL);
    unlink(path);
    cr_assert_eq(col.n, 6, "%zu errors", col.n);
    const char *expected[] = {
        "2: [kafka] brokers: must not be empty",
        "3: [kafka] nope: unknown key",
        "4: syntax error (expected [section] or key = value)",
        "6: [pipeline] workers: out of range [0, 1024]",
        "7: [pipeline] workers: set twice",
        "9: [kafka.producer] linger.ms: rejected by librdkafka: ",
    };
    for (size_t i = 0; i < 6; i++) {
        snprintf(want, sizeof(want), "%s:%s", path, expected[i]);
        cr_assert(strncmp(col.msgs[i], want, strlen(want)) == 0, "error %zu: %s, want %s", i,
                  col.msgs[i], want);
    }
    conf_free(&c);
}

/* A fresh directory holding one file name with content; returns the directory (static). */
static const char *secret_dir(const char *name, const char *content)
{
    static char dir[64];
    char path[128];
    FILE *f;

    strcpy(dir, "/tmp/test_conf_cred_XXXXXX");
    cr_assert(mkdtemp(dir) != NULL);
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    cr_assert((f = fopen(path, "w")) != NULL);
    fputs(content, f);
    fclose(f);
    return dir;
}

static void secret_dir_remove(const char *dir, const char *name)
{
    char path[128];

    snprintf(path, sizeof(path), "%s/%s", dir, name);
    unlink(path);
    rmdir(dir);
}

/* conf_dump of c into a new string (free with free()). */
static char *dump_text(const struct conf *c)
{
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);

    cr_assert(f != NULL);
    cr_assert_eq(conf_dump(c, f), 0);
    fclose(f);
    return text;
}

Test(conf, reads_secrets_from_credentials_and_files)
{
    struct conf c;
    struct errbuf err;
    const char *dir = secret_dir("kafka-pw", "s3cret-credential\n");
    char text[512], file_ref[128];

    snprintf(file_ref, sizeof(file_ref), "@file:%s/kafka-pw", dir);
    snprintf(text, sizeof(text),
             "[kafka.consumer]\nsecurity.protocol = SASL_SSL\nsasl.mechanisms = PLAIN\n"
             "sasl.username = enrichd\nsasl.password = @credential:kafka-pw\n"
             "[kafka.producer]\nsasl.password = %s\nsasl.username = %s\n"
             "ssl.key.password = literal-secret\n",
             file_ref, file_ref);
    setenv("CREDENTIALS_DIRECTORY", dir, 1);
    cr_assert_eq(load_text(&c, text, &err), 0, "%s", err.msg);
    unsetenv("CREDENTIALS_DIRECTORY");
    secret_dir_remove(dir, "kafka-pw");

    /* the values librdkafka gets: the file's content without its trailing newline */
    cr_assert_str_eq(conf_section_get(&c.consumer, "sasl.password"), "s3cret-credential");
    cr_assert_str_eq(conf_section_get(&c.producer, "sasl.password"), "s3cret-credential");
    cr_assert_str_eq(conf_section_get(&c.producer, "sasl.username"), "s3cret-credential");
    cr_assert_eq(c.consumer.kv[2].secret, 0, "sasl.username is not a secret");

    /* the dump shows references and redacts literal secrets */
    char *dump = dump_text(&c);
    cr_assert_null(strstr(dump, "s3cret"), "%s", dump);
    cr_assert_null(strstr(dump, "literal-secret"), "%s", dump);
    cr_assert_not_null(strstr(dump, "\nsasl.password = @credential:kafka-pw\n"), "%s", dump);
    cr_assert_not_null(strstr(dump, "\nssl.key.password = <redacted>\n"), "%s", dump);
    cr_assert_not_null(strstr(dump, "\nsasl.username = enrichd\n"), "%s", dump);
    snprintf(text, sizeof(text), "\nsasl.username = %s\n", file_ref);
    cr_assert_not_null(strstr(dump, text), "%s", dump);
    cr_assert_not_null(strstr(dump, "\n[kafka.producer]\n"), "%s", dump);
    cr_assert_not_null(strstr(dump, "\nmax_inflight_bytes = 67108864\n"), "%s", dump);
    free(dump);
    conf_free(&c);
}

Test(conf, reports_unusable_secret_references)
{
    const char *dir = secret_dir("empty", "\n");

    unsetenv("CREDENTIALS_DIRECTORY");
    assert_load_error("[kafka.consumer]\nsasl.password = @credential:pw\n",
                      "2: [kafka.consumer] sasl.password: @credential:pw: $CREDENTIALS_DIRECTORY "
                      "is not set (LoadCredential= in the unit)");
    setenv("CREDENTIALS_DIRECTORY", dir, 1);
    assert_load_error("[kafka.consumer]\nsasl.password = @credential:../pw\n",
                      "2: [kafka.consumer] sasl.password: @credential:../pw: not a credential "
                      "name");
    char want[256];
    snprintf(want, sizeof(want),
             "2: [kafka.consumer] sasl.password: @credential:empty: %s/empty "
             "is empty",
             dir);
    assert_load_error("[kafka.consumer]\nsasl.password = @credential:empty\n", want);
    unsetenv("CREDENTIALS_DIRECTORY");
    assert_load_error("[kafka.producer]\nsasl.password = @file:relative/pw\n",
                      "2: [kafka.producer] sasl.password: @file:relative/pw: the path must be "
                      "absolute");
    assert_load_error("[kafka.producer]\nsasl.password = @file:/nonexistent/pw\n",
                      "2: [kafka.producer] sasl.password: @file:/nonexistent/pw: cannot read "
                      "/nonexistent/pw: No such file or directory");
    secret_dir_remove(dir, "empty");
}

Test(conf, keeps_secret_values_out_of_librdkafka_errors)
{
    struct conf c;
    struct errbuf err;
    const char *dir = secret_dir("proto", "hidden-protocol\n");
    char text[256];

    /* security.protocol from a file is secret like any referenced value; librdkafka quotes a
     * value it rejects */
    snprintf(text, sizeof(text), "[kafka.consumer]\nsecurity.protocol = @file:%s/proto\n", dir);
    cr_assert_neq(load_text(&c, text, &err), 0);
    secret_dir_remove(dir, "proto");
    cr_assert_not_null(
        strstr(err.msg, "[kafka.consumer] security.protocol: rejected by librdkafka: "), "%s",
        err.msg);
    cr_assert_not_null(strstr(err.msg, "<redacted>"), "%s", err.msg);
    cr_assert_null(strstr(err.msg, "hidden-protocol"), "%s", err.msg);
    conf_free(&c);

    /* conf_rdkafka_apply, as the daemon applies a section, redacts too */
    struct conf_section s = {.name = "kafka.producer", .file = "x.conf"};
    cr_assert_eq(conf_section_set(&s, "security.protocol", "also-hidden", 4), 0);
    cr_assert_eq(conf_section_set_secret(&s, "security.protocol", "@credential:m"), 0);
    rd_kafka_conf_t *kc = rd_kafka_conf_new();
    cr_assert_eq(conf_rdkafka_apply(kc, &s, &err), -EINVAL);
    rd_kafka_conf_destroy(kc);
    cr_assert_not_null(strstr(err.msg, "x.conf:4: [kafka.producer] security.protocol: rejected"),
                       "%s", err.msg);
    cr_assert_null(strstr(err.msg, "also-hidden"), "%s", err.msg);
    s.name = NULL; /* a literal, not owned */
    conf_section_clear(&s);
}

Test(conf, names_the_secret_librdkafka_properties)
{
    cr_assert(conf_secret_property("sasl.password"));
    cr_assert(conf_secret_property("ssl.key.password"));
    cr_assert(conf_secret_property("ssl.keystore.password"));
    cr_assert(conf_secret_property("ssl.key.pem"));
    cr_assert(conf_secret_property("sasl.oauthbearer.client.secret"));
    cr_assert(conf_secret_property("sasl.oauthbearer.config"));
    cr_assert(!conf_secret_property("sasl.username"));
    cr_assert(!conf_secret_property("ssl.key.location"));
    cr_assert(!conf_secret_property("linger.ms"));
}

/* ---- [kafka] processing.guarantee and the transaction keys ---- */

Test(conf, defaults_to_at_least_once)
{
    struct conf c;

    cr_assert_eq(conf_init(&c), 0);
    cr_assert_str_eq(c.processing_guarantee, "at_least_once");
    cr_assert_not(conf_exactly_once(&c));
    cr_assert_eq(c.transaction_interval_ms, 1000);
    cr_assert_eq(c.transaction_max_messages, 10000);
    conf_free(&c);
}

Test(conf, accepts_exactly_once_and_its_transaction_keys)
{
    struct conf c;
    struct errbuf err;

    cr_assert_eq(load_text(&c,
                           "[kafka]\nprocessing.guarantee = exactly_once\n"
                           "transaction_interval_ms = 250\ntransaction_max_messages = 42\n",
                           &err),
                 0, "%s", err.msg);
    cr_assert(conf_exactly_once(&c));
    cr_assert_eq(c.transaction_interval_ms, 250);
    cr_assert_eq(c.transaction_max_messages, 42);
    conf_free(&c);
}

Test(conf, rejects_an_unknown_guarantee_with_file_and_line)
{
    assert_load_error("[kafka]\ngroup_id = g\nprocessing.guarantee = exactly_twice\n",
                      "3: [kafka] processing.guarantee: must be at_least_once or exactly_once");
    assert_load_error("[kafka]\nprocessing.guarantee =\n",
                      "2: [kafka] processing.guarantee: must be at_least_once or exactly_once");
    assert_load_error("[kafka]\nprocessing.guarantee = Exactly_Once\n",
                      "2: [kafka] processing.guarantee: must be at_least_once or exactly_once");
}

Test(conf, rejects_transaction_keys_out_of_range)
{
    assert_load_error("[kafka]\ntransaction_interval_ms = 5\n",
                      "2: [kafka] transaction_interval_ms: out of range [10, 60000]");
    assert_load_error("[kafka]\n\ntransaction_max_messages = 0\n",
                      "3: [kafka] transaction_max_messages: out of range [1, 10000000]");
}
