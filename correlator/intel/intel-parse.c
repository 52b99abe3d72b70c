/*
 * Indicator files (intel-parse.h).  The JSON formats are read into a
 * small tree (nodes in one array, strings unescaped into one buffer)
 * under fixed bounds on depth and node count, so a hostile document --
 * nesting a million deep, or a "billion laughs" of tiny values -- is
 * refused with a reason instead of exhausting the stack or memory.
 *
 * MISP: the attribute types that carry a matchable value (ip-src,
 * ip-dst, domain, hostname, url, md5, ..., and the composite
 * "domain|ip", "filename|sha256", "ip-dst|port" forms) of attributes
 * flagged to_ids, in the event and in its objects; tags from the event
 * and the attribute.  STIX 2.1: indicator objects whose pattern is one
 * equality on a known object path; anything else is refused by name.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "soc/json.h"
#include "soc/time.h"
#include "intel.h"
#include "intel-parse.h"

/* --- a bounded JSON tree ---------------------------------------------- */

enum { J_NULL, J_FALSE, J_TRUE, J_NUM, J_STR, J_ARR, J_OBJ };

struct jn {
	uint32_t	key, klen;	/* member name in strs (objects) */
	uint32_t	s, slen;	/* string or number text in strs */
	uint32_t	kid, next;	/* node indices + 1; 0 none */
	uint8_t		t;
};

struct jdoc {
	const char	*p, *end;
	struct jn	*n;
	size_t		 nn, ncap;
	char		*strs;
	size_t		 slen, scap;
	const char	*why;
	int		 depth;
};

static void
skip_ws(struct jdoc *d)
{
	while (d->p < d->end && (*d->p == ' ' || *d->p == '\t' ||
	    *d->p == '\n' || *d->p == '\r'))
		d->p++;
}

static long
new_node(struct jdoc *d, int t)
{
	if (d->nn >= INTEL_JSON_NODES)
		return d->why = "too many JSON values (bound "
		    "INTEL_JSON_NODES)", -1;
	if (d->nn == d->ncap) {
		size_t cap = d->ncap ? d->ncap * 2 : 1024;
		struct jn *n = realloc(d->n, cap * sizeof(*n));

		if (n == NULL)
			return d->why = "out of memory", -1;
		d->n = n;
		d->ncap = cap;
	}
	memset(&d->n[d->nn], 0, sizeof(d->n[0]));
	d->n[d->nn].t = (uint8_t)t;
	return (long)d->nn++;
}

static int
str_put(struct jdoc *d, const void *p, size_t n)
{
	if (d->slen + n + 1 > d->scap) {
		size_t cap = d->scap ? d->scap : 4096;
		char *s;

		while (cap < d->slen + n + 1)
			cap *= 2;
		if ((s = realloc(d->strs, cap)) == NULL)
			return d->why = "out of memory", -1;
		d->strs = s;
		d->scap = cap;
	}
	memcpy(d->strs + d->slen, p, n);
	d->slen += n;
	return 0;
}

static int
hex4(const char *p, unsigned *v)
{
	int i;

	*v = 0;
	for (i = 0; i < 4; i++) {
		int c = (unsigned char)p[i];

		*v <<= 4;
		if (c >= '0' && c <= '9') *v |= (unsigned)(c - '0');
		else if (c >= 'a' && c <= 'f') *v |= (unsigned)(c - 'a' + 10);
		else if (c >= 'A' && c <= 'F') *v |= (unsigned)(c - 'A' + 10);
		else return -1;
	}
	return 0;
}

