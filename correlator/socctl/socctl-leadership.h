/*
 * The leadership report's figures, shared by socctl-leadership.c (which
 * gathers them and prints the table, JSON and CSV) and
 * socctl-leadership-html.c (the self-contained HTML page).
 */
#ifndef SOCCTL_LEADERSHIP_H
#define SOCCTL_LEADERSHIP_H

#include <stddef.h>
#include <stdint.h>

struct ctx;

struct rep_fig {
	uint64_t	 incidents;
	uint64_t	 sev[5];
	uint64_t	 acked, resolved, met, missed;
	double		 ack_sum, res_sum;	/* seconds */
};

struct rep_cat {
	char		*name;		/* NULL: no category */
	struct rep_fig	 f;
};

struct rep_agency {
	char		*code, *name, *parent;
	int		 depth;
	int		 covered;	/* this agency, all four layers */
	size_t		 cov_covered;	/* its subtree */
	size_t		 cov_total;
	/* computers (issue 18), over its subtree: declared (0 none),
	 * reporting, protected */
	int64_t		 ep_declared;
	uint64_t	 ep_reporting, ep_protected;
	struct rep_fig	 f;
	struct rep_cat	*cats;
	size_t		 ncats;
};

/* A province's coverage as its last record gave it (a national DB). */
struct rep_prov {
	char			*name;
	int64_t			 reported_at;	/* ns */
	size_t			 covered, total;
};

struct rep {
	struct ctx		*c;
	struct rep_agency	*a;	/* in tree order */
	size_t			 n, cap;
	struct rep_cat		*cats;	/* the scope's totals per category */
	size_t			 ncats;
	struct rep_fig		 total;
	size_t			 cov_covered, cov_total;
	int			 deadlines;	/* the database keeps them */
	const char		*scope;		/* --agency, or NULL */
	int64_t			 since, until;
	int			 oom;
	struct rep_prov		*prov;	/* by name; none without --agency */
	size_t			 nprov;
};

/* Writes the page to path; 0, or 1 after the error. */
int	report_html(const struct rep *r, const char *path);

#endif
