/* test_numfacts: the numeric-facts grammar on German and English sentences. */
#include <criterion/criterion.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "stages/stage.h"
#include "stages/text/text.h"

extern const struct stage_ops numfacts_stage_ops;

/* Runs the stage on one text; returns the numeric_facts array (new reference). */
static json_t *run(const char *text, const char *lang, const char *published_at)
{
    struct errbuf err = {{0}};
    void *ctx = NULL;
    struct doc doc;
    json_t *out;

    memset(&doc, 0, sizeof(doc));
    cr_assert_eq(numfacts_stage_ops.init(&ctx, NULL, &err), 0, "%s", err.msg);
    cr_assert_eq(text_field_init(&doc.fields[0], "text", text, strlen(text), &err), 0);
    doc.n_fields = 1;
    doc.id = "t";
    doc.published_at = published_at;
    snprintf(doc.lang, sizeof(doc.lang), "%s", lang);
    doc.enrichment = json_object();
    cr_assert_eq(numfacts_stage_ops.process(ctx, &doc, &err), 0, "%s", err.msg);
    out = json_incref(json_object_get(doc.enrichment, "numeric_facts"));
    cr_assert(json_is_array(out));
    json_decref(doc.enrichment);
    text_field_fini(&doc.fields[0]);
    numfacts_stage_ops.fini(ctx);
    return out;
}

/* The fact whose text is exactly span; fails the test when there is none. */
static json_t *fact(json_t *arr, const char *span)
{
    size_t i;
    json_t *f;

    json_array_foreach(arr, i, f)
    {
        if (strcmp(json_string_value(json_object_get(f, "text")), span) == 0)
            return f;
    }
    char *dump = json_dumps(arr, JSON_COMPACT);
    cr_assert_fail("no fact \"%s\" in %s", span, dump);
    free(dump);
    return NULL;
}

static double num(json_t *o, const char *key)
{
    json_t *v = json_object_get(o, key);
    cr_assert(json_is_number(v), "%s is not a number", key);
    return json_number_value(v);
}

static const char *str(json_t *o, const char *key)
{
    json_t *v = json_object_get(o, key);
    return json_is_string(v) ? json_string_value(v) : NULL;
}

static void assert_close(double a, double b)
{
    cr_assert(fabs(a - b) <= 1e-9 * fabs(b) + 1e-12, "%.17g != %.17g", a, b);
}

Test(numfacts, reads_the_design_example_as_a_change_in_mass)
{
    json_t *a = run("Aserbaidschan plant die Erweiterung der Durchsatzkapazität der Eisenbahnlinie "
                    "Baku-Tiflis-Kars von 1 Million auf 5 Millionen Tonnen.",
                    "de", NULL);
    json_t *f = fact(a, "von 1 Million auf 5 Millionen Tonnen");

    cr_assert_str_eq(str(f, "kind"), "measure");
    cr_assert_str_eq(str(f, "form"), "change");
    cr_assert_str_eq(str(f, "dimension"), "mass");
    cr_assert_str_eq(str(f, "unit"), "t");
    cr_assert_str_eq(str(f, "direction"), "up");
    assert_close(num(json_object_get(f, "from"), "value"), 1e6);
    assert_close(num(json_object_get(f, "to"), "value"), 5e6);
    cr_assert_str_eq(str(f, "qualifier"), "exact");
    cr_assert(json_is_false(json_object_get(f, "approx")));
    cr_assert_str_eq(str(f, "subject"), "Durchsatzkapazität der Eisenbahnlinie Baku-Tiflis-Kars");
    json_decref(a);
}

Test(numfacts, marks_etwas_mehr_als_as_more_than_and_approximate)
{
    json_t *a = run("Im Hafen wurden etwas mehr als eine Million Tonnen umgeschlagen.", "de", NULL);
    json_t *f = fact(a, "etwas mehr als eine Million Tonnen");

    cr_assert_str_eq(str(f, "qualifier"), "more_than");
    cr_assert(json_is_true(json_object_get(f, "approx")));
    assert_close(num(f, "value"), 1e6);
    cr_assert_str_eq(str(f, "unit"), "t");
    json_decref(a);
}

