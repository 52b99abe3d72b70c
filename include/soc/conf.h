/*
 * Configuration: YAML files read into a flat table of dotted keys, then
 * applied to a program's option table (name, type, default, bounds).
 * Every error names the file and line.  Command-line flags are applied
 * after the file, so the flag wins.
 */
#ifndef SOC_CONF_H
#define SOC_CONF_H

#include <stddef.h>
#include <stdint.h>

enum conf_type {
	CONF_STR,	/* char * (strdup'ed; previous value freed) */
	CONF_INT,	/* long long, within [min, max] */
	CONF_BOOL,	/* int: true/false/yes/no/on/off */
	CONF_LIST,	/* struct conf_list: scalar or sequence of scalars */
};

struct conf_list {
	char	**v;
	size_t	  n;
};

struct conf_opt {
	const char	*name;		/* dotted key, e.g. "capture.snaplen" */
	enum conf_type	 type;
	void		*dst;
	long long	 min, max;	/* CONF_INT bounds */
	const char	*help;		/* one line, for docs and --help */
};

/*
 * Load path and apply it to opts.  Returns 0, or -1 with a message
 * "path:line: reason" in err.  Unknown keys are errors (typos must not
 * pass silently).
 */
int	conf_load(const char *path, const struct conf_opt *opts, char *err,
	    size_t errlen);
/* Set one option from a string (for command-line flags). */
int	conf_set(const struct conf_opt *opts, const char *name,
	    const char *value, char *err, size_t errlen);
/*
 * For the daemons' two-pass command lines: load the file named by
 * -c/--config into opts (exiting with "file:line: reason" on error) and
 * rewind getopt, so the caller's own pass then applies flags over it.
 */
struct option;
void	conf_load_args(int argc, char **argv, const char *shortopts,
	    const struct option *longopts, const struct conf_opt *opts);
/* conf_set(), exiting with the reason on error (for flags). */
void	conf_set_or_die(const struct conf_opt *opts, const char *name,
	    const char *value);
void	conf_list_add(struct conf_list *l, const char *s);
void	conf_list_free(struct conf_list *l);

#endif
