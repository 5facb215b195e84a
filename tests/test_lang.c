/* Tests for language identification: golden sentences per family, close pairs, headlines,
 * mixed scripts, und for text without signal, and the stage's output and hint handling. */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "stages/lang/lang.h"
#include "stages/pipeline.h"
#include "stages/stage.h"

static struct lang_model *model;

static void setup(void)
{
    struct errbuf err = {{0}};
    char path[1024];

    snprintf(path, sizeof path, "%s/lang/lang.bin", stage_model_dir());
    cr_assert_eq(lang_model_load(&model, path, &err), 0, "%s", err.msg);
}

static void teardown(void)
{
    lang_model_free(model);
    model = NULL;
}

TestSuite(lang, .init = setup, .fini = teardown);

/* Detects title (may be NULL) and text, from tokenized fields (tokenized = 1) or from fields
 * the detector tokenizes itself as far as it reads. */
static struct lang_result detect_fields(const char *title, const char *text, int tokenized)
{
    struct text_field f[2];
    struct lang_result r;
    struct errbuf err = {{0}};
    const char *name[2] = {"title", "text"}, *data[2] = {title, text};
    size_t n = 0;

    for (int i = 0; i < 2; i++) {
        if (data[i] == NULL)
            continue;
        cr_assert_eq(text_validate_utf8(data[i], strlen(data[i]), NULL), 0);
        cr_assert_eq(
            tokenized ? text_field_init(&f[n], name[i], data[i], strlen(data[i]), &err)
                      : text_field_init_untokenized(&f[n], name[i], data[i], strlen(data[i]), &err),
            0, "%s", err.msg);
        n++;
    }
    lang_detect(model, f, n, NULL, LANG_HINT_IGNORE, &r);
    for (size_t i = 0; i < n; i++)
        text_field_fini(&f[i]);
    return r;
}

/* Detects title (may be NULL) and text both ways; the answers must be the same. */
static struct lang_result detect2(const char *title, const char *text)
{
    struct lang_result r = detect_fields(title, text, 1), raw = detect_fields(title, text, 0);

    cr_assert_str_eq(raw.code, r.code, "untokenized %s, tokenized %s: %s", raw.code, r.code, text);
    cr_assert_eq(raw.confidence, r.confidence, "%s", text);
    cr_assert_eq(raw.n_letters, r.n_letters, "%s", text);
    cr_assert_eq(raw.n_candidates, r.n_candidates, "%s", text);
    return r;
}

static struct lang_result detect(const char *text)
{
    return detect2(NULL, text);
}

struct golden {
    const char *code;
    const char *text;
};

static void expect_all(const struct golden *g, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        struct lang_result r = detect(g[i].text);

        cr_expect_str_eq(r.code, g[i].code, "%s: got %s", g[i].text, r.code);
    }
}

#define EXPECT_ALL(g) expect_all(g, sizeof(g) / sizeof(g[0]))

Test(lang, knows_the_seventy_five_languages)
{
    cr_expect_geq(lang_model_n_langs(model), 75);
}

Test(lang, names_germanic_sentences)
{
    static const struct golden g[] = {
        {"de", "Der Bundestag hat am Donnerstag ein neues Gesetz zur Förderung erneuerbarer "
               "Energien beschlossen."},
        {"en",
         "The city council voted on Tuesday to expand the bus network to the northern suburbs."},
        {"nl", "Het kabinet heeft donderdag een nieuw wetsvoorstel over de woningmarkt naar de "
               "Kamer gestuurd."},
        {"sv", "Regeringen presenterade på onsdagen en ny plan för att minska arbetslösheten bland "
               "unga."},
        {"da",
         "Regeringen fremlagde i går en ny plan, som skal få flere unge i arbejde efter skolen."},
        {"af", "Die regering het gister aangekondig dat hulle nuwe maatreëls gaan neem om "
               "werkloosheid te verminder."},
    };
    EXPECT_ALL(g);
}