Test(numfacts, reads_german_thousands_separator)
{
    json_t *de = run("Es kamen 500.000 Besucher.", "de", NULL);
    json_t *en = run("It reached 500.000 units.", "en", NULL);

    assert_close(num(fact(de, "500.000"), "value"), 500000);
    cr_assert_str_eq(str(fact(de, "500.000"), "counted"), "Besucher");
    assert_close(num(fact(en, "500.000"), "value"), 500);
    json_decref(de);
    json_decref(en);
}

Test(numfacts, reads_english_thousands_separator)
{
    json_t *en = run("Some 500,000 people attended.", "en", NULL);
    json_t *de = run("Der Wert lag bei 500,000 Punkten.", "de", NULL);
    json_t *f = fact(en, "Some 500,000");

    assert_close(num(f, "value"), 500000);
    cr_assert_str_eq(str(f, "counted"), "people");
    cr_assert_str_eq(str(f, "qualifier"), "approx");
    assert_close(num(fact(de, "500,000"), "value"), 500);
    json_decref(en);
    json_decref(de);
}

Test(numfacts, reads_unambiguous_separators_in_either_language)
{
    json_t *a = run("Es waren 1.000.000,50 Euro und 1,5 Prozent.", "en", NULL);

    assert_close(num(fact(a, "1.000.000,50 Euro"), "value"), 1000000.5);
    assert_close(num(fact(a, "1,5 Prozent"), "value"), 1.5);
    json_decref(a);
}

Test(numfacts, reads_german_money_with_a_scale_abbreviation)
{
    json_t *a = run("Der Konzern investiert 3 Mrd. Euro in neue Werke.", "de", NULL);
    json_t *f = fact(a, "3 Mrd. Euro");

    cr_assert_str_eq(str(f, "kind"), "money");
    cr_assert_str_eq(str(f, "unit"), "EUR");
    assert_close(num(f, "value"), 3e9);
    cr_assert(json_is_false(json_object_get(f, "unit_inferred")));
    json_decref(a);
}

Test(numfacts, flags_the_dollar_sign_as_an_inferred_currency)
{
    json_t *a = run("The deal is worth $2.5bn, while 500 Millionen US-Dollar flowed.", "en", NULL);
    json_t *f = fact(a, "$2.5bn");

    assert_close(num(f, "value"), 2.5e9);
    cr_assert_str_eq(str(f, "unit"), "USD");
    cr_assert(json_is_true(json_object_get(f, "unit_inferred")));
    f = fact(a, "500 Millionen US-Dollar");
    assert_close(num(f, "value"), 5e8);
    cr_assert(json_is_false(json_object_get(f, "unit_inferred")));
    json_decref(a);
}

Test(numfacts, keeps_percent_apart_from_percentage_points)
{
    json_t *a = run("Der Umsatz stieg um 3 Prozent. Die Quote sank um 3 Prozentpunkte.", "de", NULL);
    json_t *p = fact(a, "um 3 Prozent");
    json_t *pp = fact(a, "um 3 Prozentpunkte");

    cr_assert_str_eq(str(p, "kind"), "percent");
    cr_assert_str_eq(str(p, "unit"), "%");
    cr_assert_str_eq(str(p, "form"), "change");
    cr_assert_str_eq(str(p, "direction"), "up");
    cr_assert_str_eq(str(p, "trigger"), "stieg");
    cr_assert_str_eq(str(p, "subject"), "Umsatz");
    assert_close(num(json_object_get(p, "by"), "value"), 3);
    cr_assert_str_eq(str(pp, "kind"), "percent_point");
    cr_assert_str_eq(str(pp, "unit"), "pp");
    cr_assert_str_eq(str(pp, "direction"), "down");
    json_decref(a);
}

