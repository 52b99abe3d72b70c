/*
 * Every fuzz target defines LLVMFuzzerTestOneInput.  Built with clang
 * -fsanitize=fuzzer for `make fuzz`; otherwise linked with driver.c, which
 * replays the corpus and a bounded, seeded mutation run so `make test`
 * exercises each parser under ASan/UBSan with any compiler.
 */
#ifndef SOC_FUZZ_H
#define SOC_FUZZ_H
#include <stddef.h>
#include <stdint.h>
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
#endif