Test(lang, names_romance_sentences)
{
    static const struct golden g[] = {
        {"es", "El gobierno anunció ayer nuevas medidas para reducir el desempleo juvenil en las "
               "regiones del sur."},
        {"pt", "O governo anunciou ontem novas medidas para reduzir o desemprego juvenil nas "
               "regiões do sul."},
        {"fr",
         "Le gouvernement a annoncé hier de nouvelles mesures pour réduire le chômage des jeunes."},
        {"it", "Il governo ha annunciato ieri nuove misure per ridurre la disoccupazione giovanile "
               "nel sud."},
        {"ro",
         "Guvernul a anunțat ieri noi măsuri pentru reducerea șomajului în rândul tinerilor."},
        {"ca", "El govern va anunciar ahir noves mesures per reduir l'atur juvenil a les comarques "
               "del sud."},
    };
    EXPECT_ALL(g);
}

Test(lang, names_slavic_and_baltic_sentences)
{
    static const struct golden g[] = {
        {"pl", "Rząd ogłosił wczoraj nowe działania mające na celu zmniejszenie bezrobocia wśród "
               "młodzieży."},
        {"cs", "Vláda včera oznámila nová opatření ke snížení nezaměstnanosti mladých lidí."},
        {"sk", "Vláda včera oznámila nové opatrenia na zníženie nezamestnanosti mladých ľudí."},
        {"ru", "Правительство объявило о новых мерах по снижению безработицы среди молодежи."},
        {"uk", "Уряд оголосив про нові заходи щодо зниження безробіття серед молоді."},
        {"bg",
         "Правителството обяви вчера нови мерки за намаляване на безработицата сред младите хора."},
        {"lt", "Vyriausybė vakar paskelbė naujas priemones jaunimo nedarbui mažinti."},
        {"lv", "Valdība vakar paziņoja par jauniem pasākumiem jauniešu bezdarba samazināšanai."},
    };
    EXPECT_ALL(g);
}

Test(lang, names_other_latin_script_sentences)
{
    static const struct golden g[] = {
        {"fi", "Hallitus ilmoitti eilen uusista toimista nuorisotyöttömyyden vähentämiseksi."},
        {"hu", "A kormány tegnap új intézkedéseket jelentett be a fiatalok munkanélküliségének "
               "csökkentésére."},
        {"tr", "Hükümet dün gençler arasındaki işsizliği azaltmak için yeni önlemler açıkladı."},
        {"vi", "Chính phủ hôm qua đã công bố các biện pháp mới nhằm giảm tỷ lệ thất nghiệp ở thanh "
               "niên."},
        {"sw",
         "Serikali ilitangaza jana hatua mpya za kupunguza ukosefu wa ajira miongoni mwa vijana."},
        {"id", "Pemerintah kemarin mengumumkan langkah-langkah baru untuk mengurangi pengangguran "
               "di kalangan anak muda."},
        {"eu", "Gobernuak atzo neurri berriak iragarri zituen gazteen langabezia murrizteko."},
    };
    EXPECT_ALL(g);
}

Test(lang, names_languages_by_their_script)
{
    static const struct golden g[] = {
        {"el", "Η κυβέρνηση ανακοίνωσε χθες νέα μέτρα για τη μείωση της ανεργίας των νέων."},
        {"he", "הממשלה הודיעה אתמול על צעדים חדשים להפחתת האבטלה בקרב צעירים."},
        {"ar", "أعلنت الحكومة أمس عن إجراءات جديدة للحد من البطالة بين الشباب."},
        {"fa", "دولت دیروز اقدامات جدیدی را برای کاهش بیکاری جوانان اعلام کرد."},
        {"hi", "सरकार ने कल युवाओं में बेरोजगारी कम करने के लिए नए उपायों की घोषणा की।"},
        {"ja", "政府は昨日、若者の失業を減らすための新しい対策を発表した。"},
        {"zh", "政府昨天宣布了减少青年失业的新措施。"},
        {"ko", "정부는 어제 청년 실업을 줄이기 위한 새로운 대책을 발표했다."},
        {"th", "รัฐบาลประกาศมาตรการใหม่เพื่อลดการว่างงานของเยาวชนเมื่อวานนี้"},
        {"ka", "მთავრობამ გუშინ ახალი ზომები გამოაცხადა ახალგაზრდების უმუშევრობის შესამცირებლად."},
        {"hy", "Կառավարությունը երեկ հայտարարեց նոր միջոցառումների մասին։"},
    };
    EXPECT_ALL(g);
}

