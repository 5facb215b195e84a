/* Tests for the entities stage with the committed models: tagging, mention grouping, offsets. */
#include <criterion/criterion.h>
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "stages/entities/ent_model.h"
#include "stages/pipeline.h"

static struct pipeline *pipe_;
static struct pipeline_result res;
static json_t *out_;

static void setup(void)
{
    struct errbuf err = {{0}};
    struct pipeline_options opts = {0};
    const char *stages[] = {"entities"};

    pipe_ = pipeline_new(stages, 1, NULL, 0, &opts, &err);
    cr_assert_not_null(pipe_, "%s", err.msg);
}

static void teardown(void)
{
    json_decref(out_);
    pipeline_result_fini(&res);
    pipeline_free(pipe_);
}

TestSuite(entities, .init = setup, .fini = teardown);

/* Runs one article and returns enrichment.entities (borrowed until teardown). */
static json_t *run(const char *article, const char *lang)
{
    json_error_t jerr;
    json_t *ents;

    json_decref(out_);
    pipeline_result_fini(&res);
    cr_assert_eq(pipeline_process(pipe_, article, strlen(article), lang, &res), 0, "%s",
                 res.detail);
    out_ = json_loads(res.out, 0, &jerr);
    cr_assert_not_null(out_, "%s", jerr.text);
    ents = json_object_get(json_object_get(out_, "enrichment"), "entities");
    cr_assert(json_is_array(ents), "%s", res.out);
    return ents;
}

/* The entity with this name, or NULL. */
static json_t *find(json_t *ents, const char *name)
{
    size_t i;
    json_t *e;

    json_array_foreach(
        ents, i, e) if (strcmp(json_string_value(json_object_get(e, "name")), name) == 0) return e;
    return NULL;
}

static const char *type_of(json_t *e)
{
    return json_string_value(json_object_get(e, "type"));
}

static long long count_of(json_t *e)
{
    return json_integer_value(json_object_get(e, "count"));
}

/* Whether one of e's mentions has exactly this text. */
static int has_mention(json_t *e, const char *text)
{
    size_t i;
    json_t *m;

    json_array_foreach(json_object_get(e, "mentions"), i,
                       m) if (strcmp(json_string_value(json_object_get(m, "text")), text) ==
                              0) return 1;
    return 0;
}

static const char de_article[] =
    "{\"id\":\"de1\",\"title\":\"Alijew eröffnet Bahnstrecke\",\"text\":\"Präsident Ilham Alijew "
    "hat am Montag in Baku die Eisenbahnlinie Baku-Tiflis-Kars eröffnet. Die Regierung "
    "Aserbaidschans erwartet mehr Güterverkehr aus China. Alijew sagte, die Strecke verbinde "
    "Europa mit Asien. Auch Bundeskanzlerin Angela Merkel lobte das Projekt in Berlin.\"}";

Test(entities, groups_german_title_and_surname_into_one_person)
{
    json_t *ents = run(de_article, "de");
    json_t *e = find(ents, "Ilham Alijew");

    cr_assert_not_null(e, "%s", res.out);
    cr_expect_str_eq(type_of(e), "PER");
    cr_expect_geq(count_of(e), 3, "%s", res.out);
    cr_expect(has_mention(e, "Präsident Ilham Alijew"), "%s", res.out);
    cr_expect(has_mention(e, "Alijew"), "%s", res.out);
    cr_expect_null(find(ents, "Alijew"), "%s", res.out);
    cr_expect_null(find(ents, "Präsident Ilham Alijew"), "%s", res.out);
}

Test(entities, finds_german_places_and_strips_the_genitive)
{
    json_t *ents = run(de_article, "de");
    json_t *baku = find(ents, "Baku"), *merkel = find(ents, "Angela Merkel");

    cr_assert_not_null(baku, "%s", res.out);
    cr_expect_str_eq(type_of(baku), "LOC");
    cr_assert_not_null(merkel, "%s", res.out);
    cr_expect_str_eq(type_of(merkel), "PER");
    cr_expect(has_mention(merkel, "Bundeskanzlerin Angela Merkel"), "%s", res.out);
    cr_expect_not_null(find(ents, "Berlin"), "%s", res.out);
}

static const char en_article[] =
    "{\"id\":\"en1\",\"text\":\"President Barack Obama met Prime Minister David Cameron in "
    "London on Tuesday. The International Monetary Fund said it would raise its forecast. The "
    "IMF also warned about Greece. Obama said the United Nations should act. Mr. Cameron "
    "agreed.\"}";

