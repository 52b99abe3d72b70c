/*
 * Config files: YAML mappings (nested mappings become dotted keys) applied
 * to a program's option table.  Each value is checked against its type and
 * bounds, and every complaint names the file and line, so `-t` can tell
 * an operator exactly what to fix.  The same table gives the defaults,
 * the getopt_long arrays and the options part of --help, so a flag is
 * described once.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <getopt.h>
#include <yaml.h>

#include "soc/conf.h"
#include "soc/log.h"

void
conf_list_add(struct conf_list *l, const char *s)
{
	char **v, *d;

	if ((d = strdup(s)) == NULL)
		return;
	if ((v = realloc(l->v, (l->n + 1) * sizeof(*v))) == NULL) {
		free(d);
		return;
	}
	v[l->n++] = d;
	l->v = v;
}

void
conf_list_free(struct conf_list *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->v[i]);
	free(l->v);
	l->v = NULL;
	l->n = 0;
}

/* The table ends with a row that has neither a key nor a flag. */
static int
row_end(const struct conf_opt *o)
{
	return o->name == NULL && o->flag == NULL;
}

static const struct conf_opt *
find_opt(const struct conf_opt *opts, const char *name)
{
	for (; !row_end(opts); opts++)
		if (opts->name != NULL && opts->dst != NULL &&
		    strcmp(opts->name, name) == 0)
			return opts;
	return NULL;
}

/* The table has a CONF_ANY_KEY row: keys of no other row are ignored. */
static int
any_key(const struct conf_opt *opts)
{
	for (; !row_end(opts); opts++)
		if (opts->name != NULL && strcmp(opts->name, CONF_ANY_KEY) == 0)
			return 1;
	return 0;
}

static int
set_value(const struct conf_opt *o, const char *value, char *err, size_t errlen)
{
	long long v;
	char *end, **sp;

	switch (o->type) {
	case CONF_STR:
		sp = o->dst;
		free(*sp);
		if ((*sp = strdup(value)) == NULL) {
			snprintf(err, errlen, "out of memory");
			return -1;
		}
		return 0;
	case CONF_INT:
		errno = 0;
		v = strtoll(value, &end, 10);
		if (errno != 0 || end == value || *end != '\0') {
			snprintf(err, errlen, "%s: \"%s\" is not a whole number",
			    o->name, value);
			return -1;
		}
		if (v < o->min || v > o->max) {
			snprintf(err, errlen, "%s: %lld is out of range "
			    "(%lld to %lld)", o->name, v, o->min, o->max);
			return -1;
		}
		*(long long *)o->dst = v;
		return 0;
	case CONF_BOOL:
		if (!strcasecmp(value, "true") || !strcasecmp(value, "yes") ||
		    !strcasecmp(value, "on") || !strcmp(value, "1"))
			*(int *)o->dst = 1;
		else if (!strcasecmp(value, "false") || !strcasecmp(value, "no") ||
		    !strcasecmp(value, "off") || !strcmp(value, "0"))
			*(int *)o->dst = 0;
		else {
			snprintf(err, errlen, "%s: \"%s\" is not true or false",
			    o->name, value);
			return -1;
		}
		return 0;
	case CONF_LIST:
		conf_list_add(o->dst, value);
		return 0;
	}
	return -1;
}

int
conf_set(const struct conf_opt *opts, const char *name, const char *value,
    char *err, size_t errlen)
{
	const struct conf_opt *o = find_opt(opts, name);

	if (o == NULL) {
		snprintf(err, errlen, "unknown option \"%s\"", name);
		return -1;
	}
	return set_value(o, value, err, errlen);
}

int
conf_defaults(const struct conf_opt *opts, char *err, size_t errlen)
{
	char msg[512];

	for (; !row_end(opts); opts++) {
		if (opts->name == NULL || opts->def == NULL)
			continue;
		if (set_value(opts, opts->def, msg, sizeof(msg)) == -1) {
			snprintf(err, errlen, "default of %s", msg);
			return -1;
		}
	}
	return 0;
}

struct walk {
	const char		*path;
	const struct conf_opt	*opts;
	yaml_document_t		*doc;
	char			*err;
	size_t			 errlen;
};

static int
walk_error(struct walk *w, const yaml_node_t *n, const char *msg)
{
	snprintf(w->err, w->errlen, "%s:%zu: %s", w->path,
	    n->start_mark.line + 1, msg);
	return -1;
}

static int walk_map(struct walk *, yaml_node_t *, const char *);