/* A string at d->p (the quote): unescaped into strs; offset and length. */
static int
parse_str(struct jdoc *d, uint32_t *off, uint32_t *len)
{
	const char *p = d->p + 1, *run;
	size_t start = d->slen;

	if (d->slen > 0xfffffff0u)
		return d->why = "document too large", -1;
	for (run = p; ; ) {
		if (p >= d->end)
			return d->why = "unterminated string", -1;
		if (*p == '"')
			break;
		if ((unsigned char)*p < 0x20)
			return d->why = "control byte in string", -1;
		if (*p != '\\') {
			p++;
			continue;
		}
		if (str_put(d, run, (size_t)(p - run)) == -1)
			return -1;
		if (p + 1 >= d->end)
			return d->why = "unterminated string", -1;
		switch (p[1]) {
		case '"': case '\\': case '/':
			if (str_put(d, p + 1, 1) == -1)
				return -1;
			p += 2;
			break;
		case 'b': case 'f': case 'n': case 'r': case 't': {
			static const char from[] = "bfnrt", to[] = "\b\f\n\r\t";
			char c = to[strchr(from, p[1]) - from];

			if (str_put(d, &c, 1) == -1)
				return -1;
			p += 2;
			break;
		}
		case 'u': {
			unsigned cp, lo;
			unsigned char u[4];

			if (d->end - p < 6 || hex4(p + 2, &cp) == -1)
				return d->why = "bad \\u escape", -1;
			p += 6;
			if (cp >= 0xd800 && cp < 0xdc00 && d->end - p >= 6 &&
			    p[0] == '\\' && p[1] == 'u' && hex4(p + 2, &lo) == 0 &&
			    lo >= 0xdc00 && lo < 0xe000) {
				cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
				p += 6;
			} else if (cp >= 0xd800 && cp < 0xe000)
				cp = 0xfffd;
			if (cp == 0)
				cp = 0xfffd;	/* no NUL inside values */
			if (str_put(d, u, soc_utf8_encode(cp, u)) == -1)
				return -1;
			break;
		}
		default:
			return d->why = "bad escape in string", -1;
		}
		run = p;
	}
	if (str_put(d, run, (size_t)(p - run)) == -1 || str_put(d, "", 1) == -1)
		return -1;
	/* the NUL stays behind the string, outside its length */
	*off = (uint32_t)start;
	*len = (uint32_t)(d->slen - 1 - start);
	d->p = p + 1;
	return 0;
}

static long parse_value(struct jdoc *d);

static long
parse_container(struct jdoc *d, int obj)
{
	long self, prev = -1, kid;
	uint32_t ko = 0, kl = 0;

	if (++d->depth > INTEL_JSON_DEPTH)
		return d->why = "JSON nested too deep (bound "
		    "INTEL_JSON_DEPTH)", -1;
	if ((self = new_node(d, obj ? J_OBJ : J_ARR)) < 0)
		return -1;
	d->p++;
	skip_ws(d);
	if (d->p < d->end && *d->p == (obj ? '}' : ']')) {
		d->p++;
		d->depth--;
		return self;
	}
	for (;;) {
		skip_ws(d);
		if (obj) {
			if (d->p >= d->end || *d->p != '"')
				return d->why = "expected a member name", -1;
			if (parse_str(d, &ko, &kl) == -1)
				return -1;
			skip_ws(d);
			if (d->p >= d->end || *d->p != ':')
				return d->why = "expected ':'", -1;
			d->p++;
		}
		if ((kid = parse_value(d)) < 0)
			return -1;
		d->n[kid].key = ko;
		d->n[kid].klen = kl;
		if (prev < 0)
			d->n[self].kid = (uint32_t)kid + 1;
		else
			d->n[prev].next = (uint32_t)kid + 1;
		prev = kid;
		skip_ws(d);
		if (d->p < d->end && *d->p == ',') {
			d->p++;
			continue;
		}
		if (d->p < d->end && *d->p == (obj ? '}' : ']')) {
			d->p++;
			break;
		}
		return d->why = obj ? "expected ',' or '}'" :
		    "expected ',' or ']'", -1;
	}
	d->depth--;
	return self;
}

