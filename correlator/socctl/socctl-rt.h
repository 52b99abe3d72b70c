/*
 * The alerts of a rule set printed as `socctl rules test` prints them
 * (socctl-rules.c), shared with `socctl hunt` (socctl-hunt.c), which adds
 * the agency of each alert and a hook for --raise.
 */
#ifndef SOCCTL_RT_H
#define SOCCTL_RT_H

#include <stdint.h>

#include "soc/json.h"
#include "rules.h"

#define RT_FLUSH	(1 << 20)	/* output written in pieces this big */
#define RT_RCACHE	64		/* rules whose output is kept formatted */

struct rt_rule {
	const struct rule	*rule;
	struct soc_sbuf		 text;	/* "  level     title      ...  " */
	struct soc_sbuf		 json;	/* {"rule":{...},"group_key": */
};

struct rt {
	struct auditd_asm	*auditd;	/* audit records, joined */
	struct ruleset		*rs;
	struct rs_scratch	*sc;
	int			 json;
	uint64_t		 events;
	uint64_t		 alerts;
	uint64_t		 bad_lines;
	struct soc_sbuf		 out;		/* output not yet written */
	size_t			 flush_at;
	int			 werr;		/* errno of a failed write */
	int			 first;
	const struct soc_event	*cur;		/* being matched; NULL in tick */
	size_t			 ev_off;	/* its JSON in out, once written */
	size_t			 ev_len;
	struct rt_rule		 rcache[RT_RCACHE];
	/* socctl hunt */
	int			 agency;	/* print each alert's agency */
	rs_alert_fn		 hook;		/* also called per alert */
	void			*hook_arg;
};

/* Starts the output (--json: the array's "["). */
void	rt_begin(struct rt *t);
/* One event matched, its alerts printed. */
void	rt_match(struct rt *t, const struct soc_event *ev);
/* An alert printed (an rs_alert_fn: arg is the struct rt). */
void	rt_alert(void *arg, const struct rs_alert *a);
/*
 * End of input: the windows still open judged, the output finished and
 * written.  0, or -1 after saying why on stderr (cmd names the command).
 */
int	rt_finish(struct rt *t, const char *cmd);
void	rt_free(struct rt *t);

#endif
