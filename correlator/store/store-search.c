/*
 * The store's search and the leadership report: `socctl incidents` with
 * its filters and `socctl report`.  Unlike the fixed statements of the
 * other store files, these are built per call from the filters asked
 * for, so each query only carries the conditions it needs; every value
 * is bound as a parameter, never pasted into the SQL text.
 *
 * What the filters read:
 *  - agencies: a recursive walk down agencies.parent, so a province's
 *    code finds every sub-agency's incidents;
 *  - --text: incident_fts (schema version 2, store.c), FTS5 over title
 *    and group key, accents folded; and the evidence events' text;
 *  - --ip: the source.ip / destination.ip of the group key and of the
 *    evidence events, compared as 16 bytes (IPv4 as ::ffff:a.b.c.d) by
 *    functions registered on the connection here;
 *  - --country: source.geo.country_iso_code of the evidence events, as
 *    the correlator's GeoIP enrichment wrote it;
 *  - --category and --overdue: the incidents.category column and the
 *    incident_deadlines table or view, which other parts of the schema
 *    provide; a database with neither says so instead of answering with
 *    an empty list.
 *
 * Evidence is read at query time, not indexed when written: indexing
 * every evidence event (its addresses in a side table and its words in
 * FTS5) measured 10 to 15 times the cost of writing the event, in the
 * correlator's hot path, where an alert storm can least afford it; the
 * evidence kept is bounded per incident, and a cheap substring test
 * (instr) on the raw JSON runs before any JSON is parsed, so a search
 * stays a scan of text the database already holds.
 *
 * Rows are found here and read through store_incident_get(), so a list
 * shows the same fields as `incident show`.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "store-int.h"
#include "soc/json.h"

#define SEARCH_WORDS	16
#define QB_MAXBIND	(STORE_SEARCH_AGENCIES + 2 * SEARCH_WORDS + 32)

/* A query being built: its text and its values, bound in order. */
struct qb {
	struct soc_sbuf	 sql;
	struct {
		int		 type;	/* SQLITE_TEXT, SQLITE_INTEGER, SQLITE_BLOB */
		const char	*s;
		int64_t		 i;
		int		 len;	/* blob */
	} v[QB_MAXBIND];
	int		 n;
};

static void
qb_text(struct qb *q, const char *s)
{
	if (q->n < QB_MAXBIND) {
		q->v[q->n].type = SQLITE_TEXT;
		q->v[q->n++].s = s;
	}
}

static void
qb_int(struct qb *q, int64_t i)
{
	if (q->n < QB_MAXBIND) {
		q->v[q->n].type = SQLITE_INTEGER;
		q->v[q->n++].i = i;
	}
}

static void
qb_blob(struct qb *q, const void *p, int len)
{
	if (q->n < QB_MAXBIND) {
		q->v[q->n].type = SQLITE_BLOB;
		q->v[q->n].s = p;
		q->v[q->n++].len = len;
	}
}

/* Prepares the query and binds its values; NULL with the reason set. */
static sqlite3_stmt *
qb_prepare(struct store *st, struct qb *q)
{
	sqlite3_stmt *s;
	int i, rc = SQLITE_OK;

	if (q->sql.oom || q->n >= QB_MAXBIND) {
		store_seterr(st, "search: query too large");
		return NULL;
	}
	if (sqlite3_prepare_v2(st->db, q->sql.data, -1, &s, NULL) != SQLITE_OK) {
		store_sqlerr(st, "search");
		return NULL;
	}
	for (i = 0; i < q->n && rc == SQLITE_OK; i++) {
		if (q->v[i].type == SQLITE_TEXT)
			rc = sqlite3_bind_text(s, i + 1, q->v[i].s, -1, SQLITE_STATIC);
		else if (q->v[i].type == SQLITE_BLOB)
			rc = sqlite3_bind_blob(s, i + 1, q->v[i].s, q->v[i].len,
			    SQLITE_STATIC);
		else
			rc = sqlite3_bind_int64(s, i + 1, q->v[i].i);
	}
	if (rc != SQLITE_OK || sqlite3_bind_parameter_count(s) != q->n) {
		store_seterr(st, "search: %d values for %d parameters", q->n,
		    sqlite3_bind_parameter_count(s));
		sqlite3_finalize(s);
		return NULL;
	}
	return s;
}

