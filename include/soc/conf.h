/*
 * Configuration: YAML files read into a flat table of dotted keys, then
 * applied to a program's option table.  The table is the one place an
 * option is described: its key, type, bounds, default, command-line flag
 * and help line.  The getopt_long arrays, the options part of --help and
 * the defaults are made from it, and tests/test_options.py holds the man
 * pages and example configs to it.  Every error names the file and line.
 * Command-line flags are applied after the file, so the flag wins.
 */
#ifndef SOC_CONF_H
#define SOC_CONF_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

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

/*
 * One row per option, written with designated initializers:
 *
 *	{ .name = "db", .type = CONF_STR, .dst = &C.db,
 *	  .def = "/var/lib/soc/soc.db", .flag = "db", .arg = "PATH",
 *	  .help = "incident database" },
 *
 * A row with a flag but no name is a command-line action (-t, -h, ...):
 * it has no config key and conf_getopt_apply() returns its .action.  The
 * table ends with a row that has neither name nor flag.
 */
struct conf_opt {
	const char	*name;		/* dotted key, e.g. "capture.snaplen" */
	enum conf_type	 type;
	void		*dst;
	long long	 min, max;	/* CONF_INT bounds */
	const char	*help;		/* one line, for --help */
	const char	*def;		/* default as a config value, or NULL */
	const char	*flag;		/* long flag without "--", or NULL */
	int		 letter;	/* short flag, or 0 */
	const char	*arg;		/* the flag's argument in --help; NULL:
					   the flag takes none */
	const char	*value;		/* set by a flag that takes none */
	int		 action;	/* > 0, for rows without a name */
};

/*
 * A row { .name = CONF_ANY_KEY } makes conf_load() ignore the keys no
 * other row names, for a program that reads a few keys of another's
 * file (socctl reads the correlator's).  Rows without .dst match no key.
 */
#define CONF_ANY_KEY	"*"

/* getopt_long's value for a flag without a letter: CONF_FLAG_BASE + row. */
#define CONF_FLAG_BASE	256

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
 * Apply every row's .def, as if it came from a file; call it before
 * conf_load().  Returns 0, or -1 with the row and reason in err.
 */
int	conf_defaults(const struct conf_opt *opts, char *err, size_t errlen);
/*
 * Fill longopts (nlong entries, the last left zero) and shortopts
 * (nshort bytes, NUL-terminated) from the rows that have a flag.
 * Returns 0, or -1 if either array is too small.
 */
struct option;
int	conf_getopt_build(const struct conf_opt *opts, struct option *longopts,
	    size_t nlong, char *shortopts, size_t nshort);
/*
 * Apply what getopt_long returned (ch, optarg) for arrays made by
 * conf_getopt_build(): a row with a key is set from the flag's argument,
 * or from .value if it takes none (exiting with the reason if the value
 * is refused), and 0 is returned; a row without a key returns its
 * .action.  Returns -1 if ch belongs to no row ('?' from getopt).
 */
int	conf_getopt_apply(const struct conf_opt *opts, int ch,
	    const char *arg);
/*
 * --help, made from the table: conf_synopsis() prints the usage line(s)
 * for prog; conf_usage() one aligned line per flag,
 * "  -c, --config FILE   help (default: X)".
 */
void	conf_synopsis(FILE *f, const char *prog, const struct conf_opt *opts);
void	conf_usage(FILE *f, const struct conf_opt *opts);
/*
 * The actions both daemons' tables use (.action of their -c, -t, -d, -h
 * and -V rows); a daemon's own actions start at CONF_ACT_OWN.
 */
enum { CONF_ACT_CONFIG = 1, CONF_ACT_TEST, CONF_ACT_DEBUG, CONF_ACT_HELP,
	CONF_ACT_VERSION, CONF_ACT_OWN };
/* The -d, -h and -V rows, the same in every daemon's table. */
#define CONF_OPTS_COMMON						\
	{ .flag = "debug", .letter = 'd', .action = CONF_ACT_DEBUG,	\
	  .help = "verbose logging" },					\
	{ .flag = "help", .letter = 'h', .action = CONF_ACT_HELP,	\
	  .help = "this help" },					\
	{ .flag = "version", .letter = 'V', .action = CONF_ACT_VERSION,	\
	  .help = "print the version" }

/*
 * A daemon's command line, in two passes: the file named by -c/--config
 * is loaded into opts first (exiting with "file:line: reason" on error),
 * then every flag is applied over it.  -t and -d set *test and *debug;
 * -h prints usage(stdout) and exits 0; -V prints "prog version" and
 * exits 0; a bad flag or a stray argument prints usage(stderr) and exits
 * 1; an action from CONF_ACT_OWN on goes to own(action) (may be NULL if
 * there is none).
 */
void	conf_parse_args(const struct conf_opt *opts, int argc, char **argv,
	    const char *prog, const char *version, void (*usage)(FILE *),
	    void (*own)(int action), int *test, int *debug);
/* conf_set(), exiting with the reason on error (for flags). */
void	conf_set_or_die(const struct conf_opt *opts, const char *name,
	    const char *value);
void	conf_list_add(struct conf_list *l, const char *s);
void	conf_list_free(struct conf_list *l);

#endif
