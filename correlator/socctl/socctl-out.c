/*
 * socctl's output.  For people: text with control characters replaced
 * (rule titles, group keys and event fields came from the network) and
 * aligned tables whose widths are measured in display columns, not bytes,
 * so Vietnamese names (multi-byte, sometimes with combining marks) line
 * up; times in the display zone (--tz), labelled with its offset.  For
 * programs: exactly one JSON document, or RFC 4180 CSV, times in RFC 3339
 * UTC.
 *
 * A list is an array of struct col: each column says where its value is
 * in the store's row (or how to compute it), its type, its JSON/CSV name
 * and its table header and position.  out_row() renders a row in the
 * format asked for, so one description serves the table, --json and
 * --csv.  JSON and CSV are built in memory and printed by out_end(), so
 * a database error half-way prints no half document.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "soc/json.h"
#include "soc/time.h"
#include "soc/util.h"
#include "store.h"
#include "socctl.h"

/* ---- UTF-8 display: width and sanitising ---- */

/*
 * Decodes one UTF-8 sequence at s: returns its length and the code point
 * in *cp, or 1 with *cp = -1 for an invalid byte.
 */
static size_t
utf8_decode(const unsigned char *s, long *cp)
{
	long c;
	size_t n, i;

	if (s[0] < 0x80) {
		*cp = s[0];
		return 1;
	}
	if (s[0] >= 0xc2 && s[0] <= 0xdf) {
		n = 2;
		c = s[0] & 0x1f;
	} else if (s[0] >= 0xe0 && s[0] <= 0xef) {
		n = 3;
		c = s[0] & 0x0f;
	} else if (s[0] >= 0xf0 && s[0] <= 0xf4) {
		n = 4;
		c = s[0] & 0x07;
	} else {
		*cp = -1;
		return 1;
	}
	for (i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80) {
			*cp = -1;
			return 1;
		}
		c = (c << 6) | (s[i] & 0x3f);
	}
	/* Overlong forms, surrogates and out-of-range values are invalid. */
	if ((n == 3 && c < 0x800) || (n == 4 && (c < 0x10000 || c > 0x10ffff)) ||
	    (c >= 0xd800 && c <= 0xdfff)) {
		*cp = -1;
		return 1;
	}
	*cp = c;
	return n;
}

/* Columns a code point takes on a terminal: 0 for combining marks (NFD
 * Vietnamese stacks them), 2 for East Asian wide characters. */
static int
cp_width(long c)
{
	if ((c >= 0x300 && c <= 0x36f) || (c >= 0x1ab0 && c <= 0x1aff) ||
	    (c >= 0x1dc0 && c <= 0x1dff) || (c >= 0x20d0 && c <= 0x20ff) ||
	    (c >= 0xfe20 && c <= 0xfe2f) || (c >= 0x200b && c <= 0x200f) ||
	    c == 0xfeff)
		return 0;
	if ((c >= 0x1100 && c <= 0x115f) || (c >= 0x2e80 && c <= 0xa4cf) ||
	    (c >= 0xac00 && c <= 0xd7a3) || (c >= 0xf900 && c <= 0xfaff) ||
	    (c >= 0xfe30 && c <= 0xfe4f) || (c >= 0xff00 && c <= 0xff60) ||
	    (c >= 0xffe0 && c <= 0xffe6) || (c >= 0x1f300 && c <= 0x1f64f) ||
	    (c >= 0x1f900 && c <= 0x1f9ff) || (c >= 0x20000 && c <= 0x3fffd))
		return 2;
	return 1;
}

size_t
disp_width(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t w = 0;
	long cp;

	while (*p != '\0') {
		p += utf8_decode(p, &cp);
		w += cp < 0 ? 1 : (size_t)cp_width(cp);
	}
	return w;
}

/*
 * Returns a copy of s fit for a terminal: control characters (C0, DEL,
 * C1) and invalid UTF-8 become '?', and if maxw > 0 the text is cut to
 * maxw columns ending in "…".  The caller frees it; NULL on no memory.
 */
char *
clean_dup(const char *s, size_t maxw)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t len = strlen(s), n, o = 0, w = 0, cw;
	char *out;
	long cp;

	if ((out = malloc(len + 4)) == NULL)
		return NULL;
	if (maxw > 0 && disp_width(s) <= maxw)
		maxw = 0;
	while (*p != '\0') {
		n = utf8_decode(p, &cp);
		cw = cp < 0 ? 1 : (size_t)cp_width(cp);
		if (maxw > 0 && w + cw > maxw - 1) {
			memcpy(out + o, "\xe2\x80\xa6", 3);	/* … */
			o += 3;
			break;
		}
		if (cp < 0x20 || cp == 0x7f || (cp >= 0x80 && cp <= 0x9f))
			out[o++] = '?';
		else {
			memcpy(out + o, p, n);
			o += n;
		}
		w += cw;
		p += n;
	}
	out[o] = '\0';
	return out;
}