/* ---- addresses ---- */

/* Parses an address as 16 bytes (IPv4 mapped into IPv6).  0 / -1. */
static int
ip_parse16(const char *s, size_t len, unsigned char out[16])
{
	char buf[INET6_ADDRSTRLEN + 1];

	if (len == 0 || len >= sizeof(buf))
		return -1;
	memcpy(buf, s, len);
	buf[len] = '\0';
	if (inet_pton(AF_INET, buf, out + 12) == 1) {
		memset(out, 0, 10);
		out[10] = out[11] = 0xff;
		return 0;
	}
	return inet_pton(AF_INET6, buf, out) == 1 ? 0 : -1;
}

/* ADDR or ADDR/BITS: the network (host bits cleared) and its prefix
 * length in 128-bit terms.  0 / -1. */
static int
cidr_parse(const char *s, unsigned char net[16], int *bits)
{
	const char *slash = strchr(s, '/');
	size_t len = slash ? (size_t)(slash - s) : strlen(s);
	int v4, b, i;
	char *end;
	long l;

	if (ip_parse16(s, len, net) == -1)
		return -1;
	v4 = memchr(s, ':', len) == NULL;
	b = v4 ? 32 : 128;
	if (slash != NULL) {
		l = strtol(slash + 1, &end, 10);
		if (end == slash + 1 || *end != '\0' || l < 0 || l > b)
			return -1;
		b = (int)l;
	}
	*bits = v4 ? b + 96 : b;
	for (i = 0; i < 16; i++) {
		int keep = *bits - i * 8;

		if (keep <= 0)
			net[i] = 0;
		else if (keep < 8)
			net[i] &= (unsigned char)(0xff << (8 - keep));
	}
	return 0;
}

/* 1 if the 16-byte address a is in net/bits. */
static int
ip_in(const unsigned char *a, const unsigned char *net, int bits)
{
	int i, keep;

	for (i = 0; i < 16; i++) {
		keep = bits - i * 8;
		if (keep <= 0)
			return 1;
		if (keep < 8)
			return ((a[i] ^ net[i]) & (0xff << (8 - keep)) & 0xff) == 0;
		if (a[i] != net[i])
			return 0;
	}
	return 1;
}

/* soc_ip_in(ip TEXT, net BLOB(16), bits INT): 1 if ip is in net/bits. */
static void
sql_ip_in(sqlite3_context *cx, int argc, sqlite3_value **argv)
{
	const unsigned char *ip = sqlite3_value_text(argv[0]);
	const unsigned char *net = sqlite3_value_blob(argv[1]);
	unsigned char a[16];

	(void)argc;
	sqlite3_result_int(cx, ip != NULL && net != NULL &&
	    sqlite3_value_bytes(argv[1]) == 16 &&
	    ip_parse16((const char *)ip, strlen((const char *)ip), a) == 0 &&
	    ip_in(a, net, sqlite3_value_int(argv[2])));
}

/*
 * soc_key_ip_in(group_key TEXT, net BLOB(16), bits INT): 1 if the
 * source.ip or destination.ip of a group key ("source.ip=A,user.name=u")
 * is in net/bits.
 */
static void
sql_key_ip_in(sqlite3_context *cx, int argc, sqlite3_value **argv)
{
	static const char *const fields[] = { "source.ip=", "destination.ip=" };
	const char *gk = (const char *)sqlite3_value_text(argv[0]), *p, *v, *e;
	const unsigned char *net = sqlite3_value_blob(argv[1]);
	unsigned char a[16];
	size_t i, n;

	(void)argc;
	if (gk == NULL || net == NULL || sqlite3_value_bytes(argv[1]) != 16) {
		sqlite3_result_int(cx, 0);
		return;
	}
	for (p = gk; *p != '\0'; p = *e ? e + 1 : e) {
		if ((e = strchr(p, ',')) == NULL)
			e = p + strlen(p);
		for (i = 0; i < 2; i++) {
			n = strlen(fields[i]);
			if ((size_t)(e - p) <= n || strncmp(p, fields[i], n) != 0)
				continue;
			v = p + n;
			if (ip_parse16(v, (size_t)(e - v), a) == 0 &&
			    ip_in(a, net, sqlite3_value_int(argv[2]))) {
				sqlite3_result_int(cx, 1);
				return;
			}
		}
	}
	sqlite3_result_int(cx, 0);
}

