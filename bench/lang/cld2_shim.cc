// cld2_shim: a C entry point to CLD2 (best effort) for the language benchmark.
#include <cstdio>
#include <cstring>

#include <cld2/public/compact_lang_det.h>
#include <cld2/public/encodings.h>

extern "C" const char *bench_cld2_detect(const char *buf, int len);

extern "C" const char *bench_cld2_detect(const char *buf, int len)
{
    CLD2::CLDHints hints = {nullptr, nullptr, CLD2::UNKNOWN_ENCODING, CLD2::UNKNOWN_LANGUAGE};
    CLD2::Language lang3[3];
    int percent3[3], text_bytes = 0;
    double score3[3];
    bool reliable = false;
    CLD2::Language l = CLD2::ExtDetectLanguageSummary(buf, len, true, &hints,
                                                      CLD2::kCLDFlagBestEffort, lang3, percent3,
                                                      score3, nullptr, &text_bytes, &reliable);
    const char *code = CLD2::LanguageCode(l);

    if (std::strcmp(code, "iw") == 0)
        return "he";
    if (std::strcmp(code, "no") == 0)
        return "nb";
    if (std::strncmp(code, "zh", 2) == 0)
        return "zh";
    if (std::strcmp(code, "un") == 0)
        return "und";
    return code;
}