void
put_clean(FILE *f, const char *s)
{
	char *t = clean_dup(s, 0);

	fputs(t ? t : "?", f);
	free(t);
}

/* ---- tables for people ---- */

/* spec: "NAME" left, ">NAME" right-aligned, optional ":N" width limit. */
void
table_init(struct table *t, int ncols, const char *const *spec)
{
	const char *colon;
	int i;

	memset(t, 0, sizeof(*t));
	t->ncols = ncols;
	for (i = 0; i < ncols; i++) {
		t->right[i] = spec[i][0] == '>';
		t->head[i] = spec[i] + t->right[i];
		if ((colon = strchr(t->head[i], ':')) != NULL)
			t->maxw[i] = (size_t)atoi(colon + 1);
	}
}

/* Adds a row of t->ncols cells (NULL for empty), cleaned for a terminal. */
void
table_add(struct table *t, const char *const *v)
{
	char **cells;
	size_t i, n;

	if (t->nrows == t->cap) {
		n = t->cap ? t->cap * 2 : 16;
		cells = reallocarray(t->cells, n * (size_t)t->ncols, sizeof(*cells));
		if (cells == NULL) {
			t->oom = 1;
			return;
		}
		t->cells = cells;
		t->cap = n;
	}
	for (i = 0; i < (size_t)t->ncols; i++) {
		cells = &t->cells[t->nrows * (size_t)t->ncols + i];
		if ((*cells = clean_dup(v[i] ? v[i] : "", t->maxw[i])) == NULL)
			t->oom = 1;
	}
	t->nrows++;
}

static void
pad(size_t n)
{
	while (n-- > 0)
		putchar(' ');
}

static void
table_cell(const struct table *t, int i, const char *s, size_t width, int last)
{
	size_t w = disp_width(s);

	if (t->right[i])
		pad(width - w);
	fputs(s, stdout);
	if (!last && !t->right[i])
		pad(width - w);
	if (!last)
		fputs("  ", stdout);
}

int
table_print(struct table *t)
{
	size_t width[TABLE_MAXCOLS], r, w, hlen;
	const char *h, *colon;
	char hbuf[64];
	int i, last;

	if (t->oom)
		return errx1("out of memory");
	for (i = 0; i < t->ncols; i++) {
		h = t->head[i];
		colon = strchr(h, ':');
		width[i] = colon ? (size_t)(colon - h) : strlen(h);
		for (r = 0; r < t->nrows; r++) {
			w = disp_width(t->cells[r * (size_t)t->ncols + i]);
			if (w > width[i])
				width[i] = w;
		}
	}
	for (i = 0; i < t->ncols; i++) {
		colon = strchr(t->head[i], ':');
		hlen = colon ? (size_t)(colon - t->head[i]) : strlen(t->head[i]);
		snprintf(hbuf, sizeof(hbuf), "%.*s", (int)hlen, t->head[i]);
		table_cell(t, i, hbuf, width[i], i == t->ncols - 1);
	}
	putchar('\n');
	for (r = 0; r < t->nrows; r++) {
		/* Stop at the last non-empty cell: no trailing blanks. */
		for (last = t->ncols - 1; last > 0; last--)
			if (t->cells[r * (size_t)t->ncols + last][0] != '\0')
				break;
		for (i = 0; i <= last; i++)
			table_cell(t, i, t->cells[r * (size_t)t->ncols + i],
			    width[i], i == last);
		putchar('\n');
	}
	return 0;
}

void
table_free(struct table *t)
{
	size_t i;

	for (i = 0; i < t->nrows * (size_t)t->ncols; i++)
		free(t->cells[i]);
	free(t->cells);
}

/* ---- times ---- */

/* The zone's offset at ns as people write it: "+07", "-03:30", "+00". */
void
zone_label(int64_t ns, char *buf, size_t len)
{
	time_t t = (time_t)(ns / SOC_NS);
	struct tm tm;
	long off;

	if (localtime_r(&t, &tm) == NULL) {
		snprintf(buf, len, "?");
		return;
	}
	off = tm.tm_gmtoff;
	if (off % 3600 == 0)
		snprintf(buf, len, "%c%02ld", off < 0 ? '-' : '+', labs(off) / 3600);
	else
		snprintf(buf, len, "%c%02ld:%02ld", off < 0 ? '-' : '+',
		    labs(off) / 3600, labs(off) % 3600 / 60);
}