Test(lang, tells_close_pairs_apart_at_sentence_length)
{
    static const struct golden g[] = {
        {"de",
         "Die Regierung will die Steuern für kleine Unternehmen im nächsten Jahr deutlich senken."},
        {"nl", "De regering wil de belastingen voor kleine bedrijven volgend jaar flink verlagen."},
        {"es",
         "La policía detuvo a dos hombres después del robo en una tienda del centro de la ciudad."},
        {"pt", "A polícia deteve dois homens depois do assalto a uma loja no centro da cidade."},
        {"ru", "Полиция задержала двух мужчин после ограбления магазина в центре города."},
        {"uk", "Поліція затримала двох чоловіків після пограбування магазину в центрі міста."},
        {"cs", "Policie zadržela dva muže po vyloupení obchodu v centru města."},
        {"sk", "Polícia zadržala dvoch mužov po vykradnutí obchodu v centre mesta."},
    };
    EXPECT_ALL(g);
}

Test(lang, tells_azerbaijani_from_turkish_by_its_schwa)
{
    static const struct golden g[] = {
        {"az", "Mən bir partlayış gördüm."}, {"az", "Mənim bacımı gördünüz?"},
        {"az", "Gəmi dənizdədir."},          {"az", "Mən"},
        {"tr", "Ben bir patlama gördüm."},
    };
    EXPECT_ALL(g);
}

Test(lang, tells_serbian_in_latin_letters_from_croatian_and_bosnian)
{
    static const struct golden g[] = {
        {"sr", "Deca se igraju u dvorištu posle podne."},
        {"sr", "Ovo mleko nije sveže."},
        {"sr", "Šta želiš da radiš sutra uveče?"},
        {"hr", "Tko je pojeo kruh koji sam kupio jučer?"},
        {"hr", "Vrijeme je lijepo, djeca se igraju vani."},
    };
    struct lang_result r;

    EXPECT_ALL(g);
    r = detect("Ovo mleko nije sveže.");
    cr_expect_str_eq(r.script, "Latn");
    r = detect("Ово млеко није свеже.");
    cr_expect_str_eq(r.code, "sr");
    cr_expect_str_eq(r.script, "Cyrl");
}

Test(lang, reads_chinese_with_latin_names_as_chinese)
{
    static const struct golden g[] = {
        {"zh", "Tom是想着去安慰Mary的。"},
        {"zh", "生日快乐，Muiriel！"},
    };
    EXPECT_ALL(g);
}

Test(lang, reads_short_german_and_english_headlines)
{
    static const struct golden g[] = {
        {"de", "Regierung plant höhere Steuern für Konzerne"},
        {"de", "Merkel trifft Macron in Berlin zu Gesprächen"},
        {"de", "Bahn streicht Verbindungen wegen Streik"},
        {"en", "Government plans higher taxes for large companies"},
        {"en", "Police arrest two men after robbery"},
        {"en", "Storm leaves thousands without power overnight"},
    };
    EXPECT_ALL(g);
}

Test(lang, uses_title_and_text_together)
{
    struct lang_result r = detect2(
        "Merkel in Paris", "Die Kanzlerin sprach mit dem Präsidenten über die Zukunft der Union.");

    cr_expect_str_eq(r.code, "de");
}

