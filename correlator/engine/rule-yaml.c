/*
 * The bottom of the rule loader: walking libyaml's document tree (ry_*)
 * and reporting why a file or a rule is refused (rs_report, sg_fail).
 * Every file of the loader above calls these; they call nothing of the
 * engine but the rule builder's error slot (rule-build.c) and the soft
 * refusal list (rule-status.c).
 */
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <yaml.h>

#include "rule-int.h"

void
rs_report(struct rs_load *ld, const char *file, int line, const char *fmt, ...)
{
	char msg[1024], out[1400];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (line > 0)
		snprintf(out, sizeof(out), "%s:%d: %s", file, line, msg);
	else
		snprintf(out, sizeof(out), "%s: %s", file, msg);
	if (!rs_report_soft(ld, file, out))
		ld->nerrors++;
	if (ld->err != NULL)
		ld->err(ld->arg, out);
}

/* Records the first reason the current rule is refused; returns -1. */
int
sg_fail(struct sg_ctx *c, const yaml_node_t *n, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	rb_vfail(&c->b, n != NULL ? (int)n->start_mark.line + 1 : 0, fmt, ap);
	va_end(ap);
	return -1;
}

yaml_node_t *
ry_node(yaml_document_t *d, int idx)
{
	return yaml_document_get_node(d, idx);
}

/* Scalar text or NULL. */
const char *
ry_scalar(const yaml_node_t *n)
{
	if (n == NULL || n->type != YAML_SCALAR_NODE)
		return NULL;
	return (const char *)n->data.scalar.value;
}

bool
ry_is_null(const yaml_node_t *n)
{
	const char *s = ry_scalar(n);

	if (s == NULL || n->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
		return false;
	return *s == '\0' || strcmp(s, "null") == 0 || strcmp(s, "Null") == 0 ||
	    strcmp(s, "NULL") == 0 || strcmp(s, "~") == 0;
}

yaml_node_t *
ry_map_get(yaml_document_t *d, const yaml_node_t *map, const char *key)
{
	yaml_node_pair_t *p;
	const char *k;

	if (map == NULL || map->type != YAML_MAPPING_NODE)
		return NULL;
	for (p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top;
	    p++) {
		k = ry_scalar(ry_node(d, p->key));
		if (k != NULL && strcmp(k, key) == 0)
			return ry_node(d, p->value);
	}
	return NULL;
}

int
ry_line(const yaml_node_t *n)
{
	return (int)n->start_mark.line + 1;
}

/* Parses "true"/"false" (YAML 1.1 spellings too); -1 if neither. */
int
ry_bool(const char *s)
{
	if (s == NULL)
		return -1;
	if (strcasecmp(s, "true") == 0 || strcasecmp(s, "yes") == 0)
		return 1;
	if (strcasecmp(s, "false") == 0 || strcasecmp(s, "no") == 0)
		return 0;
	return -1;
}
