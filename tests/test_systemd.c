/* Tests for systemd/: the unit files hold their contract and pass `systemd-analyze verify`. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static char tmp_dir[64];

/* Reads a whole file into a new string (free()). */
static char *slurp(const char *path)
{
    FILE *f = fopen(path, "rb");
    char *buf;
    long n;

    cr_assert_not_null(f, "cannot open %s", path);
    fseek(f, 0, SEEK_END);
    n = ftell(f);
    rewind(f);
    buf = malloc((size_t)n + 1);
    cr_assert_not_null(buf);
    cr_assert_eq(fread(buf, 1, (size_t)n, f), (size_t)n);
    buf[n] = '\0';
    fclose(f);
    return buf;
}

static char *read_unit(const char *name)
{
    char path[512];
    snprintf(path, sizeof(path), "%s/systemd/%s", ENRICHD_SOURCE_DIR, name);
    return slurp(path);
}

/* True when text holds line as a whole line. */
static int has_line(const char *text, const char *line)
{
    size_t n = strlen(line);
    for (const char *p = text; (p = strstr(p, line)) != NULL; p++)
        if ((p == text || p[-1] == '\n') && (p[n] == '\n' || p[n] == '\0'))
            return 1;
    return 0;
}

/* Writes text to tmp_dir/name with every "/usr/bin/enrichd" replaced by the built binary, so
 * verify finds an executable without an installed package. */
static void write_rewritten(const char *name, const char *text)
{
    char path[512];
    const char *p = text, *hit;
    FILE *f;

    snprintf(path, sizeof(path), "%s/%s", tmp_dir, name);
    f = fopen(path, "w");
    cr_assert_not_null(f);
    while ((hit = strstr(p, "/usr/bin/enrichd")) != NULL) {
        fwrite(p, 1, (size_t)(hit - p), f);
        fputs(ENRICHD_BIN, f);
        p = hit + strlen("/usr/bin/enrichd");
    }
    fputs(p, f);
    fclose(f);
}

/* Runs `systemd-analyze verify --man=no tmp_dir/unit`; returns its exit status and its
 * combined output in out (static). */
static int verify(const char *unit, const char **out)
{
    static char buf[8192];
    char cmd[1024];
    size_t off = 0, n;
    FILE *p;
    int status;

    snprintf(cmd, sizeof(cmd), "systemd-analyze verify --man=no '%s/%s' 2>&1", tmp_dir, unit);
    p = popen(cmd, "r");
    cr_assert_not_null(p);
    while ((n = fread(buf + off, 1, sizeof(buf) - 1 - off, p)) > 0)
        off += n;
    buf[off] = '\0';
    status = pclose(p);
    *out = buf;
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

/* Skips the calling test on hosts without systemd-analyze. */
static void need_systemd_analyze(void)
{
    if (system("systemd-analyze --version >/dev/null 2>&1") != 0)
        cr_skip_test("systemd-analyze is not installed");
}

static void setup(void)
{
    strcpy(tmp_dir, "/tmp/test_systemd_XXXXXX");
    cr_assert_not_null(mkdtemp(tmp_dir));
}

static void teardown(void)
{
    char cmd[128];
    if (tmp_dir[0] != '\0') {
        snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmp_dir);
        cr_assert_eq(system(cmd), 0);
    }
}

TestSuite(systemd, .init = setup, .fini = teardown);

/* The settings other parts of enrichd rely on: notify protocol, watchdog, reload by SIGHUP,
 * no restart loop on a config error (exit 78), and the core of the sandbox. */
static const char *const contract[] = {
    "Type=notify",
    "ExecReload=/bin/kill -HUP $MAINPID",
    "WatchdogSec=20s",
    "TimeoutStopSec=60s",
    "Restart=on-failure",
    "RestartPreventExitStatus=78",
    "DynamicUser=yes",
    "ProtectSystem=strict",
    "NoNewPrivileges=yes",
    "SystemCallFilter=@system-service",
    NULL,
};

Test(systemd, service_unit_keeps_its_contract)
{
    char *text = read_unit("enrichd.service");

    for (size_t i = 0; contract[i] != NULL; i++)
        cr_expect(has_line(text, contract[i]), "enrichd.service lacks %s", contract[i]);
    cr_expect(has_line(text, "ExecStart=/usr/bin/enrichd run -c /etc/enrichd/enrichd.conf"));
    cr_expect_not_null(strstr(text, "#LoadCredential="));
    free(text);
}

Test(systemd, template_unit_reads_one_config_per_instance)
{
    char *text = read_unit("enrichd@.service");

    for (size_t i = 0; contract[i] != NULL; i++)
        cr_expect(has_line(text, contract[i]), "enrichd@.service lacks %s", contract[i]);
    cr_expect(has_line(text, "ExecStart=/usr/bin/enrichd run -c /etc/enrichd/%i.conf"));
    free(text);
}

Test(systemd, service_unit_passes_systemd_analyze_verify)
{
    char *text;
    const char *out;
    int rc;

    need_systemd_analyze();
    text = read_unit("enrichd.service");
    write_rewritten("enrichd.service", text);
    free(text);
    rc = verify("enrichd.service", &out);
    /* verify exits 0 on settings it ignores with a warning; any line naming the unit fails. */
    cr_assert_eq(rc, 0, "%s", out);
    cr_assert_null(strstr(out, "enrichd"), "%s", out);
}

Test(systemd, template_unit_and_an_instance_pass_systemd_analyze_verify)
{
    char *text;
    const char *out;
    int rc;

    need_systemd_analyze();
    text = read_unit("enrichd@.service");
    write_rewritten("enrichd@.service", text);
    free(text);
    rc = verify("enrichd@.service", &out);
    cr_assert_eq(rc, 0, "%s", out);
    cr_assert_null(strstr(out, "enrichd"), "%s", out);
    rc = verify("enrichd@news-de.service", &out);
    cr_assert_eq(rc, 0, "%s", out);
    cr_assert_null(strstr(out, "enrichd"), "%s", out);
}

Test(systemd, verify_catches_a_broken_unit)
{
    const char *out;

    need_systemd_analyze();
    write_rewritten("enrichd.service", "[Service]\nType=notify\nWatchdogSec=soon\n"
                                       "ExecStart=/usr/bin/enrichd run\n");
    verify("enrichd.service", &out);
    cr_assert_not_null(strstr(out, "enrichd.service"), "a bad unit went unnoticed: %s", out);
}