Test(lang, follows_the_majority_script_in_mixed_text)
{
    struct lang_result r =
        detect("Компания Apple представила новый iPhone на презентации в Купертино во вторник.");

    cr_expect_str_eq(r.code, "ru");
    cr_expect_str_eq(r.script, "Cyrl");
    r = detect("The Kremlin spokesman, Дмитрий Песков, told reporters on Monday that talks would "
               "continue.");
    cr_expect_str_eq(r.code, "en");
    r = detect("Лaбуристичкa пaртиja ниje прихвaтилa тaкву идejу."); /* Latin a, e, j inside */
    cr_expect_str_eq(r.code, "sr");
}

Test(lang, says_und_without_signal)
{
    struct lang_result r;

    r = detect("");
    cr_expect_str_eq(r.code, "und");
    cr_expect_lt(r.confidence, 0.2);
    r = detect("2024 - 12 - 31 100,5 % 42");
    cr_expect_str_eq(r.code, "und");
    cr_expect_lt(r.confidence, 0.2);
    r = detect("https://www.example.com/news/index.html?id=42");
    cr_expect_str_eq(r.code, "und");
    r = detect("www.example.org");
    cr_expect_str_eq(r.code, "und");
    r = detect("Tom"); /* a name: no language stands out */
    cr_expect_str_eq(r.code, "und");
    cr_expect_lt(r.confidence, 0.2);
}

Test(lang, guesses_a_single_distinctive_word)
{
    struct lang_result r;

    r = detect("the");
    cr_expect_str_eq(r.code, "en");
    r = detect("Regierung");
    cr_expect_str_eq(r.code, "de");
    r = detect("og"); /* two letters are enough for a guess */
    cr_expect_neq(strcmp(r.code, "und"), 0);
}

Test(lang, leaves_invalid_utf8_to_the_text_layer)
{
    size_t bad = 0;

    cr_expect_eq(text_validate_utf8("ab\xc3(", 4, &bad), -EILSEQ);
    cr_expect_eq(bad, 2);
}

Test(lang, stops_early_on_long_text_once_certain)
{
    static char buf[64 * 1024];
    const char *s = "Der Bundestag hat am Donnerstag ein neues Gesetz beschlossen. ";
    size_t n = 0, sl = strlen(s);
    struct lang_result r;

    while (n + sl < sizeof buf) {
        memcpy(buf + n, s, sl);
        n += sl;
    }
    buf[n] = '\0';
    r = detect(buf);
    cr_expect_str_eq(r.code, "de");
    cr_expect_lt(r.n_letters, 2000, "read %zu letters", r.n_letters);
}

/* A link in the middle of a long untokenized text, chunks cut next to it, and a text of one
 * 100 KB run without white space: the same answers as from the tokenized fields. */
Test(lang, reads_untokenized_fields_like_tokenized_ones)
{
    static char buf[100 * 1024 + 1];
    const char *s = "Regierung und Opposition streiten seit Wochen über den Haushalt. Siehe "
                    "https://example.org/haushalt/2026?teil=1 oder schreiben Sie an "
                    "info@example.org. ";
    size_t n = 0, sl = strlen(s);
    struct lang_result r;

    while (n + sl < 4000) {
        memcpy(buf + n, s, sl);
        n += sl;
    }
    buf[n] = '\0';
    r = detect(buf);
    cr_expect_str_eq(r.code, "de");
    memset(buf, 'a', sizeof buf - 1);
    buf[sizeof buf - 1] = '\0';
    detect(buf);
    r = detect2("Nach der Wahl", "Tom sagt, dass er morgen nicht kommen kann.");
    cr_expect_str_eq(r.code, "de");
}

/* A white-space-delimited run with an '@' or "://" is a link however long it is: its letters
 * count neither for the script nor as words; the words after it do. */
Test(lang, skips_a_long_link_run_whole)
{
    static char buf[1024];
    struct lang_result r;

    snprintf(buf, sizeof buf, "@%0600dЗдравствуйте", 0);
    r = detect(buf);
    cr_expect_str_eq(r.code, "und");
    cr_expect_eq(r.n_letters, 0);
    snprintf(buf, sizeof buf, "@%0600d Здравствуйте, как у вас дела сегодня?", 0);
    r = detect(buf);
    cr_expect_str_eq(r.code, "ru");
}

