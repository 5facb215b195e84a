/* fuzz: the libFuzzer entry point every target in tests/fuzz/ defines. */
#ifndef ENRICHD_TESTS_FUZZ_FUZZ_H
#define ENRICHD_TESTS_FUZZ_FUZZ_H

#include <stddef.h>
#include <stdint.h>

/* Runs one input data[0..size) (borrowed) through the target; aborts on a broken invariant.
 * Returns 0 (libFuzzer reserves other values). */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Aborts with a message naming the broken invariant and the source line. */
#define FUZZ_CHECK(cond)                                                                        \
    do {                                                                                        \
        if (!(cond))                                                                            \
            fuzz_fail(__FILE__, __LINE__, #cond);                                               \
    } while (0)

void fuzz_fail(const char *file, int line, const char *what) __attribute__((noreturn));

#endif