/* soc_contains(text, word): 1 if word is in text, ASCII case folded. */
static void
sql_contains(sqlite3_context *cx, int argc, sqlite3_value **argv)
{
	const char *t = (const char *)sqlite3_value_text(argv[0]);
	const char *w = (const char *)sqlite3_value_text(argv[1]);

	(void)argc;
	sqlite3_result_int(cx, t != NULL && w != NULL && strcasestr(t, w) != NULL);
}

static int
functions_register(struct store *st)
{
	static const struct {
		const char	*name;
		int		 nargs;
		void		(*fn)(sqlite3_context *, int, sqlite3_value **);
	} f[] = {
		{ "soc_ip_in", 3, sql_ip_in },
		{ "soc_key_ip_in", 3, sql_key_ip_in },
		{ "soc_contains", 2, sql_contains },
	};
	size_t i;

	for (i = 0; i < sizeof(f) / sizeof(f[0]); i++) {
		if (sqlite3_create_function(st->db, f[i].name, f[i].nargs,
		    SQLITE_UTF8 | SQLITE_DETERMINISTIC, NULL, f[i].fn, NULL,
		    NULL) != SQLITE_OK) {
			store_sqlerr(st, "search");
			return -1;
		}
	}
	return 0;
}

/*
 * The text every IPv4 address in net/bits starts with as the sensor
 * writes it ("10.1." for 10.1.0.0/16): a cheap instr() test that rules
 * out most evidence before its JSON is parsed.  "" (no test) for IPv6,
 * whose text forms vary, and for prefixes shorter than an octet.
 */
static void
ip_prefix_text(const unsigned char net[16], int bits, char *out, size_t len)
{
	static const unsigned char v4[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	    0xff, 0xff };
	int octets = (bits - 96) / 8, i;
	size_t n = 0;

	out[0] = '\0';
	if (bits < 104 || memcmp(net, v4, 12) != 0)
		return;
	for (i = 0; i < octets && i < 4; i++)
		n += (size_t)snprintf(out + n, len - n, "%u%s", net[12 + i],
		    i < 3 ? "." : "");
	if (octets == 4)	/* the whole address: it ends in a quote */
		snprintf(out + n, len - n, "\"");
}

/* ---- schema probes ---- */

static int
probe(struct store *st, const char *sql)
{
	sqlite3_stmt *s;
	int rc;

	if (sqlite3_prepare_v2(st->db, sql, -1, &s, NULL) != SQLITE_OK) {
		store_sqlerr(st, "schema probe");
		return -1;
	}
	rc = sqlite3_step(s);
	sqlite3_finalize(s);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
		store_sqlerr(st, "schema probe");
		return -1;
	}
	return rc == SQLITE_ROW;
}

int
store_search_has_category(struct store *st)
{
	return probe(st, "SELECT 1 FROM pragma_table_info('incidents')"
	    " WHERE name = 'category'");
}

int
store_search_has_deadlines(struct store *st)
{
	return probe(st, "SELECT 1 FROM sqlite_schema WHERE name ="
	    " 'incident_deadlines' AND type IN ('table', 'view')");
}

/* ---- the incident search ---- */

static const char *const sort_names[] = {
	"updated", "created", "last_seen", "severity"
};
static const char *const sort_sql[] = {
	" ORDER BY i.updated_at DESC, i.id DESC",
	" ORDER BY i.created_at DESC, i.id DESC",
	" ORDER BY i.last_seen DESC, i.id DESC",
	" ORDER BY i.severity DESC, i.last_seen DESC, i.id DESC",
};

int
store_sort_parse(const char *s)
{
	size_t i;

	for (i = 0; i < sizeof(sort_names) / sizeof(sort_names[0]); i++)
		if (strcmp(s, sort_names[i]) == 0)
			return (int)i;
	if (strcmp(s, "last-seen") == 0)
		return STORE_SORT_LAST_SEEN;
	return -1;
}

void
store_search_init(struct store_search *q)
{
	memset(q, 0, sizeof(*q));
	q->status = -1;
	q->sort = STORE_SORT_UPDATED;
}

/* Scratch space for values derived from the filters (kept alive until
 * the statement is done). */
