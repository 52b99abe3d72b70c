/*
 * Enrichment before matching: GeoIP city/country and ASN of source.ip
 * from MaxMind databases (libmaxminddb), so rules can use
 * source.geo.country_iso_code or source.as.number.  Optional: with no
 * database configured nothing is looked up.
 */
#ifndef SOC_CORR_ENRICH_H
#define SOC_CORR_ENRICH_H

#include <stdint.h>
#include "soc/event.h"

struct enrich;

/*
 * Either path may be NULL.  NULL with err set when a file cannot be used:
 * missing, unreadable, not a MaxMind DB, or corrupt in a record read at
 * open.  The files are read into private memory (enrich-geoip.c), so a
 * file changed afterwards does not affect the running process.
 */
struct enrich	*enrich_open(const char *city_db, const char *asn_db,
		    char *err, size_t errlen);
/*
 * Reads the same files again (after an update; SIGHUP).  0, or -1 with
 * err set and the databases already open kept.
 */
int		 enrich_reload(struct enrich *en, char *err, size_t errlen);
void		 enrich_event(struct enrich *en, struct soc_event *ev);
void		 enrich_close(struct enrich *en);
uint64_t	 enrich_hits(const struct enrich *en);
/* Lookups that failed on a corrupt record (the first one is logged). */
uint64_t	 enrich_errors(const struct enrich *en);

#endif