Test(numfacts, resolves_a_german_day_against_published_at)
{
    json_t *a = run("Am 9. August wurde die Strecke eröffnet.", "de", "2023-09-01T08:00:00Z");
    json_t *f = fact(a, "9. August");

    cr_assert_str_eq(str(f, "kind"), "date");
    cr_assert_str_eq(str(f, "value"), "2023-08-09");
    cr_assert_str_eq(str(f, "grain"), "day");
    json_decref(a);
}

Test(numfacts, resolves_relative_months_and_weekdays)
{
    json_t *a = run("Seit Montag gilt die Regel, die im vergangenen November beschlossen wurde.", "de",
                    "2024-02-14T08:00:00Z");

    cr_assert_str_eq(str(fact(a, "Montag"), "value"), "2024-02-12");
    cr_assert_str_eq(str(fact(a, "vergangenen November"), "value"), "2023-11");
    cr_assert_str_eq(str(fact(a, "vergangenen November"), "grain"), "month");
    json_decref(a);
}

Test(numfacts, reads_a_bare_year)
{
    json_t *a = run("Im Jahr 2023 wuchs die Wirtschaft.", "de", NULL);
    json_t *f = fact(a, "2023");

    cr_assert_str_eq(str(f, "kind"), "year");
    cr_assert_str_eq(str(f, "value"), "2023");
    cr_assert_str_eq(str(f, "grain"), "year");
    json_decref(a);
}

Test(numfacts, offsets_slice_back_in_code_points_and_bytes)
{
    const char *text = "Für Öl zahlte Österreich über 3 Mrd. Euro, für Gas 2 Mio. €.";
    json_t *a = run(text, "de", NULL);
    size_t i;
    json_t *f;

    cr_assert_eq(json_array_size(a), 2);
    json_array_foreach(a, i, f)
    {
        size_t sb = (size_t)num(f, "start_byte"), eb = (size_t)num(f, "end_byte");
        size_t sc = (size_t)num(f, "start"), ec = (size_t)num(f, "end");
        const char *t = str(f, "text");
        cr_assert_eq(strlen(t), eb - sb);
        cr_assert_eq(memcmp(text + sb, t, eb - sb), 0);
        cr_assert_eq(text_count_cp(text, sb), sc);
        cr_assert_eq(text_count_cp(text, eb), ec);
    }
    cr_assert_str_eq(str(json_array_get(a, 0), "text"), "über 3 Mrd. Euro");
    cr_assert_eq((int)num(json_array_get(a, 0), "start"), 25);
    cr_assert_eq((int)num(json_array_get(a, 0), "start_byte"), 28);
    json_decref(a);
}

Test(numfacts, reads_number_words_in_both_languages)
{
    json_t *de = run("Es gab zweiundzwanzig Verletzte und ein Drittel der Stimmen.", "de", NULL);
    json_t *en = run("They hired twenty-one engineers and bought a dozen ships.", "en", NULL);

    assert_close(num(fact(de, "zweiundzwanzig"), "value"), 22);
    assert_close(num(fact(en, "twenty-one"), "value"), 21);
    cr_assert_str_eq(str(fact(en, "twenty-one"), "counted"), "engineer");
    assert_close(num(fact(en, "a dozen"), "value"), 12);
    json_decref(de);
    json_decref(en);
}

Test(numfacts, reads_ranges_and_english_changes)
{
    json_t *a = run("Prices ranged between 10 and 20 dollars. Revenue rose by 5% to $3bn.", "en", NULL);
    json_t *r = fact(a, "between 10 and 20 dollars");
    json_t *c = fact(a, "by 5% to $3bn");

    cr_assert_str_eq(str(r, "form"), "range");
    assert_close(num(json_object_get(r, "from"), "value"), 10);
    assert_close(num(json_object_get(r, "to"), "value"), 20);
    cr_assert_str_eq(str(c, "form"), "change");
    cr_assert_str_eq(str(c, "kind"), "money");
    cr_assert_str_eq(str(c, "direction"), "up");
    cr_assert_str_eq(str(c, "subject"), "Revenue");
    assert_close(num(json_object_get(c, "to"), "value"), 3e9);
    assert_close(num(json_object_get(c, "by"), "value"), 5);
    json_decref(a);
}