struct search_buf {
	unsigned char	 net[16];
	int		 bits;
	char		 ip_pre[24];	/* text every address in net starts with */
	char		 like[512];
	char		 country[8];
	char		 cc_pre[40];	/* "country_iso_code":"CC" */
	struct soc_sbuf	 fts;		/* the --text words, NUL-separated */
	int		 nwords;
	/* --agency on a national database: a provincial agency code (1),
	 * or PROVINCE/AGENCY (2); 0 an agency here */
	int		 prov[STORE_SEARCH_AGENCIES];
	char		 pname[STORE_SEARCH_AGENCIES][128];
	char		 pcode[STORE_SEARCH_AGENCIES][64];
};

/*
 * Appends word as an FTS5 phrase ("a", doubled quotes inside, so nothing
 * in it is an operator), with each of its first ASCII 'd's as 'đ' too
 * when mask says so: unicode61 folds accents (ă, ậ) but keeps đ a letter
 * of its own, and a Vietnamese title is typed without accents as often
 * as with.
 */
static void
fts_phrase(struct soc_sbuf *b, const char *w, size_t len, unsigned mask)
{
	size_t i;
	int nd = 0;

	soc_sbuf_adds(b, "\"");
	for (i = 0; i < len; i++) {
		if ((w[i] == 'd' || w[i] == 'D') && nd < 3 && (mask & (1u << nd++)))
			soc_sbuf_adds(b, "\xc4\x91");		/* đ */
		else if (w[i] == '"')
			soc_sbuf_adds(b, "\"\"");
		else
			soc_sbuf_add(b, &w[i], 1);
	}
	soc_sbuf_adds(b, "\"");
}

/*
 * Splits text into words, each kept twice in b, NUL-terminated: as an
 * FTS5 query (its phrase, OR the đ spellings) and as typed (for the
 * evidence).  Returns the number of words, -1 for none or too many.
 */
static int
fts_words(struct soc_sbuf *b, const char *text)
{
	const char *p = text, *w, *c;
	unsigned mask, nvar;
	int n = 0, nd;

	while (*p != '\0') {
		while (isspace((unsigned char)*p))
			p++;
		if (*p == '\0')
			break;
		for (w = p; *p != '\0' && !isspace((unsigned char)*p); p++)
			;
		for (c = w, nd = 0; c < p; c++)
			nd += *c == 'd' || *c == 'D';
		nvar = 1u << (nd < 3 ? nd : 3);
		for (mask = 0; mask < nvar; mask++) {
			if (mask > 0)
				soc_sbuf_adds(b, " OR ");
			fts_phrase(b, w, (size_t)(p - w), mask);
		}
		soc_sbuf_add(b, "", 1);
		soc_sbuf_add(b, w, (size_t)(p - w));
		soc_sbuf_add(b, "", 1);
		n++;
	}
	return n > 0 && n <= SEARCH_WORDS && !b->oom ? n : -1;
}

/* LIKE pattern "%text%" with % _ and \ escaped. */
static int
like_pattern(char *out, size_t len, const char *s)
{
	size_t o = 0;

	out[o++] = '%';
	for (; *s != '\0'; s++) {
		if (o + 4 >= len)
			return -1;
		if (*s == '%' || *s == '_' || *s == '\\')
			out[o++] = '\\';
		out[o++] = *s;
	}
	out[o++] = '%';
	out[o] = '\0';
	return 0;
}

/*
 * On a national database, a provincial agency code a province forwarded
 * (province_agencies): "AGENCY" when one province named it, or
 * "PROVINCE/AGENCY" (PROVINCE the province key's name or its agency
 * here).  1 found (sb filled), 0 not, -1 (ambiguous: the reason set).
 */