Test(lang, rejects_a_missing_or_foreign_model_file)
{
    struct lang_model *m = NULL;
    struct errbuf err = {{0}};
    char path[1024];

    cr_expect_lt(lang_model_load(&m, "/nonexistent/lang.bin", &err), 0);
    cr_expect_null(m);
    snprintf(path, sizeof path, "%s/tests/test_lang.c", ENRICHD_SOURCE_DIR);
    cr_expect_eq(lang_model_load(&m, path, &err), -EINVAL);
    cr_expect(strstr(err.msg, "magic") != NULL, "%s", err.msg);
}

/* The stage: JSON output, doc->lang, hint modes, config errors. */

struct stage_run {
    struct doc doc;
    struct text_field field;
};

static json_t *run_stage(const char *hint_mode, const char *hint, const char *text, char lang[8])
{
    const struct stage_ops *ops = stage_find("lang");
    struct conf_section conf = {0};
    struct errbuf err = {{0}};
    struct stage_run s = {0};
    void *ctx = NULL;
    json_t *out;

    cr_assert_not_null(ops);
    if (hint_mode != NULL)
        cr_assert_eq(conf_section_set(&conf, "hint", hint_mode, 0), 0);
    cr_assert_eq(ops->init(&ctx, &conf, &err), 0, "%s", err.msg);
    cr_assert_eq(text_field_init(&s.field, "text", text, strlen(text), &err), 0);
    s.doc.id = "t1";
    s.doc.lang_hint = hint;
    s.doc.fields[0] = s.field;
    s.doc.n_fields = 1;
    s.doc.enrichment = json_object();
    cr_assert_eq(ops->process(ctx, &s.doc, &err), 0, "%s", err.msg);
    out = json_incref(json_object_get(s.doc.enrichment, "language"));
    memcpy(lang, s.doc.lang, 8);
    json_decref(s.doc.enrichment);
    text_field_fini(&s.field);
    ops->fini(ctx);
    conf_section_clear(&conf);
    cr_assert_not_null(out);
    return out;
}

Test(lang_stage, writes_language_object_and_doc_lang)
{
    char lang[8];
    json_t *o =
        run_stage(NULL, NULL, "Die Regierung will die Steuern im nächsten Jahr senken.", lang);
    json_t *c = json_object_get(o, "candidates");

    cr_expect_str_eq(lang, "de");
    cr_expect_str_eq(json_string_value(json_object_get(o, "code")), "de");
    cr_expect_str_eq(json_string_value(json_object_get(o, "name")), "German");
    cr_expect_str_eq(json_string_value(json_object_get(o, "script")), "Latn");
    cr_expect_gt(json_real_value(json_object_get(o, "confidence")), 0.5);
    cr_expect_leq(json_real_value(json_object_get(o, "confidence")), 1.0);
    cr_assert(json_is_array(c));
    cr_expect_eq(json_array_size(c), 3);
    cr_expect_str_eq(json_string_value(json_object_get(json_array_get(c, 0), "code")), "de");
    json_decref(o);
}

Test(lang_stage, applies_the_hint_as_configured)
{
    const char *amb = "Minister"; /* nl, af and de alike */
    char lang[8];
    json_t *o;

    o = run_stage("trust", "nl", "Die Regierung will die Steuern im nächsten Jahr senken.", lang);
    cr_expect_str_eq(lang, "nl");
    json_decref(o);
    o = run_stage("ignore", "nl", "Die Regierung will die Steuern im nächsten Jahr senken.", lang);
    cr_expect_str_eq(lang, "de");
    json_decref(o);
    o = run_stage("prior", "nl", "Die Regierung will die Steuern im nächsten Jahr senken.", lang);
    cr_expect_str_eq(lang, "de"); /* a prior does not override clear evidence */
    json_decref(o);
    o = run_stage("prior", "nb", "Regjeringen vil senke skatten for små bedrifter neste år.", lang);
    cr_expect_str_eq(lang, "nb");
    json_decref(o);
    o = run_stage("prior", "de", amb, lang);
    cr_expect_str_eq(lang, "de");
    json_decref(o);
    /* a trusted hint for a language of two scripts takes the script of the text */
    o = run_stage("trust", "sr", "Ovo mleko nije sveže.", lang);
    cr_expect_str_eq(lang, "sr");
    cr_expect_str_eq(json_string_value(json_object_get(o, "script")), "Latn");
    json_decref(o);
    o = run_stage("trust", "sr", "Ово млеко није свеже.", lang);
    cr_expect_str_eq(json_string_value(json_object_get(o, "script")), "Cyrl");
    json_decref(o);
}

