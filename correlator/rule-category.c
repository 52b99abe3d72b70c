/*
 * The category table (category.h): parsing rules/categories.txt into a
 * list of (tag pattern, category) lines kept in file order, and the
 * lookup from a rule's comma-separated tags.  The lookup runs once per
 * incident key per transaction (ingest.c caches nothing else), so a
 * linear scan of a few dozen lines is all it needs.
 *
 * The shipped table is also built in (category_default(), for a rules
 * directory without the file); tests/test-ingest.c checks that the two
 * texts are the same.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "category.h"

#define CAT_FILE_MAX	(1 << 20)	/* a table is a few kB */
#define CAT_TAG_MAX	128

struct cat_line {
	char		 tag[CAT_TAG_MAX];
	size_t		 len;
	int		 prefix;	/* TAG*: any tag starting with it */
	const char	*code;		/* static */
};

struct category_map {
	struct cat_line	*v;
	size_t		 n, cap;
};

static const char *const codes[CATEGORY_COUNT] = {
	"brute_force", "scan", "malware", "intrusion", "dos", "data_leak",
	"defacement", "phishing", "policy", "other",
};

/* The text of rules/categories.txt as shipped. */
const char category_default_text[] =
	"# Incident categories from rule tags (soc-correlator reads this file from\n"
	"# its rules directory at start and on SIGHUP).\n"
	"#\n"
	"# One line per entry: TAG CATEGORY.  For each rule, the first line whose TAG\n"
	"# matches one of the rule's tags gives the category; a rule that matches no\n"
	"# line is filed under \"other\".  TAG matches that tag and every tag below it\n"
	"# (attack.t1110 matches attack.t1110.001); TAG* matches every tag that\n"
	"# starts with TAG.  Tags compare without regard to case.\n"
	"#\n"
	"# Categories (stable codes): brute_force scan malware intrusion dos\n"
	"# data_leak defacement phishing policy other\n"
	"#\n"
	"# A rule can also name its category outright with a tag soc.category.CODE.\n"
	"\n"
	"soc.category.brute_force\tbrute_force\n"
	"soc.category.scan\t\tscan\n"
	"soc.category.malware\t\tmalware\n"
	"soc.category.intrusion\t\tintrusion\n"
	"soc.category.dos\t\tdos\n"
	"soc.category.data_leak\t\tdata_leak\n"
	"soc.category.defacement\t\tdefacement\n"
	"soc.category.phishing\t\tphishing\n"
	"soc.category.policy\t\tpolicy\n"
	"soc.category.other\t\tother\n"
	"\n"
	"# ATT&CK techniques first: they say more than a tactic.\n"
	"attack.t1110\tbrute_force\t# Brute Force\n"
	"attack.t1595\tscan\t\t# Active Scanning\n"
	"attack.t1046\tscan\t\t# Network Service Discovery\n"
	"attack.t1018\tscan\t\t# Remote System Discovery\n"
	"attack.t1498\tdos\t\t# Network Denial of Service\n"
	"attack.t1499\tdos\t\t# Endpoint Denial of Service\n"
	"attack.t1491\tdefacement\t# Defacement\n"
	"attack.t1566\tphishing\t# Phishing\n"
	"attack.t1598\tphishing\t# Phishing for Information\n"
	"attack.t1048\tdata_leak\t# Exfiltration Over Alternative Protocol\n"
	"attack.t1041\tdata_leak\t# Exfiltration Over C2 Channel\n"
	"attack.t1567\tdata_leak\t# Exfiltration Over Web Service\n"
	"attack.t1071\tmalware\t\t# Application Layer Protocol (C2)\n"
	"attack.t1568\tmalware\t\t# Dynamic Resolution\n"
	"attack.t1486\tmalware\t\t# Data Encrypted for Impact (ransomware)\n"
	"attack.t1204\tmalware\t\t# User Execution\n"
	"attack.t1190\tintrusion\t# Exploit Public-Facing Application\n"
	"attack.t1078\tintrusion\t# Valid Accounts\n"
	"attack.t1133\tintrusion\t# External Remote Services\n"
	"\n"
	"# Then tactics.\n"
	"attack.reconnaissance\t\tscan\n"
	"attack.discovery\t\tscan\n"
	"attack.exfiltration\t\tdata_leak\n"
	"attack.collection\t\tdata_leak\n"
	"attack.command_and_control\tmalware\n"
	"attack.execution\t\tmalware\n"
	"attack.initial_access\t\tintrusion\n"
	"attack.persistence\t\tintrusion\n"
	"attack.privilege_escalation\tintrusion\n"
	"attack.lateral_movement\t\tintrusion\n"
	"attack.defense_evasion\t\tintrusion\n"
	"attack.credential_access\tintrusion\n"
	"attack.impact\t\t\tdos\n"
	"\n"
	"# Local policy rules (e.g. a forbidden service or protocol).\n"
	"policy*\t\tpolicy\n";

const char *
category_name(int i)
{
	if (i < 0 || i >= CATEGORY_COUNT)
		return NULL;
	return codes[i];
}

const char *
category_code(const char *s)
{
	int i;

	for (i = 0; i < CATEGORY_COUNT; i++)
		if (strcmp(s, codes[i]) == 0)
			return codes[i];
	return NULL;
}

void
category_free(struct category_map *m)
{
	if (m == NULL)
		return;
	free(m->v);
	free(m);
}