static long
parse_value(struct jdoc *d)
{
	long i;
	const char *q;

	skip_ws(d);
	if (d->p >= d->end)
		return d->why = "unexpected end of document", -1;
	switch (*d->p) {
	case '{':
		return parse_container(d, 1);
	case '[':
		return parse_container(d, 0);
	case '"':
		if ((i = new_node(d, J_STR)) < 0 ||
		    parse_str(d, &d->n[i].s, &d->n[i].slen) == -1)
			return -1;
		return i;
	case 't':
	case 'f':
	case 'n': {
		static const char *const lit[] = { "true", "false", "null" };
		static const int lt[] = { J_TRUE, J_FALSE, J_NULL };
		int k;

		for (k = 0; k < 3; k++) {
			size_t l = strlen(lit[k]);

			if ((size_t)(d->end - d->p) >= l &&
			    memcmp(d->p, lit[k], l) == 0) {
				d->p += l;
				return new_node(d, lt[k]);
			}
		}
		return d->why = "bad literal", -1;
	}
	}
	for (q = d->p; q < d->end && (isdigit((unsigned char)*q) || *q == '-' ||
	    *q == '+' || *q == '.' || *q == 'e' || *q == 'E'); q++)
		;
	if (q == d->p || q - d->p > 64)
		return d->why = "unexpected character", -1;
	if ((i = new_node(d, J_NUM)) < 0)
		return -1;
	d->n[i].s = (uint32_t)d->slen;
	d->n[i].slen = (uint32_t)(q - d->p);
	if (str_put(d, d->p, (size_t)(q - d->p)) == -1 || str_put(d, "", 1) == -1)
		return -1;
	d->p = q;
	return i;
}

static void
jdoc_free(struct jdoc *d)
{
	free(d->n);
	free(d->strs);
}

/* The root node (index 0), or -1 with the reason in err. */
static int
jdoc_parse(struct jdoc *d, const char *data, size_t len, char *err,
    size_t errlen)
{
	memset(d, 0, sizeof(*d));
	d->p = data;
	d->end = data + len;
	if (len > INTEL_FILE_MAX) {
		snprintf(err, errlen, "file larger than %u MB", INTEL_FILE_MAX >> 20);
		return -1;
	}
	if (parse_value(d) < 0) {
		snprintf(err, errlen, "JSON at byte %zu: %s",
		    (size_t)(d->p - data), d->why);
		jdoc_free(d);
		return -1;
	}
	skip_ws(d);
	if (d->p != d->end) {
		snprintf(err, errlen, "JSON at byte %zu: text after the document",
		    (size_t)(d->p - data));
		jdoc_free(d);
		return -1;
	}
	return 0;
}

#define NODE(d, i)	(&(d)->n[(i) - 1])	/* i: index + 1 */

/* Member k of object o (index + 1), or 0. */
static uint32_t
jget(const struct jdoc *d, uint32_t o, const char *k)
{
	uint32_t c;
	size_t kl = strlen(k);

	if (o == 0 || NODE(d, o)->t != J_OBJ)
		return 0;
	for (c = NODE(d, o)->kid; c != 0; c = NODE(d, c)->next)
		if (NODE(d, c)->klen == kl &&
		    memcmp(d->strs + NODE(d, c)->key, k, kl) == 0)
			return c;
	return 0;
}

/* A string or number member's text, or NULL. */
static const char *
jstr(const struct jdoc *d, uint32_t o, const char *k, size_t *len)
{
	uint32_t c = jget(d, o, k);

	if (c == 0 || (NODE(d, c)->t != J_STR && NODE(d, c)->t != J_NUM))
		return NULL;
	if (len)
		*len = NODE(d, c)->slen;
	return d->strs + NODE(d, c)->s;
}

static int
jtrue(const struct jdoc *d, uint32_t o, const char *k, int def)
{
	uint32_t c = jget(d, o, k);
	const char *s;

	if (c == 0)
		return def;
	if (NODE(d, c)->t == J_TRUE || NODE(d, c)->t == J_FALSE)
		return NODE(d, c)->t == J_TRUE;
	if ((s = jstr(d, o, k, NULL)) != NULL)
		return strcmp(s, "1") == 0 || strcmp(s, "true") == 0;
	return def;
}

/* A time: RFC 3339, or seconds since the epoch as MISP writes them. */
static int64_t
jtime(const struct jdoc *d, uint32_t o, const char *k)
{
	const char *s;
	size_t len;
	int64_t ns;
	char *end;
	long long v;

	if ((s = jstr(d, o, k, &len)) == NULL || len == 0)
		return 0;
	if (isdigit((unsigned char)s[0]) && len <= 12) {
		v = strtoll(s, &end, 10);
		if (*end == '\0' && v > 0 && v < 32503680000LL)
			return v * 1000000000LL;
	}
	return soc_time_parse(s, len, &ns) == 0 && ns > 0 ? ns : 0;
}

