/* Fuzz target: the tls parser, fed through the packet path (fuzz-app.h). */
#include "fuzz.h"
#include "fuzz-app.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	return fuzz_app_run(data, size, 6, 443);
}