static int
provincial(struct store *st, const char *code, struct search_buf *sb, size_t i)
{
	const char *slash = strchr(code, '/');
	sqlite3_stmt *s;
	int64_t n = 0;
	int rc;

	if (slash != NULL) {
		snprintf(sb->pname[i], sizeof(sb->pname[i]), "%.*s",
		    (int)(slash - code), code);
		snprintf(sb->pcode[i], sizeof(sb->pcode[i]), "%s", slash + 1);
	} else
		snprintf(sb->pcode[i], sizeof(sb->pcode[i]), "%s", code);
	if (sqlite3_prepare_v2(st->db, "SELECT count(DISTINCT p.name) FROM"
	    " (SELECT name, agency FROM province_agencies UNION SELECT"
	    " province, code FROM province_tree) p WHERE p.agency = ?1 AND"
	    " (?2 IS NULL OR p.name = ?2 OR p.name IN (SELECT name FROM sensors"
	    " WHERE agency = ?2))",
	    -1, &s, NULL) != SQLITE_OK) {
		store_sqlerr(st, "agency");
		return -1;
	}
	bind_str(s, 1, sb->pcode[i]);
	bind_str(s, 2, slash != NULL ? sb->pname[i] : NULL);
	if ((rc = sqlite3_step(s)) == SQLITE_ROW)
		n = sqlite3_column_int64(s, 0);
	sqlite3_finalize(s);
	if (rc != SQLITE_ROW) {
		store_sqlerr(st, "agency");
		return -1;
	}
	if (n > 1) {
		store_seterr(st, "agency '%s' was forwarded by %lld provinces:"
		    " give PROVINCE/%s", code, (long long)n, code);
		return -1;
	}
	sb->prov[i] = slash != NULL ? 2 : 1;
	return n == 1;
}

/* Checks that every agency exists: an unknown code is an error. */
static int
agencies_check(struct store *st, const struct store_search *q,
    struct search_buf *sb)
{
	size_t i;
	int rc;

	if (q->nagencies > STORE_SEARCH_AGENCIES) {
		store_seterr(st, "at most %d agencies", STORE_SEARCH_AGENCIES);
		return -1;
	}
	for (i = 0; i < q->nagencies; i++) {
		if ((rc = store_agency_exists(st, q->agencies[i])) == -1)
			return -1;
		if (rc == 0 && (rc = provincial(st, q->agencies[i], sb, i)) == -1)
			return -1;
		if (rc == 0) {
			store_seterr(st, "unknown agency '%s' (see `socctl agency"
			    " list`)", q->agencies[i]);
			return -1;
		}
	}
	return 0;
}

/* The filters that need a value worked out first; -1 with a reason. */
static int
search_prepare_values(struct store *st, const struct store_search *q,
    struct search_buf *sb)
{
	size_t i;
	int rc;

	if (q->ip != NULL && cidr_parse(q->ip, sb->net, &sb->bits) == -1) {
		store_seterr(st, "'%s' is not an IP address or CIDR (192.0.2.7,"
		    " 198.51.100.0/24, 2001:db8::/32)", q->ip);
		return -1;
	}
	if (q->ip != NULL)
		ip_prefix_text(sb->net, sb->bits, sb->ip_pre, sizeof(sb->ip_pre));
	if (q->rule != NULL && like_pattern(sb->like, sizeof(sb->like),
	    q->rule) == -1) {
		store_seterr(st, "--rule text too long");
		return -1;
	}
	if (q->country != NULL) {
		for (i = 0; q->country[i] != '\0' && i < sizeof(sb->country) - 1; i++)
			sb->country[i] = (char)toupper((unsigned char)q->country[i]);
		sb->country[i] = '\0';
		if (i != 2 || q->country[2] != '\0') {
			store_seterr(st, "'%s' is not a two-letter country code"
			    " (VN, US)", q->country);
			return -1;
		}
		snprintf(sb->cc_pre, sizeof(sb->cc_pre),
		    "\"country_iso_code\":\"%s\"", sb->country);
	}
	if (q->text != NULL &&
	    (sb->nwords = fts_words(&sb->fts, q->text)) == -1) {
		store_seterr(st, "--text needs one to %d words", SEARCH_WORDS);
		return -1;
	}
	if (q->category != NULL &&
	    (rc = store_search_has_category(st)) != 1) {
		if (rc == 0)
			store_seterr(st, "this database keeps no incident"
			    " categories");
		return -1;
	}
	if (q->overdue && (rc = store_search_has_deadlines(st)) != 1) {
		if (rc == 0)
			store_seterr(st, "this database keeps no reporting"
			    " deadlines (no incident_deadlines)");
		return -1;
	}
	return 0;
}

