/* fuzz_numfacts: the numeric-facts grammar (German and English lexicons) on arbitrary valid
 * UTF-8: the stage never fails, and every fact is a well-formed object whose span lies inside
 * the text, on code-point boundaries, and slices back to its `text`. */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "stages/stage.h"
#include "stages/text/text.h"
#include "tests/fuzz/fuzz.h"

extern const struct stage_ops numfacts_stage_ops;

/* The first byte chooses the language (bit 0: de or en) and whether the article has a
 * publication date (bit 1) against which relative dates resolve; the rest is the text. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static void *ctx;
    struct errbuf err = {{0}};
    struct doc doc;
    const char *text;
    size_t len, i;
    json_t *facts, *f;

    if (size < 1)
        return 0;
    text = (const char *)data + 1;
    len = size - 1;
    if (text_validate_utf8(text, len, NULL) != 0)
        return 0;
    if (ctx == NULL)
        FUZZ_CHECK(numfacts_stage_ops.init(&ctx, NULL, &err) == 0);
    memset(&doc, 0, sizeof(doc));
    if (text_field_init(&doc.fields[0], "text", text, len, &err) != 0) {
        text_field_fini(&doc.fields[0]);
        return 0;
    }
    doc.n_fields = 1;
    doc.id = "fuzz";
    doc.published_at = (data[0] & 2) ? "2024-08-12T10:00:00Z" : NULL;
    memcpy(doc.lang, (data[0] & 1) ? "en" : "de", 3);
    doc.enrichment = json_object();
    FUZZ_CHECK(numfacts_stage_ops.process(ctx, &doc, &err) == 0);
    facts = json_object_get(doc.enrichment, "numeric_facts");
    FUZZ_CHECK(json_is_array(facts));
    size_t n_cp = text_count_cp(text, len);
    json_array_foreach(facts, i, f)
    {
        json_t *t = json_object_get(f, "text");
        json_int_t sb = json_integer_value(json_object_get(f, "start_byte"));
        json_int_t eb = json_integer_value(json_object_get(f, "end_byte"));
        json_int_t sc = json_integer_value(json_object_get(f, "start"));
        json_int_t ec = json_integer_value(json_object_get(f, "end"));
        FUZZ_CHECK(json_is_object(f) && json_is_string(t));
        FUZZ_CHECK(json_is_string(json_object_get(f, "kind")));
        FUZZ_CHECK(json_is_string(json_object_get(f, "form")));
        FUZZ_CHECK(0 <= sb && sb < eb && (size_t)eb <= len);
        FUZZ_CHECK(0 <= sc && sc < ec && (size_t)ec <= n_cp);
        FUZZ_CHECK(text_count_cp(text, (size_t)sb) == (size_t)sc);
        FUZZ_CHECK(text_count_cp(text, (size_t)eb) == (size_t)ec);
        FUZZ_CHECK(json_string_length(t) == (size_t)(eb - sb) &&
                   memcmp(json_string_value(t), text + sb, (size_t)(eb - sb)) == 0);
        json_t *v = json_object_get(f, "value");
        FUZZ_CHECK(v == NULL || json_is_null(v) || json_is_string(v) || json_is_object(v) ||
                   (json_is_number(v) && json_number_value(v) == json_number_value(v)));
    }
    char *dump = json_dumps(doc.enrichment, JSON_COMPACT);
    FUZZ_CHECK(dump != NULL);
    free(dump);
    json_decref(doc.enrichment);
    text_field_fini(&doc.fields[0]);
    return 0;
}