Test(numfacts, gives_units_in_ucum_with_an_si_value)
{
    json_t *a = run("Der Hafen schlug 2,5 Mio. TEU um, die Leitung ist 120 km lang und liefert 3 TWh.",
                    "de", NULL);

    cr_assert_str_eq(str(fact(a, "2,5 Mio. TEU"), "unit"), "{TEU}");
    cr_assert_str_eq(str(fact(a, "120 km"), "unit"), "km");
    assert_close(num(fact(a, "120 km"), "si_value"), 120000);
    cr_assert_str_eq(str(fact(a, "3 TWh"), "unit"), "TW.h");
    json_decref(a);
}

Test(numfacts, finds_nothing_in_sentences_without_facts)
{
    json_t *a = run("Der Minister sprach mit den Vertretern der Gewerkschaft. Section 427 applies, "
                    "see page 12.",
                    "", NULL);

    cr_assert_eq(json_array_size(a), 0, "%zu facts", json_array_size(a));
    json_decref(a);
}

Test(numfacts, picks_rules_from_cue_words_without_a_language)
{
    json_t *en = run("The company said that 500.000 was the figure for the year.", "", NULL);
    json_t *de = run("Die Firma sagte, dass 500.000 die Zahl für das Jahr sei.", "", NULL);

    assert_close(num(fact(en, "500.000"), "value"), 500);
    assert_close(num(fact(de, "500.000"), "value"), 500000);
    json_decref(en);
    json_decref(de);
}

/* Does predicted fact g give the expected fact e's value (or from/to/by) and unit? */
static int matches(json_t *e, json_t *g)
{
    static const char *const keys[] = {"from", "to", "by"};
    json_t *ev = json_object_get(e, "value"), *gv = json_object_get(g, "value");
    int any = 0;

    if (ev != NULL) {
        if (json_is_string(ev))
            return json_is_string(gv) && strcmp(json_string_value(ev), json_string_value(gv)) == 0;
        if (!json_is_number(gv) ||
            fabs(json_number_value(gv) - json_number_value(ev)) > 1e-6 * fabs(json_number_value(ev)))
            return 0;
        any = 1;
    }
    for (size_t k = 0; k < 3; k++) {
        json_t *x = json_object_get(e, keys[k]);
        if (x == NULL)
            continue;
        json_t *y = json_object_get(json_object_get(g, keys[k]), "value");
        if (!json_is_number(y) ||
            fabs(json_number_value(y) - json_number_value(x)) > 1e-6 * fabs(json_number_value(x)))
            return 0;
        any = 1;
    }
    json_t *eu = json_object_get(e, "unit"), *gu = json_object_get(g, "unit");
    if (json_is_string(eu) != json_is_string(gu) ||
        (json_is_string(eu) && strcmp(json_string_value(eu), json_string_value(gu)) != 0))
        return 0;
    return any;
}

/* Precision and recall of value+unit over a dev set file. */
static void score_file(const char *name, double *p, double *r)
{
    char path[512];
    FILE *fp;
    char *line = NULL;
    size_t cap = 0, tp = 0, n_pred = 0, n_exp = 0;

    snprintf(path, sizeof(path), "%s/tests/data/%s", ENRICHD_SOURCE_DIR, name);
    fp = fopen(path, "r");
    cr_assert_not_null(fp, "%s", path);
    while (getline(&line, &cap, fp) > 0) {
        json_t *ex = json_loads(line, 0, NULL);
        cr_assert_not_null(ex);
        json_t *got = run(json_string_value(json_object_get(ex, "text")),
                          json_string_value(json_object_get(ex, "lang")),
                          json_string_value(json_object_get(ex, "published_at")));
        json_t *exp = json_object_get(ex, "facts");
        char used[64] = {0};
        size_t i;
        json_t *e;
        json_array_foreach(exp, i, e)
        {
            for (size_t k = 0; k < json_array_size(got) && k < sizeof(used); k++)
                if (!used[k] && matches(e, json_array_get(got, k))) {
                    used[k] = 1;
                    tp++;
                    break;
                }
        }
        n_pred += json_array_size(got);
        n_exp += json_array_size(exp);
        json_decref(got);
        json_decref(ex);
    }
    free(line);
    fclose(fp);
    *p = n_pred ? (double)tp / (double)n_pred : 0;
    *r = n_exp ? (double)tp / (double)n_exp : 0;
}