/*
 * A time for people, in the display zone (main put it in TZ) and labelled
 * with it: "2026-12-01 07:00:00 +07", so a table read on another
 * continent, or pasted in a report, still says when.
 */
void
time_human(struct ctx *c, int64_t ns, char *buf, size_t len)
{
	time_t t = (time_t)(ns / SOC_NS);
	struct tm tm;
	char z[16];
	size_t n;

	(void)c;
	if (ns <= 0) {
		snprintf(buf, len, "-");
		return;
	}
	if (localtime_r(&t, &tm) == NULL ||
	    (n = strftime(buf, len, "%Y-%m-%d %H:%M:%S", &tm)) == 0) {
		snprintf(buf, len, "?");
		return;
	}
	zone_label(ns, z, sizeof(z));
	snprintf(buf + n, len - n, " %s", z);
}

void
age_human(struct ctx *c, int64_t ns, char *buf, size_t len)
{
	char a[24];

	if (ns <= 0) {
		snprintf(buf, len, "never");
		return;
	}
	if (ns > c->now) {
		snprintf(buf, len, "in future");
		return;
	}
	store_age_format(c->now - ns, a, sizeof(a));
	snprintf(buf, len, "%s ago", a);
}

/* ---- JSON helpers (one object member at a time; *n counts members) ---- */

void
j_key(struct soc_sbuf *b, int *n, const char *k)
{
	if ((*n)++ > 0)
		soc_sbuf_adds(b, ",");
	soc_sbuf_json_str(b, k, strlen(k));
	soc_sbuf_adds(b, ":");
}

void
j_str(struct soc_sbuf *b, int *n, const char *k, const char *v)
{
	j_key(b, n, k);
	if (v == NULL)
		soc_sbuf_adds(b, "null");
	else
		soc_sbuf_json_str(b, v, strlen(v));
}

void
j_int(struct soc_sbuf *b, int *n, const char *k, long long v)
{
	j_key(b, n, k);
	soc_sbuf_printf(b, "%lld", v);
}

void
j_bool(struct soc_sbuf *b, int *n, const char *k, int v)
{
	j_key(b, n, k);
	soc_sbuf_adds(b, v ? "true" : "false");
}

/* RFC 3339 UTC, or null for "never". */
void
j_time(struct soc_sbuf *b, int *n, const char *k, int64_t ns)
{
	char t[64];

	if (ns <= 0) {
		j_str(b, n, k, NULL);
		return;
	}
	soc_time_format(ns, t, sizeof(t));
	j_str(b, n, k, t);
}

int
j_print(struct soc_sbuf *b)
{
	int ret = 0;

	if (b->oom)
		ret = errx1("out of memory building JSON output");
	else {
		fwrite(b->data, 1, b->len, stdout);
		putchar('\n');
	}
	soc_sbuf_free(b);
	return ret;
}

/* ---- lists: one description, three formats ---- */

/* The value of column k in row: from the getter, else from the offset. */
static void
out_get(struct ctx *c, const struct col *k, const void *row, struct cell *v)
{
	const char *p = (const char *)row + k->off;

	memset(v, 0, sizeof(*v));
	if (k->get != NULL)
		k->get(c, row, v);
	else if (k->type == COL_STR || k->type == COL_RAW)
		memcpy(&v->s, p, sizeof(v->s));
	else if (k->type == COL_UINT) {
		uint64_t u;

		memcpy(&u, p, sizeof(u));
		v->i = (long long)u;
	} else if (k->type == COL_BOOL) {
		int b;

		memcpy(&b, p, sizeof(b));
		v->i = b;
	} else {
		int64_t i;

		memcpy(&i, p, sizeof(i));
		v->i = i;
	}
	if ((k->type == COL_STR || k->type == COL_RAW) && (v->s == NULL ||
	    ((k->flags & COL_NULLEMPTY) && v->s[0] == '\0')))
		v->null = 1;
}

/*
 * One CSV cell.  Text from the network (a province's rule title, a group
 * key, an agency name) is made safe for a spreadsheet, as OWASP advises
 * against formula injection: tab, CR and LF become spaces and the other
 * control bytes (C0, DEL, C1 as UTF-8: ESC, BEL, CSI...) are dropped, and
 * a cell that then starts with =, +, -, @ (or started with a tab, CR or
 * LF) gets a leading ' and is quoted, so "=HYPERLINK(...)" is shown as
 * text, never run.  text is false for cells we formatted ourselves from
 * numbers (integers, times, "1.500"): a negative count stays a number.
 */