/* Appends the names of an array of tags ({"name": ...} or strings). */
static void
add_tags(const struct jdoc *d, uint32_t arr, struct soc_sbuf *b)
{
	uint32_t c;

	if (arr == 0 || NODE(d, arr)->t != J_ARR)
		return;
	for (c = NODE(d, arr)->kid; c != 0; c = NODE(d, c)->next) {
		const char *s = NULL;
		size_t len = 0, i;

		if (NODE(d, c)->t == J_STR) {
			s = d->strs + NODE(d, c)->s;
			len = NODE(d, c)->slen;
		} else
			s = jstr(d, c, "name", &len);
		if (s == NULL || len == 0 || b->len + len + 2 > INTEL_TAGS_MAX)
			continue;
		if (b->len > 0)
			soc_sbuf_add(b, ",", 1);
		for (i = 0; i < len; i++)	/* commas separate tags */
			soc_sbuf_add(b, s[i] == ',' || (unsigned char)s[i] < ' ' ?
			    " " : s + i, 1);
	}
}

/* --- typed lists ------------------------------------------------------- */

int
intel_parse_list(const char *data, size_t len, intel_raw_fn fn, void *arg,
    char *err, size_t errlen)
{
	const char *p = data, *end = data + len, *eol, *t, *te, *v, *ve;
	long line = 0;
	char type[32];

	if (len > INTEL_FILE_MAX) {
		snprintf(err, errlen, "file larger than %u MB", INTEL_FILE_MAX >> 20);
		return -1;
	}
	if (memchr(data, '\0', len) != NULL) {
		snprintf(err, errlen, "NUL byte: not a text file");
		return -1;
	}
	for (; p < end; p = eol + 1) {
		struct intel_raw r = { .type = -1, .confidence = INTEL_CONF_DEFAULT,
		    .tags = "" };

		line++;
		if ((eol = memchr(p, '\n', (size_t)(end - p))) == NULL)
			eol = end;
		for (t = p; t < eol && isspace((unsigned char)*t); t++)
			;
		if (t == eol || *t == '#')
			continue;
		for (te = t; te < eol && !isspace((unsigned char)*te); te++)
			;
		for (v = te; v < eol && isspace((unsigned char)*v); v++)
			;
		/* the value ends at a comment or the line's end */
		for (ve = v; ve < eol && *ve != '#'; ve++)
			;
		while (ve > v && isspace((unsigned char)ve[-1]))
			ve--;
		r.where = line;
		r.value = v;
		r.len = (size_t)(ve - v);
		if ((size_t)(te - t) >= sizeof(type)) {
			r.why = "unknown type";
		} else {
			memcpy(type, t, (size_t)(te - t));
			type[te - t] = '\0';
			if ((r.type = intel_type_parse(type)) < 0 ||
			    r.type == INTEL_X509)
				r.why = "unknown type (ip, cidr, domain, host, url,"
				    " md5, sha1, sha256, email, ja4)";
			else if (r.len == 0)
				r.type = -1, r.why = "no value";
			if (r.why != NULL)
				r.type = -1;
		}
		if (fn(arg, &r) == -1) {
			snprintf(err, errlen, "line %ld: out of memory", line);
			return -1;
		}
	}
	return 0;
}

/* --- STIX 2.1 ------------------------------------------------------------ */