/* Appends the WITH clause selecting q's agencies and their subtrees. */
static void
search_scope(struct qb *b, const struct store_search *q)
{
	size_t i;

	soc_sbuf_adds(&b->sql, "WITH RECURSIVE scope(code) AS (SELECT code"
	    " FROM agencies WHERE code IN (");
	for (i = 0; i < q->nagencies; i++) {
		soc_sbuf_adds(&b->sql, i ? ", ?" : "?");
		qb_text(b, q->agencies[i]);
	}
	soc_sbuf_adds(&b->sql, ") UNION SELECT a.code FROM agencies a"
	    " JOIN scope s ON a.parent = s.code) ");
}

static void
search_where(struct qb *b, const struct store_search *q,
    const struct search_buf *sb)
{
	struct soc_sbuf *w = &b->sql;
	const char *word;
	int k;

	if (q->nagencies > 0) {
		soc_sbuf_adds(w, " AND (i.agency IN (SELECT code FROM scope)");
		for (k = 0; k < (int)q->nagencies; k++) {
			if (sb->prov[k] == 0)
				continue;
			/* the code and the codes below it in the tree the
			 * province's alerts described (province_tree) */
			soc_sbuf_adds(w, " OR EXISTS (WITH RECURSIVE"
			    " sub(p, c) AS (SELECT DISTINCT name, ? FROM"
			    " (SELECT name, agency FROM province_agencies UNION"
			    " SELECT province, code FROM province_tree) WHERE"
			    " agency = ?");
			qb_text(b, sb->pcode[k]);
			qb_text(b, sb->pcode[k]);
			if (sb->prov[k] == 2) {
				soc_sbuf_adds(w, " AND (name = ? OR name IN"
				    " (SELECT name FROM sensors WHERE agency ="
				    " ?))");
				qb_text(b, sb->pname[k]);
				qb_text(b, sb->pname[k]);
			}
			soc_sbuf_adds(w, " UNION SELECT t.province, t.code FROM"
			    " province_tree t JOIN sub ON t.province = sub.p"
			    " AND t.parent = sub.c) SELECT 1 FROM sub WHERE"
			    " sub.p = i.origin_name AND sub.c = i.origin_agency)");
		}
		soc_sbuf_adds(w, ")");
	}
	if (q->status >= 0) {
		soc_sbuf_adds(w, " AND i.status = ?");
		qb_text(b, store_status_name(q->status));
	}
	if (q->open_only)
		soc_sbuf_adds(w, " AND i.status IN " OPEN_SQL);
	if (q->closed_only)
		soc_sbuf_adds(w, " AND i.status NOT IN " OPEN_SQL);
	if (q->min_severity > 0) {
		soc_sbuf_adds(w, " AND i.severity >= ?");
		qb_int(b, q->min_severity);
	}
	if (q->since_ns > 0) {
		soc_sbuf_adds(w, " AND i.last_seen >= ?");
		qb_int(b, q->since_ns);
	}
	if (q->until_ns > 0) {
		soc_sbuf_adds(w, " AND i.first_seen < ?");
		qb_int(b, q->until_ns);
	}
	if (q->ip != NULL) {
		soc_sbuf_adds(w, " AND (soc_key_ip_in(i.group_key, ?, ?) OR EXISTS"
		    " (SELECT 1 FROM evidence e WHERE e.incident_id = i.id AND"
		    " instr(e.event_json, ?) > 0 AND CASE WHEN json_valid(e.event_json)"
		    " THEN soc_ip_in(json_extract(e.event_json, '$.source.ip'), ?, ?)"
		    " OR soc_ip_in(json_extract(e.event_json, '$.destination.ip'),"
		    " ?, ?) END))");
		qb_blob(b, sb->net, 16);
		qb_int(b, sb->bits);
		qb_text(b, sb->ip_pre);
		qb_blob(b, sb->net, 16);
		qb_int(b, sb->bits);
		qb_blob(b, sb->net, 16);
		qb_int(b, sb->bits);
	}
	if (q->rule != NULL) {
		soc_sbuf_adds(w, " AND (i.rule_id = ? OR i.rule_title LIKE ?"
		    " ESCAPE '\\')");
		qb_text(b, q->rule);
		qb_text(b, sb->like);
	}
	if (q->category != NULL) {
		soc_sbuf_adds(w, " AND i.category = ?");
		qb_text(b, q->category);
	}
	if (q->country != NULL) {
		soc_sbuf_adds(w, " AND EXISTS (SELECT 1 FROM evidence e WHERE"
		    " e.incident_id = i.id AND instr(e.event_json, ?) > 0 AND"
		    " CASE WHEN json_valid(e.event_json) THEN json_extract(e.event_json,"
		    " '$.source.geo.country_iso_code') = ? END)");
		qb_text(b, sb->cc_pre);
		qb_text(b, sb->country);
	}
	if (q->assignee != NULL) {
		soc_sbuf_adds(w, " AND i.assignee = ?");
		qb_text(b, q->assignee);
	}
	/* each word in the title or group key (FTS5), or in an event */
	for (k = 0, word = sb->fts.data; q->text != NULL && k < sb->nwords;
	    k++, word += strlen(word) + 1, word += strlen(word) + 1) {
		soc_sbuf_adds(w, " AND (i.id IN (SELECT rowid FROM incident_fts"
		    " WHERE incident_fts MATCH ?) OR EXISTS (SELECT 1 FROM evidence e"
		    " WHERE e.incident_id = i.id AND soc_contains(e.event_json, ?)))");
		qb_text(b, word);
		qb_text(b, word + strlen(word) + 1);
	}
	if (q->overdue) {
		/* one definition of overdue: store-policy.c's */
		soc_sbuf_adds(w, " AND i.id IN (SELECT incidents.id FROM incidents"
		    " WHERE " STORE_OVERDUE_SQL("?") ")");
		for (int n = 0; n < 3; n++)	/* the macro names now three times */
			qb_int(b, q->now_ns);
	}
}