static void
csv_field(struct soc_sbuf *b, const char *s, int text)
{
	const unsigned char *p = (const unsigned char *)s;
	struct soc_sbuf t;
	int quote, lead = 0;

	if (!text) {
		soc_sbuf_adds(b, s);
		return;
	}
	soc_sbuf_init(&t);
	if (*p == '\t' || *p == '\r' || *p == '\n')
		lead = 1;
	for (; *p != '\0'; p++) {
		if (*p == '\t' || *p == '\r' || *p == '\n')
			soc_sbuf_adds(&t, " ");
		else if (*p < 0x20 || *p == 0x7f)
			continue;
		else if (p[0] == 0xc2 && p[1] >= 0x80 && p[1] <= 0x9f)
			p++;		/* a C1 control: both bytes */
		else
			soc_sbuf_add(&t, (const char *)p, 1);
	}
	soc_sbuf_add(&t, "", 1);	/* NUL */
	if (t.oom) {
		b->oom = 1;
		soc_sbuf_free(&t);
		return;
	}
	if (strchr("=+-@", t.data[0]) != NULL && t.data[0] != '\0')
		lead = 1;
	quote = lead || strpbrk(t.data, ",\"") != NULL;
	if (quote)
		soc_sbuf_adds(b, "\"");
	if (lead)
		soc_sbuf_adds(b, "'");
	for (p = (const unsigned char *)t.data; *p != '\0'; p++) {
		if (*p == '"')
			soc_sbuf_adds(b, "\"\"");
		else
			soc_sbuf_add(b, (const char *)p, 1);
	}
	if (quote)
		soc_sbuf_adds(b, "\"");
	soc_sbuf_free(&t);
}

/* Text of a value for CSV (machine form: RFC 3339 times, plain numbers). */
static const char *
csv_text(const struct col *k, const struct cell *v, char *buf, size_t len)
{
	if (v->null)
		return "";
	switch (k->type) {
	case COL_STR:
	case COL_RAW:
		return v->s;
	case COL_UINT:
		snprintf(buf, len, "%llu", (unsigned long long)v->i);
		return buf;
	case COL_BOOL:
		return v->i ? "true" : "false";
	case COL_TIME:
	case COL_AGE:
		if (v->i <= 0)
			return "";
		soc_time_format(v->i, buf, len);
		return buf;
	default:
		snprintf(buf, len, "%lld", v->i);
		return buf;
	}
}

/* Text of a value for the table (human form: local times, ages, "-"). */
static const char *
table_text(struct out *o, const struct col *k, const struct cell *v,
    char *buf, size_t len)
{
	if (v->null || ((k->type == COL_STR || k->type == COL_RAW) &&
	    v->s[0] == '\0'))
		return (k->flags & COL_DASH) ? "-" : "";
	switch (k->type) {
	case COL_TIME:
		time_human(o->c, v->i, buf, len);
		return buf;
	case COL_AGE:
		age_human(o->c, v->i, buf, len);
		return buf;
	default:
		return csv_text(k, v, buf, len);
	}
}

/* Length of a dotted key's group ("rule" of "rule.id"); 0 for none. */
static size_t
key_group(const char *key)
{
	const char *dot = key ? strchr(key, '.') : NULL;

	return dot ? (size_t)(dot - key) : 0;
}

static int
same_group(const char *a, const char *b)
{
	size_t n = key_group(a);

	return n > 0 && n == key_group(b) && strncmp(a, b, n) == 0;
}

/*
 * Appends the members of one row's JSON object (without the braces):
 * the columns that have a key, in their order; "a.b" keys that follow
 * each other make one nested object "a".
 */
void
out_json_members(struct soc_sbuf *b, struct ctx *c, const struct col *cols,
    int ncols, const void *row)
{
	const struct col *k, *prev = NULL;
	const char *name;
	char grp[64];
	struct cell v;
	int i, n = 0, m = 0, *cnt;
	size_t g;

	for (i = 0; i < ncols; i++) {
		k = &cols[i];
		if (k->key == NULL)
			continue;
		name = k->key;
		cnt = &n;
		if ((g = key_group(k->key)) > 0) {
			if (prev == NULL || !same_group(prev->key, k->key)) {
				snprintf(grp, sizeof(grp), "%.*s", (int)g, k->key);
				j_key(b, &n, grp);
				soc_sbuf_adds(b, "{");
				m = 0;
			}
			name = k->key + g + 1;
			cnt = &m;
		} else if (prev != NULL && key_group(prev->key) > 0)
			soc_sbuf_adds(b, "}");
		prev = k;
		out_get(c, k, row, &v);
		if (v.null) {
			j_str(b, cnt, name, NULL);
			continue;
		}
		switch (k->type) {
		case COL_STR:
			j_str(b, cnt, name, v.s);
			break;
		case COL_BOOL:
			j_bool(b, cnt, name, (int)v.i);
			break;
		case COL_TIME:
		case COL_AGE:
			j_time(b, cnt, name, v.i);
			break;
		case COL_RAW:
			j_key(b, cnt, name);
			if (v.valid)
				soc_sbuf_adds(b, v.s);
			else
				soc_sbuf_json_str(b, v.s, strlen(v.s));
			break;
		default:
			j_int(b, cnt, name, v.i);
			break;
		}
	}
	if (prev != NULL && key_group(prev->key) > 0)
		soc_sbuf_adds(b, "}");
}

