/*
 * Which rules of a directory load (docs/RULES.md, "Status and partial
 * directories"):
 *  - rules.min_status: a rule whose `status` is below it (experimental <
 *    test < stable) is skipped, not refused; deprecated and unsupported
 *    rules are always skipped, a rule without status always loads (an
 *    author's own rules often have none).  Skipped rules are recorded,
 *    with why, for `socctl rules check` and the correlator's log; a
 *    correlation that references one is skipped with it (rule-corr.c);
 *  - partial directories: a rule refused in a directory named `sigmahq`,
 *    or in one holding a file `.partial`, at or below one of the rules
 *    directories, is reported but not counted as an error, so a vendored
 *    collection loads what it can while one bad rule of the operator's own
 *    still refuses the set.  The refusals are kept as text (the first
 *    RS_MAX_SOFT_LISTED) and counted.
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "rule-int.h"

int
rs_status_parse(const char *s)
{
	static const char *const names[] = { "experimental", "test", "stable" };

	for (int i = 0; i < 3; i++)
		if (s != NULL && strcmp(s, names[i]) == 0)
			return i;
	return -2;
}

/* A directory path component named sigmahq, or a .partial file in it. */
static bool
dir_partial(const char *dir, size_t len)
{
	char path[1100];
	size_t b = len;

	while (b > 0 && dir[b - 1] != '/')
		b--;
	if (len - b == 7 && memcmp(dir + b, "sigmahq", 7) == 0)
		return true;
	if (len + sizeof("/.partial") > sizeof(path))
		return false;
	memcpy(path, dir, len);
	memcpy(path + len, "/.partial", sizeof("/.partial"));
	return access(path, F_OK) == 0;
}

/* Whether file lies in a partial directory under one of the roots. */
static bool
in_partial(struct rs_load *ld, const char *file)
{
	const char *slash = strrchr(file, '/');
	size_t dlen = slash != NULL ? (size_t)(slash - file) : 0;

	if (dlen == 0 || dlen >= sizeof(ld->pdir))
		return false;
	if (strncmp(ld->pdir, file, dlen) == 0 && ld->pdir[dlen] == '\0')
		return ld->pdir_partial;
	memcpy(ld->pdir, file, dlen);
	ld->pdir[dlen] = '\0';
	ld->pdir_partial = false;
	for (size_t r = 0; r < ld->nroots; r++) {
		size_t rl = strlen(ld->roots[r]);

		while (rl > 1 && ld->roots[r][rl - 1] == '/')
			rl--;
		if (dlen < rl || strncmp(file, ld->roots[r], rl) != 0 ||
		    (dlen > rl && file[rl] != '/'))
			continue;
		/* every directory from the root down to the file's */
		for (size_t e = rl; e <= dlen; e++) {
			if (e < dlen && file[e] != '/')
				continue;
			if (dir_partial(file, e)) {
				ld->pdir_partial = true;
				return true;
			}
		}
	}
	return false;
}

/* For rs_report: true if this refusal is in a partial directory (noted). */
bool
rs_report_soft(struct rs_load *ld, const char *file, const char *msg)
{
	char *dup;

	if (ld->roots == NULL || file == NULL || !in_partial(ld, file))
		return false;
	ld->nsoft_total++;
	if (ld->nsoft < RS_MAX_SOFT_LISTED) {
		char **nv = reallocarray(ld->soft, ld->nsoft + 1, sizeof(*nv));

		if (nv != NULL) {
			ld->soft = nv;
			if ((dup = strdup(msg)) != NULL)
				ld->soft[ld->nsoft++] = dup;
		}
	}
	return true;
}

void
rule_status_skip(struct rule **v, size_t n, int min_status)
{
	if (min_status == RS_STATUS_ANY)
		return;
	for (size_t i = 0; i < n; i++) {
		struct rule *r = v[i];
		int st;

		if (r->refused || r->status == NULL || *r->status == '\0')
			continue;
		st = rs_status_parse(r->status);
		if (st >= min_status)
			continue;
		r->refused = r->skipped = true;
		if (strcmp(r->status, "deprecated") == 0 ||
		    strcmp(r->status, "unsupported") == 0)
			r->skipwhy = "deprecated and unsupported rules never load";
		else if (st == -2)
			r->skipwhy = "status is none of experimental, test, stable";
		else
			r->skipwhy = "status below rules.min_status";
	}
}

/* Keeps what `rules check` shows of a skipped rule; -1 on no memory. */
int
rule_status_record(struct ruleset *rs, const struct rule *r)
{
	struct rs_skip *nv, *k;

	if ((nv = reallocarray(rs->skips, rs->nskips + 1, sizeof(*nv))) == NULL)
		return -1;
	rs->skips = nv;
	k = &nv[rs->nskips];
	k->file = strdup(r->file);
	k->title = strdup(r->title ? r->title : "");
	k->status = strdup(r->status ? r->status : "");
	k->why = r->skipwhy ? r->skipwhy : "skipped";
	k->line = r->line;
	if (k->file == NULL || k->title == NULL || k->status == NULL) {
		free(k->file);
		free(k->title);
		free(k->status);
		return -1;
	}
	rs->nskips++;
	return 0;
}

void
rule_status_free(struct ruleset *rs)
{
	for (size_t i = 0; i < rs->nskips; i++) {
		free(rs->skips[i].file);
		free(rs->skips[i].title);
		free(rs->skips[i].status);
	}
	free(rs->skips);
	for (size_t i = 0; i < rs->nsoft; i++)
		free(rs->soft[i]);
	free(rs->soft);
}

size_t
ruleset_skipped(const struct ruleset *rs)
{
	return rs->nskips;
}

int
ruleset_skipped_rule(const struct ruleset *rs, size_t i, const char **file,
    int *line, const char **title, const char **status, const char **why)
{
	const struct rs_skip *k;

	if (i >= rs->nskips)
		return -1;
	k = &rs->skips[i];
	if (file != NULL)
		*file = k->file;
	if (line != NULL)
		*line = k->line;
	if (title != NULL)
		*title = k->title;
	if (status != NULL)
		*status = k->status;
	if (why != NULL)
		*why = k->why;
	return 0;
}

size_t
ruleset_refused_partial(const struct ruleset *rs)
{
	return rs->nsoft_total;
}

const char *
ruleset_refused_partial_msg(const struct ruleset *rs, size_t i)
{
	return i < rs->nsoft ? rs->soft[i] : NULL;
}
