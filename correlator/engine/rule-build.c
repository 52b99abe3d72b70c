/*
 * The bottom of the rule builder: the first reason a rule is refused
 * (rb_fail), the vectors and the condition nodes every part of the loader
 * appends to (rb_node, rb_group, rule_kids_add, rule_ivec_push) and the
 * integer parse they share.  Calls nothing of the engine.
 */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rule-int.h"

int
rb_vfail(struct rule_build *c, int line, const char *fmt, va_list ap)
{
	if (c->err[0] != '\0')
		return -1;
	vsnprintf(c->err, sizeof(c->err), fmt, ap);
	c->errline = line;
	return -1;
}

int
rb_fail(struct rule_build *c, int line, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	rb_vfail(c, line, fmt, ap);
	va_end(ap);
	return -1;
}

int
rule_ivec_push(struct rule_ivec *v, uint32_t x)
{
	if (v->n == v->cap) {
		size_t ncap = v->cap ? v->cap * 2 : 8;
		uint32_t *nv = reallocarray(v->v, ncap, sizeof(*nv));

		if (nv == NULL)
			return -1;
		v->v = nv;
		v->cap = ncap;
	}
	v->v[v->n++] = x;
	return 0;
}

int
rule_parse_int64(const char *s, int64_t *out)
{
	char *end;
	long long v;

	if (s == NULL || *s == '\0' || isspace((unsigned char)*s))
		return -1;
	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno != 0 || *end != '\0')
		return -1;
	*out = v;
	return 0;
}

static int
node_new(struct rule *r, int type)
{
	if (r->nnodes == r->nodes_cap) {
		uint32_t ncap = r->nodes_cap ? r->nodes_cap * 2 : 16;
		struct rule_node *nn = reallocarray(r->nodes, ncap, sizeof(*nn));

		if (nn == NULL)
			return -1;
		r->nodes = nn;
		r->nodes_cap = ncap;
	}
	memset(&r->nodes[r->nnodes], 0, sizeof(r->nodes[0]));
	r->nodes[r->nnodes].type = (uint8_t)type;
	r->nodes[r->nnodes].field = -1;
	return (int)r->nnodes++;
}

int
rb_node(struct rule_build *c, int type, int field)
{
	int n = node_new(c->r, type);

	if (n == -1)
		return rb_fail(c, 0, "out of memory");
	c->r->nodes[n].field = (int16_t)field;
	return n;
}

/* Appends kids to r->kids; the index of the first, or -1. */
int
rule_kids_add(struct rule_build *c, const uint32_t *kids, size_t n)
{
	struct rule *r = c->r;
	uint32_t first = r->nkids;

	if (r->nkids + n > r->kids_cap) {
		uint32_t ncap = r->kids_cap ? r->kids_cap : 16;
		uint32_t *nk;

		while (ncap < r->nkids + n)
			ncap *= 2;
		if ((nk = reallocarray(r->kids, ncap, sizeof(*nk))) == NULL)
			return rb_fail(c, 0, "out of memory");
		r->kids = nk;
		r->kids_cap = ncap;
	}
	if (n > 0)
		memcpy(&r->kids[r->nkids], kids, n * sizeof(*kids));
	r->nkids += (uint32_t)n;
	return (int)first;
}

/* AND/OR/NOT over kids (a group of one collapses to the kid). */
int
rb_group(struct rule_build *c, int type, const uint32_t *kids, size_t n)
{
	struct rule *r = c->r;
	int idx, first;

	if (n == 1 && type != RN_NOT)
		return (int)kids[0];
	if (n == 0)
		return rb_node(c, type == RN_AND ? RN_TRUE : RN_FALSE, -1);
	if ((first = rule_kids_add(c, kids, n)) == -1)
		return -1;
	if ((idx = rb_node(c, type, -1)) == -1)
		return -1;
	r->nodes[idx].kid = (uint32_t)first;
	r->nodes[idx].nkids = (uint32_t)n;
	return idx;
}
