/* The engine benchmarks' floor: bare hs_scan (bench/floor.c). */
#ifndef SOC_BENCH_FLOOR_H
#define SOC_BENCH_FLOOR_H

#include <stddef.h>
#include <stdint.h>

#include <hs/hs.h>

#include "soc/event.h"
#include "rule-int.h"
#include "rules.h"

struct en_field {
	int		 field;
	hs_database_t	*db;
};

struct en_floor {
	struct en_field	 f[SOC_F_COUNT];
	size_t		 nf;
	size_t		 npat;
	size_t		 bytes;
	double		 compile_s;
	hs_scratch_t	*scratch;
};

extern uint64_t	 en_hits;	/* matches the floor's scans reported */

/* Monotonic seconds, for timing. */
double	bench_now(void);

int	en_floor_build(const struct ruleset *rs, struct en_floor *fl);
void	en_floor_scan(const struct en_floor *fl, const struct soc_event *ev);
void	en_floor_free(struct en_floor *fl);

#endif