Test(numfacts, keeps_value_and_unit_precision_and_recall_on_the_news_dev_sets)
{
    double p, r;

    score_file("numfacts_news.jsonl", &p, &r);
    cr_assert(p >= 0.95 && r >= 0.95, "numfacts_news: P=%.3f R=%.3f", p, r);
    score_file("numfacts_news_fresh.jsonl", &p, &r);
    cr_assert(p >= 0.92 && r >= 0.92, "numfacts_news_fresh: P=%.3f R=%.3f", p, r);
    score_file("numfacts_news_untuned.jsonl", &p, &r);
    cr_assert(p >= 0.92 && r >= 0.92, "numfacts_news_untuned: P=%.3f R=%.3f", p, r);
}

Test(numfacts, resolves_relative_years_and_numeric_dates)
{
    json_t *a = run("Im vergangenen Jahr und am 15.3. sowie am 2018-08-31 geschah es.", "de",
                    "2024-02-14T08:00:00Z");
    json_t *en = run("Exports grew last year.", "en", "2024-02-14T08:00:00Z");

    cr_assert_str_eq(str(fact(a, "vergangenen Jahr"), "value"), "2023");
    cr_assert_str_eq(str(fact(a, "vergangenen Jahr"), "kind"), "year");
    cr_assert_str_eq(str(fact(a, "15.3."), "value"), "2024-03-15");
    cr_assert_str_eq(str(fact(a, "2018-08-31"), "value"), "2018-08-31");
    cr_assert_str_eq(str(fact(en, "last year"), "value"), "2023");
    json_decref(a);
    json_decref(en);
}

Test(numfacts, tells_ordinals_ages_and_decades_from_counts)
{
    json_t *a = run("A 17-year-old on 125th Street recalled the 1990s.", "en", NULL);

    cr_assert_str_eq(str(fact(a, "125th"), "kind"), "ordinal");
    cr_assert_str_eq(str(fact(a, "17-year-old"), "kind"), "duration");
    cr_assert_str_eq(str(fact(a, "17-year-old"), "unit"), "a");
    cr_assert_eq(json_array_size(a), 2);
    json_decref(a);
}

Test(numfacts, finds_the_subject_across_an_auxiliary_verb)
{
    json_t *a = run("Die Zahl der Todesopfer in Indonesien ist auf 832 gestiegen.", "de", NULL);
    json_t *f = fact(a, "auf 832");

    cr_assert_str_eq(str(f, "form"), "change");
    cr_assert_str_eq(str(f, "direction"), "up");
    cr_assert_str_eq(str(f, "trigger"), "gestiegen");
    cr_assert_str_eq(str(f, "subject"), "Zahl der Todesopfer in Indonesien");
    assert_close(num(json_object_get(f, "to"), "value"), 832);
    json_decref(a);
}

Test(numfacts, reads_halves_and_glued_currency_codes)
{
    json_t *a = run("It took half an hour, then two and a half years and cost USD3.14.", "en", NULL);

    assert_close(num(fact(a, "half an hour"), "value"), 0.5);
    cr_assert_str_eq(str(fact(a, "half an hour"), "unit"), "h");
    assert_close(num(fact(a, "two and a half years"), "value"), 2.5);
    assert_close(num(fact(a, "USD3.14"), "value"), 3.14);
    cr_assert_str_eq(str(fact(a, "USD3.14"), "unit"), "USD");
    json_decref(a);
}
