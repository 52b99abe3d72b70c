/*
 * Indicator files (intel-parse.c): readers of untrusted bytes for the
 * three formats `socctl intel import` takes -- a typed list (TYPE VALUE
 * per line, # comments), a STIX 2.1 bundle (indicators with a single
 * equality pattern) and a MISP feed (manifest.json and one event file
 * per event) -- each handing every indicator it finds, or the reason it
 * refused one, to a callback.  Nothing here touches the database.
 *
 * Bounds: INTEL_FILE_MAX bytes per file (the caller checks the size
 * before reading), INTEL_JSON_DEPTH levels of nesting, INTEL_JSON_NODES
 * values per document.  A document past a bound is refused whole, with
 * the reason.
 */
#ifndef SOC_CORR_INTEL_PARSE_H
#define SOC_CORR_INTEL_PARSE_H

#include <stddef.h>
#include <stdint.h>

#define INTEL_FILE_MAX		(256u << 20)	/* bytes per file */
#define INTEL_JSON_DEPTH	64
#define INTEL_JSON_NODES	(12u << 20)
#define INTEL_CONF_DEFAULT	50

/* One indicator as a file gives it: the value is not normalized yet. */
struct intel_raw {
	int		 type;		/* enum intel_type; -1: refused */
	const char	*value;		/* not NUL-terminated */
	size_t		 len;
	const char	*tags;		/* comma-separated, NUL-terminated */
	int		 confidence;	/* 0..100 */
	int64_t		 first_seen, last_seen, expires;	/* ns, 0 none */
	const char	*why;		/* type -1: the reason */
	long		 where;		/* line, or object number (1-based) */
};
/* 0 to go on, -1 to stop (allocation failure) */
typedef int (*intel_raw_fn)(void *arg, const struct intel_raw *r);

/* Each returns 0, or -1 with "reason" in err (the document refused). */
int	intel_parse_list(const char *data, size_t len, intel_raw_fn fn,
	    void *arg, char *err, size_t errlen);
int	intel_parse_stix(const char *data, size_t len, intel_raw_fn fn,
	    void *arg, char *err, size_t errlen);
int	intel_parse_misp_event(const char *data, size_t len, intel_raw_fn fn,
	    void *arg, char *err, size_t errlen);
/* manifest.json: fn gets each event's uuid (checked: hex and dashes). */
int	intel_parse_misp_manifest(const char *data, size_t len,
	    int (*fn)(void *arg, const char *uuid), void *arg, char *err,
	    size_t errlen);
/* A .json file: a STIX bundle ("type": "bundle") or a MISP event. */
int	intel_parse_json(const char *data, size_t len, intel_raw_fn fn,
	    void *arg, char *err, size_t errlen);

/*
 * STIX pattern of one equality ("[ipv4-addr:value = '10.0.0.1']"): the
 * type and the value (unescaped into val).  0, or -1 with the reason
 * (a pattern with OR, AND, FOLLOWEDBY, ... named).
 */
int	intel_stix_pattern(const char *p, size_t len, int *type, char *val,
	    size_t vallen, const char **why);

#endif