struct search_call {
	store_incident_fn	 fn;
	void			*arg;
	int			 ret;
};

static int
search_row(void *arg, const struct store_incident *in)
{
	struct search_call *sc = arg;

	sc->ret = sc->fn(sc->arg, in);
	return sc->ret;
}

int
store_search_foreach(struct store *st, const struct store_search *q,
    store_incident_fn fn, void *arg)
{
	struct search_call sc = { fn, arg, 0 };
	struct search_buf sb;
	struct qb *b;
	sqlite3_stmt *s = NULL;
	int rc, ret = -1;

	memset(&sb, 0, sizeof(sb));
	soc_sbuf_init(&sb.fts);
	if ((b = calloc(1, sizeof(*b))) == NULL) {
		store_seterr(st, "out of memory");
		goto done;
	}
	soc_sbuf_init(&b->sql);
	if (agencies_check(st, q, &sb) == -1 ||
	    search_prepare_values(st, q, &sb) == -1)
		goto done;
	if (functions_register(st) == -1)
		goto done;
	if (q->nagencies > 0)
		search_scope(b, q);
	soc_sbuf_adds(&b->sql, "SELECT i.id FROM incidents i WHERE 1");
	search_where(b, q, &sb);
	soc_sbuf_adds(&b->sql, sort_sql[q->sort >= 0 &&
	    q->sort <= STORE_SORT_SEVERITY ? q->sort : 0]);
	soc_sbuf_adds(&b->sql, " LIMIT ?");
	qb_int(b, q->limit > 0 ? q->limit : -1);
	if ((s = qb_prepare(st, b)) == NULL)
		goto done;
	ret = 0;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		if (store_incident_get(st, sqlite3_column_int64(s, 0), search_row,
		    &sc) == -1) {
			ret = -1;
			break;
		}
		if ((ret = sc.ret) != 0)
			break;
	}
	if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
		store_sqlerr(st, "search");
		ret = -1;
	}
done:
	sqlite3_finalize(s);
	if (b != NULL)
		soc_sbuf_free(&b->sql);
	free(b);
	soc_sbuf_free(&sb.fts);
	return ret;
}

/* ---- the leadership report ---- */

#define REPORT_DONE	"(d.done IS NOT NULL AND d.done <> 0)"