/* Starts a list: "[" for JSON, the header line for CSV, the table's
 * columns (in their tpos order) for people. */
void
out_begin(struct out *o, struct ctx *c, enum out_fmt fmt,
    const struct col *cols, int ncols)
{
	const char *spec[TABLE_MAXCOLS];
	int i, nt = 0, n = 0;

	memset(o, 0, sizeof(*o));
	o->c = c;
	o->fmt = fmt;
	o->cols = cols;
	o->ncols = ncols;
	soc_sbuf_init(&o->b);
	for (i = 0; i < ncols; i++)
		if (cols[i].head != NULL && cols[i].tpos < TABLE_MAXCOLS) {
			spec[cols[i].tpos] = cols[i].head;
			nt++;
		}
	table_init(&o->t, nt, spec);
	if (fmt == OUT_JSON)
		soc_sbuf_adds(&o->b, "[");
	else if (fmt == OUT_CSV) {
		for (i = 0; i < ncols; i++) {
			if (cols[i].key == NULL)
				continue;
			if (n++ > 0)
				soc_sbuf_adds(&o->b, ",");
			csv_field(&o->b, cols[i].key, 1);
		}
		soc_sbuf_adds(&o->b, "\n");
	}
}

/* Renders one row; 0 (a store callback's "go on"). */
int
out_row(struct out *o, const void *row)
{
	const char *cells[TABLE_MAXCOLS];
	char buf[TABLE_MAXCOLS][64], one[64];
	const struct col *k;
	struct cell v;
	int i, n = 0;

	if (o->fmt == OUT_JSON) {
		if (o->n++ > 0)
			soc_sbuf_adds(&o->b, ",");
		soc_sbuf_adds(&o->b, "{");
		out_json_members(&o->b, o->c, o->cols, o->ncols, row);
		soc_sbuf_adds(&o->b, "}");
		return 0;
	}
	o->n++;
	for (i = 0; i < o->ncols; i++) {
		k = &o->cols[i];
		if (o->fmt == OUT_CSV) {
			if (k->key == NULL)
				continue;
			out_get(o->c, k, row, &v);
			if (n++ > 0)
				soc_sbuf_adds(&o->b, ",");
			csv_field(&o->b, csv_text(k, &v, one, sizeof(one)),
			    !v.null && (k->type == COL_STR ||
			    k->type == COL_RAW) && !(k->flags & COL_NUMTEXT));
		} else if (k->head != NULL && k->tpos < TABLE_MAXCOLS) {
			out_get(o->c, k, row, &v);
			cells[k->tpos] = table_text(o, k, &v, buf[k->tpos],
			    sizeof(buf[k->tpos]));
		}
	}
	if (o->fmt == OUT_CSV)
		soc_sbuf_adds(&o->b, "\n");
	else
		table_add(&o->t, cells);
	return 0;
}

void
out_free(struct out *o)
{
	soc_sbuf_free(&o->b);
	table_free(&o->t);
}

/*
 * Ends a list: rc is the store's foreach result (on error nothing is
 * printed but the reason).  A table with no rows prints `none` instead.
 */
int
out_end(struct out *o, int rc, const char *none)
{
	int ret = 0;

	if (rc != 0) {
		out_free(o);
		return rc < 0 ? db_fail(o->c) : 1;
	}
	switch (o->fmt) {
	case OUT_JSON:
		soc_sbuf_adds(&o->b, "]");
		ret = j_print(&o->b);
		break;
	case OUT_CSV:
		if (o->b.oom)
			ret = errx1("out of memory building CSV output");
		else
			fwrite(o->b.data, 1, o->b.len, stdout);
		break;
	case OUT_TABLE:
		if (o->n == 0)
			printf("%s\n", none);
		else
			ret = table_print(&o->t);
		break;
	}
	out_free(o);
	return ret;
}