Test(entities, finds_english_people_places_and_organisations)
{
    json_t *ents = run(en_article, "en");
    json_t *obama = find(ents, "Barack Obama"), *cameron = find(ents, "David Cameron");
    json_t *london = find(ents, "London"), *un = find(ents, "United Nations");
    json_t *imf = find(ents, "International Monetary Fund");

    cr_assert_not_null(obama, "%s", res.out);
    cr_expect_str_eq(type_of(obama), "PER");
    cr_expect_eq(count_of(obama), 2, "%s", res.out);
    cr_expect(has_mention(obama, "President Barack Obama"), "%s", res.out);
    cr_assert_not_null(cameron, "%s", res.out);
    cr_expect_eq(count_of(cameron), 2, "%s", res.out);
    cr_expect(has_mention(cameron, "Prime Minister David Cameron"), "%s", res.out);
    cr_expect(has_mention(cameron, "Mr. Cameron"), "%s", res.out);
    cr_assert_not_null(london, "%s", res.out);
    cr_expect_str_eq(type_of(london), "LOC");
    cr_assert_not_null(un, "%s", res.out);
    cr_expect_str_eq(type_of(un), "ORG");
    cr_assert_not_null(imf, "%s", res.out);
    cr_expect_str_eq(type_of(imf), "ORG");
    cr_expect(has_mention(imf, "IMF"), "acronym joins its expansion: %s", res.out);
    cr_expect_null(find(ents, "IMF"), "%s", res.out);
}

Test(entities, reads_an_all_caps_headline_and_links_a_later_surname)
{
    json_t *ents = run("{\"title\":\"BP SHARES FALL AFTER GULF SPILL\",\"text\":\"Shares of BP "
                       "fell 5 percent in New York on Friday. Tony Hayward, chief executive of BP, "
                       "said the company would pay. Hayward spoke in Houston.\"}",
                       "en");
    json_t *bp = find(ents, "BP"), *hayward = find(ents, "Tony Hayward");

    cr_assert_not_null(bp, "%s", res.out);
    cr_expect_str_eq(type_of(bp), "ORG");
    cr_expect_eq(count_of(bp), 3, "%s", res.out);
    cr_assert_not_null(hayward, "%s", res.out);
    cr_expect_eq(count_of(hayward), 2, "%s", res.out);
    cr_expect_not_null(find(ents, "New York"), "%s", res.out);
}

Test(entities, links_german_acronyms_and_keeps_hyphenated_names_whole)
{
    json_t *ents = run("{\"text\":\"Die Regierung hat am Montag in Baku die Eisenbahnlinie "
                       "Baku-Tiflis-Kars eröffnet. Die Europäische Union (EU) und die Deutsche "
                       "Bahn begrüßten das. Frau Merkel sprach mit Präsident Alijew.\"}",
                       "de");
    json_t *eu = find(ents, "Europäische Union"), *merkel = find(ents, "Merkel");

    cr_assert_not_null(eu, "%s", res.out);
    cr_expect_str_eq(type_of(eu), "ORG");
    cr_expect(has_mention(eu, "EU"), "%s", res.out);
    cr_expect_not_null(find(ents, "Baku-Tiflis-Kars"), "%s", res.out);
    cr_assert_not_null(merkel, "%s", res.out);
    cr_expect_str_eq(type_of(merkel), "PER");
    cr_expect(has_mention(merkel, "Frau Merkel"), "%s", res.out);
}

Test(entities, mention_offsets_slice_back_in_code_points_and_bytes)
{
    json_t *ents = run(de_article, "de");
    json_t *art = json_loads(de_article, 0, NULL), *e;
    size_t i, j;

    cr_assert_not_null(art);
    cr_assert_gt(json_array_size(ents), 0);
    json_array_foreach(ents, i, e)
    {
        json_t *m;

        json_array_foreach(json_object_get(e, "mentions"), j, m)
        {
            const char *field = json_string_value(json_object_get(m, "field"));
            const char *src = json_string_value(json_object_get(art, field));
            const char *text = json_string_value(json_object_get(m, "text"));
            size_t sb = (size_t)json_integer_value(json_object_get(m, "start_byte"));
            size_t eb = (size_t)json_integer_value(json_object_get(m, "end_byte"));
            size_t sc = (size_t)json_integer_value(json_object_get(m, "start"));
            size_t ec = (size_t)json_integer_value(json_object_get(m, "end"));

            cr_assert_not_null(src);
            cr_expect_eq(eb - sb, strlen(text));
            cr_expect_eq(strncmp(src + sb, text, eb - sb), 0, "%s", text);
            cr_expect_eq(text_count_cp(src, sb), sc, "%s", text);
            cr_expect_eq(text_count_cp(src, eb), ec, "%s", text);
        }
    }
    json_decref(art);
}