size_t
category_lines(const struct category_map *m)
{
	return m ? m->n : 0;
}

static int
cat_push(struct category_map *m, const char *tag, size_t len, const char *code)
{
	struct cat_line *nv, *l;
	size_t ncap;

	if (m->n == m->cap) {
		ncap = m->cap ? m->cap * 2 : 64;
		if ((nv = realloc(m->v, ncap * sizeof(*nv))) == NULL)
			return -1;
		m->v = nv;
		m->cap = ncap;
	}
	l = &m->v[m->n++];
	l->prefix = len > 0 && tag[len - 1] == '*';
	if (l->prefix)
		len--;
	memcpy(l->tag, tag, len);
	l->tag[len] = '\0';
	l->len = len;
	l->code = code;
	return 0;
}

/* One line: "TAG CATEGORY [# comment]", blank, or a comment.  0 / -1. */
static int
cat_line(struct category_map *m, const char *p, const char *end,
    const char *name, int lineno, char *err, size_t errlen)
{
	const char *tag, *cat, *code;
	char cbuf[32];
	size_t tlen, clen;

	while (p < end && isspace((unsigned char)*p))
		p++;
	if (p == end || *p == '#')
		return 0;
	for (tag = p; p < end && !isspace((unsigned char)*p); p++)
		;
	tlen = (size_t)(p - tag);
	while (p < end && isspace((unsigned char)*p))
		p++;
	for (cat = p; p < end && !isspace((unsigned char)*p) && *p != '#'; p++)
		;
	clen = (size_t)(p - cat);
	while (p < end && isspace((unsigned char)*p))
		p++;
	if (clen == 0 || (p < end && *p != '#')) {
		snprintf(err, errlen, "%s:%d: expected TAG CATEGORY", name, lineno);
		return -1;
	}
	if (tlen >= CAT_TAG_MAX || (tlen == 1 && tag[0] == '*')) {
		snprintf(err, errlen, "%s:%d: tag too long or empty", name, lineno);
		return -1;
	}
	snprintf(cbuf, sizeof(cbuf), "%.*s", (int)(clen < 31 ? clen : 31), cat);
	if (clen > 31 || (code = category_code(cbuf)) == NULL) {
		snprintf(err, errlen, "%s:%d: unknown category \"%s\" (one of"
		    " brute_force, scan, malware, intrusion, dos, data_leak,"
		    " defacement, phishing, policy, other)", name, lineno, cbuf);
		return -1;
	}
	if (cat_push(m, tag, tlen, code) == -1) {
		snprintf(err, errlen, "%s: out of memory", name);
		return -1;
	}
	return 0;
}

struct category_map *
category_parse(const char *text, size_t len, const char *name, char *err,
    size_t errlen)
{
	struct category_map *m;
	const char *p = text, *end = text + len, *nl;
	int lineno = 0;

	if ((m = calloc(1, sizeof(*m))) == NULL) {
		snprintf(err, errlen, "%s: out of memory", name);
		return NULL;
	}
	while (p < end) {
		if ((nl = memchr(p, '\n', (size_t)(end - p))) == NULL)
			nl = end;
		if (cat_line(m, p, nl, name, ++lineno, err, errlen) == -1) {
			category_free(m);
			return NULL;
		}
		p = nl + 1;
	}
	return m;
}

struct category_map *
category_load(const char *path, char *err, size_t errlen)
{
	struct category_map *m = NULL;
	char *buf = NULL;
	size_t n;
	FILE *f;

	if ((f = fopen(path, "r")) == NULL) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return NULL;
	}
	if ((buf = malloc(CAT_FILE_MAX)) == NULL) {
		snprintf(err, errlen, "%s: out of memory", path);
		goto out;
	}
	n = fread(buf, 1, CAT_FILE_MAX, f);
	if (ferror(f) || n == CAT_FILE_MAX) {
		snprintf(err, errlen, "%s: %s", path, ferror(f) ?
		    "read error" : "larger than 1 MB");
		goto out;
	}
	m = category_parse(buf, n, path, err, errlen);
out:
	free(buf);
	fclose(f);
	return m;
}

struct category_map *
category_default(char *err, size_t errlen)
{
	return category_parse(category_default_text,
	    sizeof(category_default_text) - 1, "built-in " CATEGORY_FILE, err,
	    errlen);
}

/* Whether line l matches the tag t (tlen bytes). */
static int
cat_match(const struct cat_line *l, const char *t, size_t tlen)
{
	if (tlen < l->len || strncasecmp(t, l->tag, l->len) != 0)
		return 0;
	return l->prefix || tlen == l->len || t[l->len] == '.';
}

const char *
category_of(const struct category_map *m, const char *tags)
{
	const char *t, *e;
	size_t i, tlen;

	if (m == NULL || tags == NULL)
		return CATEGORY_OTHER;
	for (i = 0; i < m->n; i++) {
		for (t = tags; *t != '\0'; t = *e ? e + 1 : e) {
			while (*t == ' ')
				t++;
			if ((e = strchr(t, ',')) == NULL)
				e = t + strlen(t);
			tlen = (size_t)(e - t);
			while (tlen > 0 && t[tlen - 1] == ' ')
				tlen--;
			if (tlen > 0 && cat_match(&m->v[i], t, tlen))
				return m->v[i].code;
		}
	}
	return CATEGORY_OTHER;
}