static int
walk_value(struct walk *w, const char *key, yaml_node_t *v)
{
	const struct conf_opt *o;
	char msg[512];

	if (v->type == YAML_MAPPING_NODE)
		return walk_map(w, v, key);
	if ((o = find_opt(w->opts, key)) == NULL) {
		if (any_key(w->opts))
			return 0;
		snprintf(msg, sizeof(msg), "unknown option \"%s\"", key);
		return walk_error(w, v, msg);
	}
	if (v->type == YAML_SEQUENCE_NODE) {
		if (o->type != CONF_LIST) {
			snprintf(msg, sizeof(msg), "%s takes one value, not a list", key);
			return walk_error(w, v, msg);
		}
		for (yaml_node_item_t *i = v->data.sequence.items.start;
		    i < v->data.sequence.items.top; i++) {
			yaml_node_t *it = yaml_document_get_node(w->doc, *i);

			if (it == NULL || it->type != YAML_SCALAR_NODE)
				return walk_error(w, v, "list items must be plain values");
			if (set_value(o, (char *)it->data.scalar.value, msg,
			    sizeof(msg)) == -1)
				return walk_error(w, it, msg);
		}
		return 0;
	}
	if (set_value(o, (char *)v->data.scalar.value, msg, sizeof(msg)) == -1)
		return walk_error(w, v, msg);
	return 0;
}

static int
walk_map(struct walk *w, yaml_node_t *map, const char *prefix)
{
	for (yaml_node_pair_t *p = map->data.mapping.pairs.start;
	    p < map->data.mapping.pairs.top; p++) {
		yaml_node_t *k = yaml_document_get_node(w->doc, p->key);
		yaml_node_t *v = yaml_document_get_node(w->doc, p->value);
		char key[256];

		if (k == NULL || v == NULL || k->type != YAML_SCALAR_NODE)
			return walk_error(w, map, "keys must be plain words");
		if (snprintf(key, sizeof(key), "%s%s%s", prefix,
		    *prefix ? "." : "", (char *)k->data.scalar.value) >=
		    (int)sizeof(key))
			return walk_error(w, k, "key too long");
		if (walk_value(w, key, v) == -1)
			return -1;
	}
	return 0;
}

int
conf_load(const char *path, const struct conf_opt *opts, char *err,
    size_t errlen)
{
	yaml_parser_t parser;
	yaml_document_t doc;
	yaml_node_t *root;
	struct walk w = { path, opts, &doc, err, errlen };
	FILE *f;
	int rc = -1;

	if ((f = fopen(path, "rb")) == NULL) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	yaml_parser_initialize(&parser);
	yaml_parser_set_input_file(&parser, f);
	if (!yaml_parser_load(&parser, &doc)) {
		snprintf(err, errlen, "%s:%zu: %s", path,
		    parser.problem_mark.line + 1,
		    parser.problem ? parser.problem : "YAML syntax error");
		goto done;
	}
	root = yaml_document_get_root_node(&doc);
	if (root == NULL)
		rc = 0;		/* empty file: all defaults */
	else if (root->type != YAML_MAPPING_NODE)
		rc = walk_error(&w, root, "a config file is a mapping of "
		    "option: value");
	else
		rc = walk_map(&w, root, "");
	yaml_document_delete(&doc);
done:
	yaml_parser_delete(&parser);
	fclose(f);
	return rc;
}

/* The first pass: load the file named by -c/--config, rewind getopt. */
static void
conf_load_args(int argc, char **argv, const char *shortopts,
    const struct option *longopts, const struct conf_opt *opts)
{
	const char *config = NULL;
	char err[1024];
	int ch;

	opterr = 0;
	while ((ch = getopt_long(argc, argv, shortopts, longopts, NULL)) != -1)
		if (ch == 'c')
			config = optarg;
	if (config != NULL && conf_load(config, opts, err, sizeof(err)) == -1)
		fatalx("%s", err);
	optind = 1;
	opterr = 1;
}

void
conf_parse_args(const struct conf_opt *opts, int argc, char **argv,
    const char *prog, const char *version, void (*usage)(FILE *),
    void (*own)(int action), int *test, int *debug)
{
	struct option longopts[96];
	char shortopts[96];
	int ch, act;

	if (conf_getopt_build(opts, longopts, 96, shortopts, 96) == -1)
		fatalx("option table too large");
	conf_load_args(argc, argv, shortopts, longopts, opts);
	while ((ch = getopt_long(argc, argv, shortopts, longopts, NULL)) != -1) {
		switch ((act = conf_getopt_apply(opts, ch, optarg))) {
		case 0:			/* a config key, set */
		case CONF_ACT_CONFIG:	/* loaded in the first pass */
			break;
		case CONF_ACT_TEST:
			*test = 1;
			break;
		case CONF_ACT_DEBUG:
			*debug = 1;
			break;
		case CONF_ACT_HELP:
			usage(stdout);
			exit(0);
		case CONF_ACT_VERSION:
			printf("%s %s\n", prog, version);
			exit(0);
		default:
			if (act < CONF_ACT_OWN || own == NULL) {
				usage(stderr);
				exit(1);
			}
			own(act);
		}
	}
	if (optind < argc) {
		fprintf(stderr, "%s: unexpected argument \"%s\"\n", prog,
		    argv[optind]);
		usage(stderr);
		exit(1);
	}
}