Test(entities, salience_sums_to_one_and_favours_the_main_person)
{
    json_t *ents = run(de_article, "de"), *e;
    double sum = 0, top = 0;
    const char *top_name = "";
    size_t i;

    json_array_foreach(ents, i, e)
    {
        double s = json_real_value(json_object_get(e, "salience"));

        cr_expect_eq(json_integer_value(json_object_get(e, "id")), (json_int_t)i);
        sum += s;
        if (s > top) {
            top = s;
            top_name = json_string_value(json_object_get(e, "name"));
        }
    }
    cr_expect(sum > 0.99 && sum < 1.01, "%f", sum);
    cr_expect_str_eq(top_name, "Ilham Alijew");
}

Test(entities, text_without_names_gives_an_empty_list)
{
    cr_expect_eq(json_array_size(run("{\"text\":\"es regnet heute den ganzen tag.\"}", "de")), 0);
    cr_expect_eq(json_array_size(run("{\"title\":\"\",\"text\":\"\\u00a0.\"}", "en")), 0);
}

Test(entities, viterbi_output_is_always_a_valid_bioes_sequence)
{
    float em[6 * ENT_N_TAGS], trans[(ENT_N_TAGS + 1) * ENT_N_TAGS] = {0};
    uint8_t bp[6 * ENT_N_TAGS], out[6];

    /* Emissions that on their own prefer I-PER everywhere: never valid at the start. */
    for (size_t i = 0; i < 6 * ENT_N_TAGS; i++)
        em[i] = (i % ENT_N_TAGS) == ENT_TAG(ENT_PER, ENT_POS_I) ? 5.0f : 0.0f;
    ent_viterbi(em, 6, trans, bp, out);
    cr_expect(ent_transition_ok(ENT_N_TAGS, out[0]));
    for (size_t i = 1; i < 6; i++)
        cr_expect(ent_transition_ok(out[i - 1], out[i]), "%u -> %u", out[i - 1], out[i]);
    cr_expect(ent_transition_ok(out[5], ENT_N_TAGS));
}

Test(entities, normalises_a_german_genitive_and_links_country_and_city_codes)
{
    json_t *ents = run("{\"text\":\"Die Regierung Aserbaidschans hat am Montag in Baku die "
                       "Eisenbahnlinie eröffnet.\"}",
                       "de");
    json_t *az = find(ents, "Aserbaidschan");

    cr_assert_not_null(az, "%s", res.out);
    cr_expect_str_eq(type_of(az), "LOC");
    cr_expect(has_mention(az, "Aserbaidschans"), "%s", res.out);
    cr_expect_str_eq(json_string_value(json_object_get(az, "country")), "AZ", "%s", res.out);
    cr_expect_null(json_object_get(find(ents, "Baku"), "country"), "a city is no country");
    cr_expect_eq(json_integer_value(json_object_get(find(ents, "Baku"), "geonameid")), 587084, "%s",
                 res.out);
    cr_expect_null(json_object_get(az, "geonameid"));
}

/* Writes a model file header (magic, bits, tags, features, lexicon, gazetteer, entity-word and
 * cluster counts and cluster depth of zero) and nothing else to a new temporary file whose path
 * goes to path. */
static void write_header(char *path, const char *magic)
{
    uint32_t v[8] = {ENT_MIN_BITS, ENT_N_TAGS, ENT_N_FEATS, 0, 0, 0, 0, 0};
    int fd = mkstemp(path);
    FILE *f;

    cr_assert_geq(fd, 0);
    f = fdopen(fd, "wb");
    cr_assert_not_null(f);
    cr_assert_eq(fwrite(magic, 1, 8, f), 8);
    cr_assert_eq(fwrite(v, sizeof(v), 1, f), 1);
    cr_assert_eq(fclose(f), 0);
}