static const struct {
	const char	*path;
	int		 type;
} stix_paths[] = {
	{ "ipv4-addr:value", INTEL_IP },
	{ "ipv6-addr:value", INTEL_IP },
	{ "domain-name:value", INTEL_DOMAIN },
	{ "url:value", INTEL_URL },
	{ "email-addr:value", INTEL_EMAIL },
	{ "email-message:from_ref.value", INTEL_EMAIL },
	{ "file:hashes.md5", INTEL_MD5 },
	{ "file:hashes.'md5'", INTEL_MD5 },
	{ "file:hashes.sha1", INTEL_SHA1 },
	{ "file:hashes.'sha1'", INTEL_SHA1 },
	{ "file:hashes.'sha-1'", INTEL_SHA1 },
	{ "file:hashes.sha256", INTEL_SHA256 },
	{ "file:hashes.'sha256'", INTEL_SHA256 },
	{ "file:hashes.'sha-256'", INTEL_SHA256 },
	{ "x509-certificate:hashes.'sha-1'", INTEL_X509 },
	{ "x509-certificate:hashes.'sha-256'", INTEL_X509 },
	{ "x509-certificate:hashes.sha1", INTEL_X509 },
	{ "x509-certificate:hashes.sha256", INTEL_X509 },
	{ "x509-certificate:hashes.'md5'", INTEL_X509 },
	{ "x509-certificate:hashes.md5", INTEL_X509 },
	{ NULL, 0 }
};

/* The operators and qualifiers refused, by name. */
static const char *const stix_refused[] = {
	"FOLLOWEDBY", "OR", "AND", "WITHIN", "REPEATS", "START", "STOP",
	"NOT", "LIKE", "MATCHES", "ISSUBSET", "ISSUPERSET", "IN", "EXISTS",
	NULL
};

/* Names a refused keyword found outside quotes, or NULL. */
static const char *
stix_keyword(const char *p, size_t len)
{
	size_t i = 0, j;
	int q = 0, k;

	for (i = 0; i < len; i++) {
		if (q) {
			if (p[i] == '\\')
				i++;
			else if (p[i] == '\'')
				q = 0;
			continue;
		}
		if (p[i] == '\'') {
			q = 1;
			continue;
		}
		if (!isalpha((unsigned char)p[i]) || (i > 0 &&
		    (isalnum((unsigned char)p[i - 1]) || p[i - 1] == '_' ||
		    p[i - 1] == '-' || p[i - 1] == '.' || p[i - 1] == ':')))
			continue;
		for (j = i; j < len && isalpha((unsigned char)p[j]); j++)
			;
		for (k = 0; stix_refused[k] != NULL; k++)
			if (strlen(stix_refused[k]) == j - i &&
			    strncmp(p + i, stix_refused[k], j - i) == 0)
				return stix_refused[k];
		i = j;
	}
	return NULL;
}

int
intel_stix_pattern(const char *p, size_t len, int *type, char *val,
    size_t vallen, const char **why)
{
	static char msg[96];
	const char *e = p + len, *kw, *eq, *q;
	char path[128];
	size_t n, i, vn = 0;
	int k;

	if ((kw = stix_keyword(p, len)) != NULL) {
		snprintf(msg, sizeof(msg), "STIX pattern with %s: only one "
		    "equality ([type:path = 'value']) is supported", kw);
		return *why = msg, -1;
	}
	while (p < e && isspace((unsigned char)*p))
		p++;
	while (e > p && isspace((unsigned char)e[-1]))
		e--;
	if (e - p < 2 || *p != '[' || e[-1] != ']')
		return *why = "STIX pattern is not one [comparison]", -1;
	p++;
	e--;
	if ((eq = memchr(p, '=', (size_t)(e - p))) == NULL ||
	    (eq > p && (eq[-1] == '!' || eq[-1] == '<' || eq[-1] == '>')))
		return *why = "STIX pattern without '=' (only equality is "
		    "supported)", -1;
	for (n = 0; p < eq; p++)
		if (!isspace((unsigned char)*p)) {
			if (n + 1 >= sizeof(path))
				return *why = "STIX object path too long", -1;
			path[n++] = (char)tolower((unsigned char)*p);
		}
	path[n] = '\0';
	for (k = 0; stix_paths[k].path != NULL; k++)
		if (strcmp(path, stix_paths[k].path) == 0)
			break;
	if (stix_paths[k].path == NULL)
		return *why = "STIX object path not supported (ipv4-addr, "
		    "ipv6-addr, domain-name, url, email-addr, file hashes, "
		    "x509-certificate hashes)", -1;
	*type = stix_paths[k].type;
	for (q = eq + 1; q < e && isspace((unsigned char)*q); q++)
		;
	if (q >= e || *q != '\'')
		return *why = "STIX pattern value is not a quoted string", -1;
	for (q++; q < e && *q != '\''; q++) {
		if (*q == '\\' && q + 1 < e)
			q++;
		if (vn + 1 >= vallen)
			return *why = "STIX pattern value too long", -1;
		val[vn++] = *q;
	}
	if (q >= e)
		return *why = "STIX pattern value not closed", -1;
	for (i = 1; q + i < e; i++)
		if (!isspace((unsigned char)q[i]))
			return *why = "STIX pattern has more than one "
			    "comparison", -1;
	val[vn] = '\0';
	return 0;
}