void
conf_set_or_die(const struct conf_opt *opts, const char *name, const char *value)
{
	char err[512];

	if (conf_set(opts, name, value, err, sizeof(err)) == -1)
		fatalx("%s", err);
}

int
conf_getopt_build(const struct conf_opt *opts, struct option *longopts,
    size_t nlong, char *shortopts, size_t nshort)
{
	size_t nl = 0, ns = 0;

	for (size_t i = 0; !row_end(&opts[i]); i++) {
		const struct conf_opt *o = &opts[i];

		if (o->flag == NULL)
			continue;
		if (nl + 1 >= nlong || ns + 3 > nshort)
			return -1;
		longopts[nl++] = (struct option){ o->flag,
		    o->arg != NULL ? required_argument : no_argument, NULL,
		    o->letter != 0 ? o->letter : CONF_FLAG_BASE + (int)i };
		if (o->letter != 0) {
			shortopts[ns++] = (char)o->letter;
			if (o->arg != NULL)
				shortopts[ns++] = ':';
		}
	}
	if (nl >= nlong || ns >= nshort)
		return -1;
	longopts[nl] = (struct option){ NULL, 0, NULL, 0 };
	shortopts[ns] = '\0';
	return 0;
}

static const struct conf_opt *
find_flag(const struct conf_opt *opts, int ch)
{
	int i;

	for (i = 0; !row_end(&opts[i]); i++) {
		if (opts[i].flag == NULL)
			continue;
		if (ch < CONF_FLAG_BASE ? opts[i].letter == ch :
		    i == ch - CONF_FLAG_BASE)
			return &opts[i];
	}
	return NULL;
}

int
conf_getopt_apply(const struct conf_opt *opts, int ch, const char *arg)
{
	const struct conf_opt *o;
	char err[512];

	if (ch <= 0 || (o = find_flag(opts, ch)) == NULL)
		return -1;
	if (o->name == NULL)
		return o->action;
	if (set_value(o, o->arg != NULL ? arg :
	    o->value != NULL ? o->value : "true", err, sizeof(err)) == -1)
		fatalx("%s", err);
	return 0;
}

/* "-c FILE" or "--connect ENDPOINT": how a flag is written in --help. */
static int
flag_text(const struct conf_opt *o, int both, char *buf, size_t len)
{
	if (o->letter != 0 && both)
		return snprintf(buf, len, "-%c, --%s%s%s", o->letter, o->flag,
		    o->arg ? " " : "", o->arg ? o->arg : "");
	if (both)
		return snprintf(buf, len, "    --%s%s%s", o->flag,
		    o->arg ? " " : "", o->arg ? o->arg : "");
	if (o->letter != 0)
		return snprintf(buf, len, "-%c%s%s", o->letter,
		    o->arg ? " " : "", o->arg ? o->arg : "");
	return snprintf(buf, len, "--%s%s%s", o->flag, o->arg ? " " : "",
	    o->arg ? o->arg : "");
}

#define USAGE_WIDTH	79

void
conf_synopsis(FILE *f, const char *prog, const struct conf_opt *opts)
{
	char item[128];
	int indent, col, n;

	col = indent = fprintf(f, "usage: %s", prog);
	for (; !row_end(opts); opts++) {
		if (opts->flag == NULL)
			continue;
		flag_text(opts, 0, item, sizeof(item));
		n = (int)strlen(item) + 3 +
		    (opts->type == CONF_LIST && opts->name ? 3 : 0);
		if (col + n > USAGE_WIDTH) {
			fprintf(f, "\n%*s", indent, "");
			col = indent;
		}
		col += fprintf(f, " [%s]%s", item,
		    opts->type == CONF_LIST && opts->name ? "..." : "");
	}
	fputc('\n', f);
}

void
conf_usage(FILE *f, const struct conf_opt *opts)
{
	const struct conf_opt *o;
	char left[128];
	int width = 0, n;

	for (o = opts; !row_end(o); o++)
		if (o->flag != NULL &&
		    (n = flag_text(o, 1, left, sizeof(left))) > width)
			width = n;
	for (o = opts; !row_end(o); o++) {
		if (o->flag == NULL)
			continue;
		flag_text(o, 1, left, sizeof(left));
		fprintf(f, "  %-*s  %s", width, left, o->help ? o->help : "");
		/* a flag without an argument does not set the default */
		if (o->name != NULL && o->def != NULL && o->arg != NULL)
			fprintf(f, " (default: %s)", o->def);
		fputc('\n', f);
	}
}