int
store_report_foreach(struct store *st, const struct store_report_opts *o,
    store_report_fn fn, void *arg)
{
	struct store_report_row r;
	struct qb *b;
	sqlite3_stmt *s = NULL;
	int cat, dl, rc, i, ret = -1;

	if ((cat = store_search_has_category(st)) == -1 ||
	    (dl = store_search_has_deadlines(st)) == -1)
		return -1;
	if (o->agency != NULL && (rc = store_agency_exists(st, o->agency)) != 1) {
		if (rc == 0)
			store_seterr(st, "unknown agency '%s' (see `socctl agency"
			    " list`)", o->agency);
		return -1;
	}
	if ((b = calloc(1, sizeof(*b))) == NULL) {
		store_seterr(st, "out of memory");
		return -1;
	}
	soc_sbuf_init(&b->sql);
	soc_sbuf_adds(&b->sql, "WITH RECURSIVE"
	    " scope(code) AS (SELECT code FROM agencies WHERE code ="
	    " coalesce(?, code) UNION SELECT a.code FROM agencies a"
	    " JOIN scope s ON a.parent = s.code),"
	    " tree(root, code) AS (SELECT code, code FROM scope UNION"
	    " SELECT t.root, a.code FROM agencies a JOIN tree t"
	    " ON a.parent = t.code),"
	    " inc AS (SELECT i.agency, i.severity, i.created_at, ");
	qb_text(b, o->agency);
	soc_sbuf_adds(&b->sql, cat ? "nullif(i.category, '')" : "NULL");
	soc_sbuf_adds(&b->sql, " AS category,"
	    " (SELECT min(a.at) FROM audit a WHERE a.incident_id = i.id AND"
	    " a.action IN ('acknowledged', 'investigating', 'resolved',"
	    " 'false_positive')) AS ack_at,"
	    " CASE WHEN i.status NOT IN " OPEN_SQL " THEN (SELECT max(a.at)"
	    " FROM audit a WHERE a.incident_id = i.id AND a.action IN"
	    " ('resolved', 'false_positive')) END AS res_at, ");
	if (dl) {
		soc_sbuf_adds(&b->sql, "(SELECT count(*) FROM incident_deadlines d"
		    " WHERE d.incident_id = i.id AND " REPORT_DONE
		    " AND d.done <= d.due) AS met,"
		    " (SELECT count(*) FROM incident_deadlines d WHERE"
		    " d.incident_id = i.id AND ((" REPORT_DONE " AND d.done >"
		    " d.due) OR (NOT " REPORT_DONE " AND d.due < ?))) AS missed");
		qb_int(b, o->now_ns);
	} else
		soc_sbuf_adds(&b->sql, "0 AS met, 0 AS missed");
	soc_sbuf_adds(&b->sql, " FROM incidents i WHERE i.created_at >= ?"
	    " AND i.created_at < ?)"
	    " SELECT t.root, inc.category, count(*),"
	    " sum(severity = 0), sum(severity = 1), sum(severity = 2),"
	    " sum(severity = 3), sum(severity = 4),"
	    " count(ack_at), total((ack_at - created_at) / 1e9),"
	    " count(res_at), total((res_at - created_at) / 1e9),"
	    " sum(met), sum(missed)"
	    " FROM tree t JOIN inc ON inc.agency = t.code"
	    " GROUP BY t.root, inc.category ORDER BY t.root, inc.category");
	qb_int(b, o->since_ns);
	qb_int(b, o->until_ns > 0 ? o->until_ns : INT64_MAX);
	if ((s = qb_prepare(st, b)) == NULL)
		goto done;
	ret = 0;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		memset(&r, 0, sizeof(r));
		r.agency = col_str(s, 0);
		r.category = (const char *)sqlite3_column_text(s, 1);
		r.incidents = (uint64_t)sqlite3_column_int64(s, 2);
		for (i = 0; i < 5; i++)
			r.by_severity[i] = (uint64_t)sqlite3_column_int64(s, 3 + i);
		r.acknowledged = (uint64_t)sqlite3_column_int64(s, 8);
		r.ack_sum_s = sqlite3_column_double(s, 9);
		r.resolved = (uint64_t)sqlite3_column_int64(s, 10);
		r.resolve_sum_s = sqlite3_column_double(s, 11);
		r.deadlines_known = dl;
		r.deadlines_met = (uint64_t)sqlite3_column_int64(s, 12);
		r.deadlines_missed = (uint64_t)sqlite3_column_int64(s, 13);
		if ((ret = fn(arg, &r)) != 0)
			break;
	}
	if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
		store_sqlerr(st, "report");
		ret = -1;
	}
done:
	sqlite3_finalize(s);
	soc_sbuf_free(&b->sql);
	free(b);
	return ret;
}