static int	stix_doc(struct jdoc *, intel_raw_fn, void *, char *, size_t);
static int	misp_doc(struct jdoc *, intel_raw_fn, void *, char *, size_t);

int
intel_parse_json(const char *data, size_t len, intel_raw_fn fn, void *arg,
    char *err, size_t errlen)
{
	struct jdoc d;
	const char *s;

	if (jdoc_parse(&d, data, len, err, errlen) == -1)
		return -1;
	if ((s = jstr(&d, 1, "type", NULL)) != NULL && strcmp(s, "bundle") == 0)
		return stix_doc(&d, fn, arg, err, errlen);
	if (jget(&d, 1, "Event") != 0)
		return misp_doc(&d, fn, arg, err, errlen);
	jdoc_free(&d);
	snprintf(err, errlen, "neither a STIX bundle (\"type\": \"bundle\") nor"
	    " a MISP event (\"Event\")");
	return -1;
}

int
intel_parse_stix(const char *data, size_t len, intel_raw_fn fn, void *arg,
    char *err, size_t errlen)
{
	struct jdoc d;

	if (jdoc_parse(&d, data, len, err, errlen) == -1)
		return -1;
	return stix_doc(&d, fn, arg, err, errlen);
}

/* A parsed bundle (freed here). */
static int
stix_doc(struct jdoc *dp, intel_raw_fn fn, void *arg, char *err, size_t errlen)
{
	struct jdoc d = *dp;
	struct soc_sbuf tags;
	uint32_t objs, o;
	const char *s, *pat;
	size_t plen;
	long no = 0;
	char val[INTEL_VALUE_MAX];
	int rc = 0;

	if ((s = jstr(&d, 1, "type", NULL)) == NULL || strcmp(s, "bundle") != 0) {
		snprintf(err, errlen, "not a STIX bundle (no \"type\": \"bundle\")");
		jdoc_free(&d);
		return -1;
	}
	if ((objs = jget(&d, 1, "objects")) == 0 || NODE(&d, objs)->t != J_ARR) {
		snprintf(err, errlen, "STIX bundle without \"objects\"");
		jdoc_free(&d);
		return -1;
	}
	soc_sbuf_init(&tags);
	for (o = NODE(&d, objs)->kid; o != 0 && rc == 0; o = NODE(&d, o)->next) {
		struct intel_raw r = { .type = -1, .tags = "",
		    .confidence = INTEL_CONF_DEFAULT, .where = ++no };
		const char *c;

		if ((s = jstr(&d, o, "type", NULL)) == NULL ||
		    strcmp(s, "indicator") != 0)
			continue;	/* identities, relationships, ... */
		if (jtrue(&d, o, "revoked", 0))
			continue;
		if ((s = jstr(&d, o, "pattern_type", NULL)) != NULL &&
		    strcmp(s, "stix") != 0) {
			r.why = "pattern_type is not stix";
		} else if ((pat = jstr(&d, o, "pattern", &plen)) == NULL) {
			r.why = "indicator without a pattern";
		} else if (intel_stix_pattern(pat, plen, &r.type, val,
		    sizeof(val), &r.why) == -1) {
			r.type = -1;
		} else {
			r.value = val;
			r.len = strlen(val);
		}
		soc_sbuf_reset(&tags);
		add_tags(&d, jget(&d, o, "indicator_types"), &tags);
		add_tags(&d, jget(&d, o, "labels"), &tags);
		soc_sbuf_add(&tags, "", 1);
		r.tags = tags.oom ? "" : tags.data;
		if ((c = jstr(&d, o, "confidence", NULL)) != NULL && isdigit(
		    (unsigned char)*c) && atoi(c) <= 100)
			r.confidence = atoi(c);
		r.first_seen = jtime(&d, o, "valid_from");
		r.last_seen = jtime(&d, o, "modified");
		r.expires = jtime(&d, o, "valid_until");
		if (fn(arg, &r) == -1) {
			snprintf(err, errlen, "out of memory");
			rc = -1;
		}
	}
	soc_sbuf_free(&tags);
	jdoc_free(&d);
	return rc;
}

