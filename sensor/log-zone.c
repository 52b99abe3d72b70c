/*
 * Zones of syslog senders (syslog.zones).  An RFC 3164 stamp, or an ISO
 * stamp without an offset, says nothing of its zone: a host in UTC
 * forwarding to a sensor set to Asia/Ho_Chi_Minh would land seven hours
 * in the past.  As rsyslog and syslog-ng do, the zone is given per
 * source: by the sender's address (an address or a CIDR block) or by the
 * host name in the header (a glob, fnmatch(3), case-insensitive); the
 * first rule that matches wins, and a source no rule names keeps the
 * sensor's own zone.
 *
 * The rules are parsed once at start-up from "MATCH ZONE" text; the zone
 * itself (a tzdata name) is resolved by the caller to an offset.
 */
#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "logparse.h"
#include "soc/event.h"

struct logzone {
	int		 by_host;	/* else by sender address */
	struct soc_ip	 net;
	unsigned	 prefix;	/* bits of net that must match */
	char		*glob;
	int32_t		 offset_sec;
};

struct logzones {
	struct logzone	*v;
	size_t		 n;
};

struct logzones *
logzones_new(void)
{
	return calloc(1, sizeof(struct logzones));
}

void
logzones_free(struct logzones *z)
{
	if (z == NULL)
		return;
	for (size_t i = 0; i < z->n; i++)
		free(z->v[i].glob);
	free(z->v);
	free(z);
}

size_t
logzones_count(const struct logzones *z)
{
	return z != NULL ? z->n : 0;
}

/* "ADDR" or "ADDR/BITS" -> net and prefix; -1 if it is neither. */
static int
lz_cidr(const char *s, struct soc_ip *net, unsigned *prefix)
{
	const char *slash = strchr(s, '/');
	size_t len = slash != NULL ? (size_t)(slash - s) : strlen(s);
	unsigned max;
	char *end;
	long bits;

	if (soc_ip_parse(s, len, net) == -1)
		return -1;
	max = net->family == 4 ? 32 : 128;
	*prefix = max;
	if (slash == NULL)
		return 0;
	bits = strtol(slash + 1, &end, 10);
	if (slash[1] == '\0' || *end != '\0' || bits < 0 || bits > (long)max)
		return -1;
	*prefix = (unsigned)bits;
	return 0;
}

int
logzones_add(struct logzones *z, const char *match, int32_t offset_sec,
    char *err, size_t errlen)
{
	struct logzone r = { 0 }, *v;

	if (match[0] == '\0') {
		snprintf(err, errlen, "empty match");
		return -1;
	}
	if (lz_cidr(match, &r.net, &r.prefix) == -1) {
		/* not an address: a host name glob, with no path rules */
		if (strchr(match, '/') != NULL) {
			snprintf(err, errlen, "\"%s\": neither ADDR/BITS nor a "
			    "host name pattern", match);
			return -1;
		}
		if ((r.glob = strdup(match)) == NULL) {
			snprintf(err, errlen, "out of memory");
			return -1;
		}
		r.by_host = 1;
	}
	r.offset_sec = offset_sec;
	if ((v = realloc(z->v, (z->n + 1) * sizeof(*v))) == NULL) {
		free(r.glob);
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	z->v = v;
	z->v[z->n++] = r;
	return 0;
}

static int
lz_in_net(const struct logzone *r, const struct soc_ip *ip)
{
	unsigned full = r->prefix / 8, rest = r->prefix % 8;

	if (ip->family != r->net.family)
		return 0;
	if (memcmp(ip->addr, r->net.addr, full) != 0)
		return 0;
	if (rest == 0)
		return 1;
	return ((ip->addr[full] ^ r->net.addr[full]) &
	    (uint8_t)(0xff << (8 - rest))) == 0;
}

int
logzones_find(const struct logzones *z, const char *addr, const char *host,
    size_t hostlen, int32_t *offset_sec)
{
	struct soc_ip ip;
	char h[256];
	int have_ip = 0, have_host = 0;

	if (z == NULL || z->n == 0)
		return 0;
	if (addr != NULL && soc_ip_parse(addr, strlen(addr), &ip) == 0)
		have_ip = 1;
	/* a name with a NUL in it matches no pattern */
	if (host != NULL && hostlen > 0 && hostlen < sizeof(h) &&
	    memchr(host, '\0', hostlen) == NULL) {
		memcpy(h, host, hostlen);
		h[hostlen] = '\0';
		have_host = 1;
	}
	for (size_t i = 0; i < z->n; i++) {
		const struct logzone *r = &z->v[i];

		if (r->by_host ? have_host && fnmatch(r->glob, h,
		    FNM_CASEFOLD) == 0 : have_ip && lz_in_net(r, &ip)) {
			*offset_sec = r->offset_sec;
			return 1;
		}
	}
	return 0;
}
