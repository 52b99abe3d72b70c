/*
 * Inside ingest (ingest.c, ingest-national.c), not for its users: the
 * handle, the per-batch context and the national path's entry point.
 */
#ifndef SOC_CORR_INGEST_INT_H
#define SOC_CORR_INGEST_INT_H

#include <stddef.h>
#include <stdint.h>
#include "soc/event.h"
#include "soc/json.h"
#include "soc/wire.h"
#include "alert.h"
#include "ingest.h"
#include "store.h"

struct agg;
struct endpoints;
struct category_map;
struct evring;
struct intel_set;

#define POISON_SLOTS	64
#define SEQ_FAR_BEHIND	(3600ULL * 1000000)	/* an hour of microseconds */
#define AGG_KEYS	8192			/* incident keys per group */
#define AGG_ARENA	(32u << 20)		/* their strings and evidence */
#define EVRING_SLOTS	65536			/* events that fed windows ... */
#define EVRING_BYTES	(16u << 20)		/* ... kept for evidence */
#define REOPEN_WITHIN	(24 * 3600 * 1000000000LL)
#define SAFE_GROUPS	16	/* groups written per batch after a failure */
#define LOG_NEW_MAX	20	/* new incidents logged by name per group */
#define SEQ_AHEAD_CLOCK	(1ULL << 40)		/* 12.7 days of microseconds */
#define SEQ_AHEAD_STEP	(1ULL << 20)		/* about a sensor's floor block */

/* The alerts one province key sent in the current minute (national). */
#define NAT_SLOTS	256
struct nat_slot {
	char		name[128];	/* "" free */
	int64_t		minute;		/* wall clock, since the epoch */
	uint64_t	taken;		/* alerts accepted this minute */
	uint64_t	deferred;	/* alerts NACKed this minute */
	uint64_t	nbatches;	/* ... in so many batches */
	uint64_t	deferred_seq;	/* the last batch deferred (counted once) */
	int64_t		deferred_touch;	/* minute its time was last stored */
	int64_t		agency_logged;	/* minute of the last agency warning */
};

/* Failed attempts of one sensor's current batch. */
struct poison {
	char		name[128];
	uint64_t	seq;
	int		tries;
};

struct ingest {
	struct store		*st;
	struct ruleset		*rs;
	struct rs_scratch	*scratch;
	struct enrich		*en;
	struct ingest_stats	 n;
	int			 in_tx;
	int			 nreplies;
	struct ingest_reply	 replies[INGEST_GROUP_MAX];
	struct poison		 poison[POISON_SLOTS];
	int64_t			 implausible_logged;	/* mono ms */
	int64_t			 clamped_logged;	/* mono ms */
	struct soc_event	 ev;
	const uint8_t		*raw;		/* in->ev's wire bytes */
	size_t			 rawlen;
	uint64_t		 evno;		/* events decoded, names in->ev */
	struct soc_event	 fev;		/* evidence decoded at a flush */
	struct soc_sbuf		 fjson;		/* its JSON */
	struct soc_alert	 alert;		/* apply_alerts(): a record */
	struct soc_sbuf		 ajson;		/* ... and its JSON */
	char			 atags[ALERT_MAX_TAGS * ALERT_TAG_LEN]; /* its tags */
	struct agg		*agg;
	struct evring		*evring;	/* events that fed windows */
	int			 agg_failed;	/* a write of the sums failed */
	int			 safe_groups;	/* write per batch for so many */
	uint64_t		 logged;	/* new incidents logged this group */
	int			 keep_first, keep_last;
	int64_t			 reopen_within;
	int64_t			 max_ahead;	/* ns an event may be ahead */
	int64_t			 max_behind;	/* ... or behind; 0 no bound */
	struct soc_wbuf		 rewire;	/* a bounded event re-encoded */
	const struct category_map *cats;	/* cats_file, else built in */
	struct category_map	*cats_file;
	struct category_map	*cats_builtin;
	uint64_t		 nat_bound;	/* alerts per province per minute */
	struct nat_slot		 nat[NAT_SLOTS];
	struct intel_set	*intel;		/* indicators (borrowed) */
	struct endpoints	*ep;		/* the inventory (borrowed) */
	struct archive_writer	*arch;		/* the archive (borrowed) */
	int64_t			 arch_paused_at; /* as last written to the store */
	uint64_t		 arch_dropped;	/* ... ; UINT64_MAX: rewrite */
};

/* What on_alert needs while one batch is applied. */
struct batch_ctx {
	struct ingest			*in;
	const struct store_sensor	*sen;
	int				 failed;
};

/*
 * Apply one alert batch from an enrolled province inside the open
 * transaction, under its own savepoint: 0 = applied, -1 = undone alone,
 * INGEST_NAT_DEFER = over national.max_alerts_per_min, not applied
 * (counted; the caller NACKs it with the last number applied)
 * (ingest-national.c).
 */
#define INGEST_NAT_DEFER	(-3)
int	ingest_apply_alerts(struct ingest *in, const struct store_sensor *sen,
	    const struct soc_wire_hdr *hdr, const void *data, size_t len);

#endif
