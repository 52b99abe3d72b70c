/*
 * Fuzz target for the log normalizers: the input is parsed once as a
 * single line and then split on newlines as several lines, each copied
 * to a buffer of its exact length so a read past the end is caught.  The
 * first byte also picks one of a few reception clocks, including the
 * extremes, to cover the RFC 3164 year inference, and one with
 * syslog.zones rules (address blocks and host name globs matched against
 * the header's host).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "logparse.h"
#include "soc/event.h"

static struct soc_event ev;

static struct logparse_ctx ctxs[] = {
	{ .now_ns = 1798761600000000000LL, .path = "/var/log/auth.log",
	  .tz_offset_sec = 25200 },			/* 2027-01-01 */
	{ .now_ns = 1764212400000000000LL },		/* 2025-11-27 */
	{ .now_ns = INT64_MAX, .tz_offset_sec = 86399 },
	{ .now_ns = INT64_MIN, .tz_offset_sec = -86399 },
	{ .now_ns = 1798761600000000000LL, .source_addr = "10.20.1.2",
	  .tz_offset_sec = 25200 },			/* zones: see below */
};

static struct logzones *zones;

static void
zones_init(void)
{
	static const struct {
		const char	*match;
		int32_t		 off;
	} rules[] = {
		{ "*[a-f]?.example.*", 0 }, { "[!w]*", 3600 },
		{ "10.20.0.0/16", -36000 }, { "::ffff:0:0/96", 50400 },
		{ "*", -50400 },
	};
	char err[128];

	if (zones != NULL || (zones = logzones_new()) == NULL)
		return;
	for (size_t i = 0; i < sizeof(rules) / sizeof(rules[0]); i++)
		(void)logzones_add(zones, rules[i].match, rules[i].off, err,
		    sizeof(err));
	ctxs[sizeof(ctxs) / sizeof(ctxs[0]) - 1].zones = zones;
}

static void
parse_copy(const struct logparse_ctx *ctx, const uint8_t *p, size_t n)
{
	char *copy = malloc(n > 0 ? n : 1);

	if (copy == NULL)
		return;
	if (n > 0)
		memcpy(copy, p, n);
	(void)log_syslog_parse(ctx, copy, n, &ev);
	free(copy);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const struct logparse_ctx *ctx;
	const uint8_t *nl;
	size_t pos = 0, n;

	zones_init();
	ctx = &ctxs[size > 0 ? data[0] % (sizeof(ctxs) / sizeof(ctxs[0])) : 0];
	parse_copy(ctx, data, size);
	while (pos < size) {
		nl = memchr(data + pos, '\n', size - pos);
		n = nl != NULL ? (size_t)(nl - (data + pos)) : size - pos;
		if (n > 0 && data[pos + n - 1] == '\r')
			parse_copy(ctx, data + pos, n - 1);
		else
			parse_copy(ctx, data + pos, n);
		pos += n + 1;
	}
	return 0;
}
