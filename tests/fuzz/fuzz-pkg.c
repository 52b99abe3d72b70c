/*
 * Fuzz target: the SigmaHQ package reader of `socctl rules update`
 * (socctl-pkg.c), which reads a downloaded zip.  Small bounds, so the
 * bound paths are reached too; whatever it keeps must be within them,
 * NUL-terminated and named safely.
 */
#include <stdlib.h>
#include <string.h>

#include "socctl-pkg.h"
#include "fuzz.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pkg_limits lim = { 64, 1 << 16, 1 << 18 };
	struct pkg p;
	char err[512];
	size_t total = 0;

	if (pkg_read(data, size, &lim, &p, err, sizeof(err)) == -1) {
		if (err[0] == '\0' || p.nfiles != 0 || p.files != NULL)
			abort();
		return 0;
	}
	if (p.entries > lim.max_entries || p.prefix == NULL ||
	    p.nunsafe > p.entries)
		abort();
	for (size_t i = 0; i < p.nfiles; i++) {
		const struct pkg_file *f = &p.files[i];

		if (f->len > lim.max_entry || f->data[f->len] != '\0' ||
		    pkg_name_unsafe(f->path) != NULL ||
		    (!f->license && strncmp(f->path, "rules", 5) != 0))
			abort();
		total += f->len;
	}
	if (total > lim.max_total)
		abort();
	for (size_t i = 0; i < p.nunsafe; i++)
		if (p.unsafe[i] == NULL || p.unsafe_why[i] == NULL)
			abort();
	pkg_free(&p);
	return 0;
}