/* --- MISP -------------------------------------------------------------- */

/* MISP attribute types: the type, and which part of "a|b" holds it. */
static const struct {
	const char	*misp;
	int		 type;
	int		 part;		/* 0 whole, 1 left of '|', 2 right */
} misp_types[] = {
	{ "ip-src", INTEL_IP, 0 }, { "ip-dst", INTEL_IP, 0 },
	{ "ip-src|port", INTEL_IP, 1 }, { "ip-dst|port", INTEL_IP, 1 },
	{ "domain", INTEL_DOMAIN, 0 }, { "domain|ip", INTEL_DOMAIN, 1 },
	{ "hostname", INTEL_HOST, 0 }, { "hostname|port", INTEL_HOST, 1 },
	{ "url", INTEL_URL, 0 }, { "uri", INTEL_URL, 0 },
	{ "md5", INTEL_MD5, 0 }, { "sha1", INTEL_SHA1, 0 },
	{ "sha256", INTEL_SHA256, 0 },
	{ "filename|md5", INTEL_MD5, 2 }, { "filename|sha1", INTEL_SHA1, 2 },
	{ "filename|sha256", INTEL_SHA256, 2 },
	{ "email", INTEL_EMAIL, 0 }, { "email-src", INTEL_EMAIL, 0 },
	{ "email-dst", INTEL_EMAIL, 0 },
	{ "ja4", INTEL_JA4, 0 }, { "ja4+", INTEL_JA4, 0 },
	{ "x509-fingerprint-md5", INTEL_X509, 0 },
	{ "x509-fingerprint-sha1", INTEL_X509, 0 },
	{ "x509-fingerprint-sha256", INTEL_X509, 0 },
	{ NULL, 0, 0 }
};

struct misp_ctx {
	const struct jdoc	*d;
	intel_raw_fn		 fn;
	void			*arg;
	struct soc_sbuf		 tags;
	size_t			 evtags;	/* length of the event's tags */
	int			 confidence;
	long			 no;
	int			 failed;
};

static int
misp_one(struct misp_ctx *m, uint32_t a, const char *ty, const char *v,
    size_t vlen, int type)
{
	struct intel_raw r = { .type = type, .confidence = m->confidence,
	    .where = m->no, .value = v, .len = vlen };

	m->tags.len = m->evtags;
	add_tags(m->d, jget(m->d, a, "Tag"), &m->tags);
	soc_sbuf_add(&m->tags, "", 1);
	r.tags = m->tags.oom ? "" : m->tags.data;
	r.first_seen = jtime(m->d, a, "first_seen");
	r.last_seen = jtime(m->d, a, "last_seen");
	if (r.last_seen == 0)
		r.last_seen = jtime(m->d, a, "timestamp");
	(void)ty;
	return m->fn(m->arg, &r);
}

static void
misp_attrs(struct misp_ctx *m, uint32_t arr)
{
	const struct jdoc *d = m->d;
	uint32_t a;

	if (arr == 0 || NODE(d, arr)->t != J_ARR)
		return;
	for (a = NODE(d, arr)->kid; a != 0 && !m->failed; a = NODE(d, a)->next) {
		const char *ty, *v, *bar;
		size_t vlen;
		int k;

		m->no++;
		if ((ty = jstr(d, a, "type", NULL)) == NULL ||
		    (v = jstr(d, a, "value", &vlen)) == NULL)
			continue;
		if (!jtrue(d, a, "to_ids", 1) || jtrue(d, a, "deleted", 0))
			continue;	/* context, not for detection */
		for (k = 0; misp_types[k].misp != NULL; k++)
			if (strcmp(ty, misp_types[k].misp) == 0)
				break;
		if (misp_types[k].misp == NULL)
			continue;	/* a type nothing here can match */
		if (misp_types[k].part != 0) {
			if ((bar = memchr(v, '|', vlen)) == NULL)
				continue;
			if (misp_types[k].part == 1)
				vlen = (size_t)(bar - v);
			else {
				vlen -= (size_t)(bar - v) + 1;
				v = bar + 1;
			}
		}
		if (misp_one(m, a, ty, v, vlen, misp_types[k].type) == -1)
			m->failed = 1;
		/* domain|ip: the address too */
		if (strcmp(ty, "domain|ip") == 0 &&
		    (bar = memchr(v, '|', jstr(d, a, "value", &vlen) ? vlen : 0))) {
			const char *full = jstr(d, a, "value", &vlen);

			bar = memchr(full, '|', vlen);
			if (misp_one(m, a, ty, bar + 1,
			    vlen - (size_t)(bar - full) - 1, INTEL_IP) == -1)
				m->failed = 1;
		}
	}
}