Test(lang_stage, gives_und_for_a_url)
{
    char lang[8];
    json_t *o = run_stage(NULL, NULL, "https://example.com/a/b", lang);

    cr_expect_str_eq(lang, "und");
    cr_expect_str_eq(json_string_value(json_object_get(o, "code")), "und");
    cr_expect_lt(json_real_value(json_object_get(o, "confidence")), 0.2);
    json_decref(o);
}

Test(lang_stage, rejects_an_unknown_hint_mode_and_a_missing_model)
{
    const struct stage_ops *ops = stage_find("lang");
    struct conf_section conf = {0};
    struct errbuf err = {{0}};
    void *ctx = NULL;

    cr_assert_eq(conf_section_set(&conf, "hint", "maybe", 0), 0);
    cr_expect_eq(ops->init(&ctx, &conf, &err), -EINVAL);
    cr_expect(strstr(err.msg, "hint") != NULL, "%s", err.msg);
    cr_assert_eq(conf_section_set(&conf, "hint", "prior", 0), 0);
    cr_assert_eq(conf_section_set(&conf, "model", "/nonexistent/lang.bin", 0), 0);
    cr_expect_eq(ops->init(&ctx, &conf, &err), -ENOENT);
    cr_expect_null(ctx);
    conf_section_clear(&conf);
}

/* The language object of article through a pipeline of the stages named. */
static json_t *pipeline_language(const char *const *stages, size_t n, const char *article)
{
    struct pipeline_options opts = {.max_bytes = 1 << 20};
    struct pipeline_result res = {0};
    struct errbuf err = {{0}};
    struct pipeline *p = pipeline_new(stages, n, NULL, 0, &opts, &err);
    json_t *root, *lang;

    cr_assert_not_null(p, "%s", err.msg);
    cr_assert_eq(pipeline_process(p, article, strlen(article), NULL, &res), 0, "%s", res.detail);
    root = json_loadb(res.out, res.out_len, 0, NULL);
    cr_assert_not_null(root);
    lang = json_incref(json_object_get(json_object_get(root, "enrichment"), "language"));
    cr_assert_not_null(lang);
    json_decref(root);
    pipeline_result_fini(&res);
    pipeline_free(p);
    return lang;
}

/* The lang stage alone leaves the fields untokenized and tokenizes what it reads; with the
 * other stages it reads their tokens. The answer is the same. */
Test(lang_stage, answers_the_same_alone_and_with_the_other_stages)
{
    static const char *const alone[] = {"lang"}, *const all[] = {"lang", "entities", "numfacts"};
    static const char *const articles[] = {
        "{\"title\":\"Aserbaidschan erhöht Ölförderung\",\"text\":\"Präsident Ilham Alijew sagte "
        "am Montag in Baku, die Förderung steige von 1 Million auf 5 Millionen Tonnen.\"}",
        "{\"text\":\"The State Oil Company of Azerbaijan said output rose 3.5% in 2025.\"}",
        "{\"title\":\"Tom\",\"text\":\"https://example.org\"}",
    };

    for (size_t i = 0; i < sizeof articles / sizeof articles[0]; i++) {
        json_t *a = pipeline_language(alone, 1, articles[i]);
        json_t *b = pipeline_language(all, 3, articles[i]);

        cr_expect(json_equal(a, b), "%s", articles[i]);
        json_decref(a);
        json_decref(b);
    }
}
