/*
 * Per-normalizer fuzz targets: the input is handed straight to one
 * normalizer (not through the syslog header parser), copied to a buffer
 * of its exact length so a read past the end is caught.
 */
#ifndef SOC_FUZZ_LOGNORM_H
#define SOC_FUZZ_LOGNORM_H

#include <stdlib.h>
#include <string.h>

#include "log-int.h"
#include "logparse.h"

static struct soc_event fuzz_ev;

static char *
fuzz_copy(const uint8_t *data, size_t size)
{
	char *p = malloc(size ? size : 1);

	if (p != NULL && size)
		memcpy(p, data, size);
	return p;
}

#endif
