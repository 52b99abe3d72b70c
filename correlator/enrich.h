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

/* Either path may be NULL.  NULL with err set when a file cannot be used. */
struct enrich	*enrich_open(const char *city_db, const char *asn_db,
		    char *err, size_t errlen);
void		 enrich_event(struct enrich *en, struct soc_event *ev);
void		 enrich_close(struct enrich *en);
uint64_t	 enrich_hits(const struct enrich *en);

#endif