Test(entities, loader_rejects_an_older_format_and_a_truncated_file)
{
    char old[] = "/tmp/test_entities_old_XXXXXX", cut[] = "/tmp/test_entities_cut_XXXXXX";
    struct ent_model *m = NULL;
    struct errbuf err = {{0}};

    write_header(old, "ENTMDL03");
    cr_expect_eq(ent_model_load(&m, old, "de", &err), -EINVAL);
    cr_expect_null(m);
    cr_expect(strstr(err.msg, "not an entity model of this version") != NULL, "%s", err.msg);
    write_header(cut, "ENTMDL04");
    cr_expect_eq(ent_model_load(&m, cut, "de", &err), -EINVAL);
    cr_expect_null(m);
    cr_expect(strstr(err.msg, "truncated") != NULL, "%s", err.msg);
    unlink(old);
    unlink(cut);
}

/* Tokinfo of tok with the lexicon, gazetteer and clusters of m. */
static struct ent_tokinfo tokinfo_of(const struct ent_model *m, const char *tok)
{
    struct ent_lookup lk = {
        .slots = m->slots, .slot_mask = m->slot_mask, .clu_depth = m->clu_depth};
    struct ent_tokinfo ti;

    ent_tokinfo_fill(&ti, tok, strlen(tok), 3, &lk);
    return ti;
}

Test(entities, german_model_has_word_clusters_and_finds_compound_heads)
{
    char path[4096];
    const char *dir = getenv("ENRICHD_MODEL_DIR");
    struct ent_model *m = NULL;
    struct errbuf err = {{0}};
    struct ent_tokinfo whole, head, upper, lower;

    cr_assert_not_null(dir);
    snprintf(path, sizeof(path), "%s/entities/de.model", dir);
    cr_assert_eq(ent_model_load(&m, path, "de", &err), 0, "%s", err.msg);
    cr_expect_gt(m->n_clu, 1000);
    cr_expect_gt(m->clu_depth, ENT_CLU_MID);
    /* A frequent word has a cluster, case-insensitive; its prefix is the top of its path. */
    upper = tokinfo_of(m, "Kammer");
    lower = tokinfo_of(m, "kammer");
    cr_expect_neq(upper.clu[1], 0);
    cr_expect_eq(upper.clu[1], lower.clu[1]);
    cr_expect_eq(upper.clu[0], upper.clu[1] >> (m->clu_depth - ENT_CLU_MID));
    /* A rare compound has none, but its head lends it its cluster. */
    whole = tokinfo_of(m, "Bundesärztekammer");
    head = tokinfo_of(m, "kammer");
    cr_expect_eq(whole.clu[1], 0);
    cr_expect_eq(whole.head_clu, head.clu[1]);
    cr_expect_eq(whole.h_head, head.h_lower);
    /* Words in lower case and clustered words get no head. */
    cr_expect_eq(tokinfo_of(m, "bundesärztekammer").head_clu, 0);
    cr_expect_eq(upper.head_clu, 0);
    ent_model_free(m);
}

Test(entities, rejects_unknown_config_keys_and_missing_model_directories)
{
    const struct stage_ops *ops = stage_find("entities");
    struct conf_section sec = {0};
    struct errbuf err = {{0}};
    void *ctx = NULL;

    cr_assert_not_null(ops);
    cr_assert_eq(conf_section_set(&sec, "colour", "blue", 3), 0);
    cr_expect_eq(ops->init(&ctx, &sec, &err), -EINVAL);
    cr_expect_null(ctx);
    cr_expect(strstr(err.msg, "colour") != NULL, "%s", err.msg);
    conf_section_clear(&sec);
    cr_assert_eq(conf_section_set(&sec, "model_dir", "/nonexistent/entities", 3), 0);
    cr_expect_eq(ops->init(&ctx, &sec, &err), -ENOENT);
    cr_expect(strstr(err.msg, "/nonexistent/entities") != NULL, "%s", err.msg);
    conf_section_clear(&sec);
}

Test(entities, names_an_entity_from_its_normal_mention_not_the_caps_headline)
{
    json_t *ents = run("{\"title\":\"MAYOR ERIC ADAMS MEETS JOE BIDEN IN WASHINGTON\",\"text\":"
                       "\"Eric Adams said Joe Biden agreed to send more money.\"}",
                       "en");
    json_t *biden = find(ents, "Joe Biden");

    cr_assert_not_null(biden, "%s", res.out);
    cr_expect_str_eq(type_of(biden), "PER");
    cr_expect(has_mention(biden, "JOE BIDEN"), "%s", res.out);
    cr_expect(has_mention(biden, "Joe Biden"), "%s", res.out);
    cr_expect_null(find(ents, "JOE BIDEN"), "%s", res.out);
}