int
intel_parse_misp_event(const char *data, size_t len, intel_raw_fn fn,
    void *arg, char *err, size_t errlen)
{
	struct jdoc d;

	if (jdoc_parse(&d, data, len, err, errlen) == -1)
		return -1;
	return misp_doc(&d, fn, arg, err, errlen);
}

/* A parsed event (freed here). */
static int
misp_doc(struct jdoc *dp, intel_raw_fn fn, void *arg, char *err, size_t errlen)
{
	struct jdoc d = *dp;
	struct misp_ctx m;
	uint32_t ev, o;
	const char *tl;

	if ((ev = jget(&d, 1, "Event")) == 0 || NODE(&d, ev)->t != J_OBJ) {
		snprintf(err, errlen, "not a MISP event (no \"Event\" object)");
		jdoc_free(&d);
		return -1;
	}
	memset(&m, 0, sizeof(m));
	m.d = &d;
	m.fn = fn;
	m.arg = arg;
	soc_sbuf_init(&m.tags);
	add_tags(&d, jget(&d, ev, "Tag"), &m.tags);
	m.evtags = m.tags.len;
	/* threat level 1 high .. 4 undefined */
	m.confidence = INTEL_CONF_DEFAULT;
	if ((tl = jstr(&d, ev, "threat_level_id", NULL)) != NULL)
		switch (atoi(tl)) {
		case 1: m.confidence = 90; break;
		case 2: m.confidence = 70; break;
		case 3: m.confidence = 50; break;
		case 4: m.confidence = 30; break;
		}
	misp_attrs(&m, jget(&d, ev, "Attribute"));
	if ((o = jget(&d, ev, "Object")) != 0 && NODE(&d, o)->t == J_ARR)
		for (o = NODE(&d, o)->kid; o != 0 && !m.failed;
		    o = NODE(&d, o)->next)
			misp_attrs(&m, jget(&d, o, "Attribute"));
	soc_sbuf_free(&m.tags);
	jdoc_free(&d);
	if (m.failed) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	return 0;
}

int
intel_parse_misp_manifest(const char *data, size_t len,
    int (*fn)(void *arg, const char *uuid), void *arg, char *err,
    size_t errlen)
{
	struct jdoc d;
	uint32_t c;
	int rc = 0;

	if (jdoc_parse(&d, data, len, err, errlen) == -1)
		return -1;
	if (NODE(&d, 1)->t != J_OBJ) {
		snprintf(err, errlen, "manifest.json is not an object of events");
		jdoc_free(&d);
		return -1;
	}
	for (c = NODE(&d, 1)->kid; c != 0 && rc == 0; c = NODE(&d, c)->next) {
		const char *u = d.strs + NODE(&d, c)->key;
		size_t i, n = NODE(&d, c)->klen;

		for (i = 0; i < n; i++)
			if (!isxdigit((unsigned char)u[i]) && u[i] != '-')
				break;
		if (n == 0 || n > 64 || i < n) {
			snprintf(err, errlen, "manifest.json: \"%.64s\" is not "
			    "an event uuid", u);
			rc = -1;
			break;
		}
		rc = fn(arg, u);	/* fn says why in err if it must */
	}
	jdoc_free(&d);
	return rc;
}
