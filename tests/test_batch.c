/* Tests for `enrichd enrich`: order kept across workers, bad lines reported with their line
 * number, exit status 65, --text wrapping. Runs the real binary. */
#include <criterion/criterion.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

/* Runs `enrichd enrich ARGS < input` and captures stdout and stderr. Returns the exit status. */
static int run_enrich(const char *args, const char *input, char **out, char **err)
{
    char in_path[] = "/tmp/enrichd-batch-in-XXXXXX";
    char out_path[] = "/tmp/enrichd-batch-out-XXXXXX";
    char err_path[] = "/tmp/enrichd-batch-err-XXXXXX";
    int fi = mkstemp(in_path), fo = mkstemp(out_path), fe = mkstemp(err_path);
    cr_assert(fi >= 0 && fo >= 0 && fe >= 0);
    cr_assert_eq(write(fi, input, strlen(input)), (ssize_t)strlen(input));
    close(fi);
    close(fo);
    close(fe);
    char cmd[1024];
    snprintf(cmd, sizeof(cmd), "%s enrich %s < %s > %s 2> %s", ENRICHD_BIN, args, in_path,
             out_path, err_path);
    int st = system(cmd);
    FILE *f = fopen(out_path, "r");
    size_t cap = 0;
    *out = NULL;
    ssize_t n = getdelim(out, &cap, '\0', f);
    if (n < 0) { /* empty file: getdelim may still have allocated a buffer */
        free(*out);
        *out = strdup("");
    }
    fclose(f);
    f = fopen(err_path, "r");
    cap = 0;
    *err = NULL;
    n = getdelim(err, &cap, '\0', f);
    if (n < 0) {
        free(*err);
        *err = strdup("");
    }
    fclose(f);
    unlink(in_path);
    unlink(out_path);
    unlink(err_path);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

Test(batch, keeps_input_order_across_workers)
{
    char *input = malloc(2000 * 64), *out, *err;
    size_t o = 0;
    for (int i = 0; i < 2000; i++)
        o += (size_t)sprintf(input + o, "{\"id\":\"a%d\",\"text\":\"Satz Nummer %d.\"}\n", i, i);
    int rc = run_enrich("--workers 4 --no-timing", input, &out, &err);
    cr_assert_eq(rc, 0, "stderr: %s", err);
    char *line = out;
    for (int i = 0; i < 2000; i++) {
        char want[32];
        snprintf(want, sizeof(want), "{\"id\":\"a%d\",", i);
        cr_assert_eq(strncmp(line, want, strlen(want)), 0, "line %d: %.40s", i + 1, line);
        line = strchr(line, '\n');
        cr_assert_not_null(line);
        line++;
    }
    cr_expect_eq(*line, '\0');
    free(input);
    free(out);
    free(err);
}

Test(batch, reports_bad_lines_with_line_numbers_and_goes_on)
{
    char *out, *err;
    int rc = run_enrich("--no-timing",
                        "{\"text\":\"eins\"}\nnot json\n{\"text\":7}\n{\"text\":\"vier\"}\n", &out,
                        &err);
    cr_expect_eq(rc, 65);
    cr_expect_not_null(strstr(err, "<stdin>:2: not_json: "), "%s", err);
    cr_expect_not_null(strstr(err, "<stdin>:3: bad_field: text: must be a string"), "%s", err);
    cr_expect_not_null(strstr(out, "\"text\":\"eins\""));
    cr_expect_not_null(strstr(out, "\"text\":\"vier\""));
    free(out);
    free(err);
}

Test(batch, wraps_plain_text_lines_with_their_line_number)
{
    char *out, *err;
    int rc = run_enrich("--text --stages none --no-timing", "Erste Zeile\n\nDritte Zeile\n",
                        &out, &err);
    cr_assert_eq(rc, 0, "%s", err);
    cr_expect_not_null(strstr(out, "{\"id\":\"1\",\"text\":\"Erste Zeile\",\"enrichment\":"));
    cr_expect_not_null(strstr(out, "{\"id\":\"3\",\"text\":\"Dritte Zeile\",\"enrichment\":"));
    free(out);
    free(err);
}

Test(batch, refuses_an_unknown_stage_with_status_78)
{
    char *out, *err;
    int rc = run_enrich("--stages nosuch", "{\"text\":\"x\"}\n", &out, &err);
    cr_expect_eq(rc, 78);
    cr_expect_not_null(strstr(err, "unknown stage 'nosuch'"));
    free(out);
    free(err);
}

Test(batch, gives_byte_identical_repeats_without_timing)
{
    char *out1, *out2, *err;
    const char *in = "{\"id\":\"x\",\"title\":\"Titel\",\"text\":\"Am 9. August 2024 kamen 500 Gäste.\"}\n";
    cr_assert_eq(run_enrich("--no-timing", in, &out1, &err), 0, "%s", err);
    free(err);
    cr_assert_eq(run_enrich("--no-timing --workers 1", in, &out2, &err), 0, "%s", err);
    cr_expect_str_eq(out1, out2);
    free(out1);
    free(out2);
    free(err);
}
