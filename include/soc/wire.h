/*
 * Wire format between sensor and correlator: a batch of events (or a
 * heartbeat) in a compact, versioned binary encoding.  All integers are
 * little-endian.  The decoder trusts nothing: every length is checked
 * against what is left, and a malformed batch is refused as a whole with
 * a reason, so one bad sensor cannot smuggle half a batch into the store.
 *
 *   batch   := magic "SOCB" | version u8 | kind u8 | flags u16
 *              | seq u64 | count u32 | prev u64 | record{count}
 *   event   := len u32 | ts i64 | nfields u16 | field{nfields}
 *              (len counts from ts to the end of the last field)
 *   field   := id u16 | len u16 | value[len]
 *              value: STR bytes; INT/TIME 8 bytes; IP 4 or 16 bytes
 *   counter := namelen u8 | name | value u64       (kind HEARTBEAT)
 *   blob    := len u32 | bytes[len]                (kind ALERTS)
 *
 * Unknown field ids (from a newer sensor) are skipped and counted, so
 * version 1 decoders keep working as the registry grows.  Dynamic fields
 * (winlog.event_data.*, see event.h) travel by name, with the id
 * SOC_WIRE_NAMED: value = namelen u8 | name | bytes; a decoder that
 * predates them skips and counts them as unknown ids, and one that knows
 * them interns the name (a name it refuses is counted the same way).  Event flags
 * travel that way too: a cut event (SOC_EV_TRUNCATED) carries the field
 * soc.truncated = 1, written even when only the flag was set, and a
 * decoder that knows the field sets the flag back.
 *
 * An ALERTS batch carries opaque records (one alert each, in the JSON of
 * correlator/alert.h) from a provincial correlator to the national one.
 * The wire layer checks only their framing; the same header, seq, prev
 * chain and ack/nack rules apply as to EVENTS, so a receiver runs one
 * chain logic for both.  A blob may be empty; its bytes are not
 * NUL-terminated.
 *
 * prev is the sequence number of the batch the sensor sent before this one
 * in its queue, or 0 when everything before it is known committed (or
 * knowingly dropped and counted).  The correlator applies a batch only
 * when prev is 0, its own last committed number for that sensor, or below
 * it (batches the sensor dropped under its spool bound, counted there), so
 * a batch lost in transit can never be skipped over by a later one.
 *
 * Replies go the other way: "SOCA" | version u8 | kind u8 | pad[2] | seq
 * u64.  An ACK (kind 0) says everything up to seq is committed; a NACK
 * (kind 1) says "I have everything up to seq and nothing after: resend
 * from there".
 */
#ifndef SOC_WIRE_H
#define SOC_WIRE_H

#include <stddef.h>
#include <stdint.h>
#include "soc/event.h"

#define SOC_WIRE_MAGIC		"SOCB"
#define SOC_WIRE_ACK_MAGIC	"SOCA"
#define SOC_WIRE_VERSION	1
#define SOC_WIRE_HDR_LEN	28
#define SOC_WIRE_ACK_LEN	16
#define SOC_WIRE_MAX_BATCH	(8u << 20)	/* refuse anything larger */
#define SOC_WIRE_NAMED		0xffff	/* field id of a field sent by name */

enum soc_wire_kind {
	SOC_WIRE_EVENTS = 1,
	SOC_WIRE_HEARTBEAT = 2,
	SOC_WIRE_ALERTS = 3,
};

/* Encoder: appends into a caller-owned growable buffer. */
struct soc_wbuf {
	uint8_t		*data;
	size_t		 len;
	size_t		 cap;
	uint32_t	 count;		/* records so far */
};

void	soc_wbuf_init(struct soc_wbuf *b);
void	soc_wbuf_free(struct soc_wbuf *b);
/* Start a batch (resets the buffer). */
void	soc_wire_begin(struct soc_wbuf *b, enum soc_wire_kind kind, uint64_t seq);
/* Append one event / one counter.  -1 only on allocation failure. */
int	soc_wire_add_event(struct soc_wbuf *b, const struct soc_event *ev);
int	soc_wire_add_counter(struct soc_wbuf *b, const char *name, uint64_t v);
/* Append one opaque record (kind ALERTS).  -1 on allocation failure or
 * when the blob could never fit in a batch (len > SOC_WIRE_MAX_BATCH). */
int	soc_wire_add_blob(struct soc_wbuf *b, const void *data, size_t len);
/* Append one event record already encoded by soc_wire_add_event() (its
 * len u32 and the rest: len + 4 bytes).  -1 on allocation failure. */
int	soc_wire_add_record(struct soc_wbuf *b, const void *rec, size_t len);
/* Patch seq / prev into an already built batch (the uplink numbers
 * batches and chains them when it sends them). */
void	soc_wire_set_seq(uint8_t *batch, size_t len, uint64_t seq);
void	soc_wire_set_prev(uint8_t *batch, size_t len, uint64_t prev);

/* Decoder. */
struct soc_wire_hdr {
	uint8_t		version;
	uint8_t		kind;
	uint64_t	seq;
	uint32_t	count;
	uint64_t	prev;
};

struct soc_wire_reader {
	const uint8_t	*p;
	size_t		 left;
	uint32_t	 remaining;	/* records not yet read */
	uint8_t		 kind;		/* of the batch being read */
	uint64_t	 unknown_fields;
};

/* Checks the header; returns 0, or -1 with *why set to a static reason. */
int	soc_wire_open(struct soc_wire_reader *r, const void *data, size_t len,
	    struct soc_wire_hdr *hdr, const char **why);
/* Next event: 1 = got one, 0 = end, -1 = malformed (*why set).  Each
 * next_* refuses a batch of another kind. */
int	soc_wire_next_event(struct soc_wire_reader *r, struct soc_event *ev,
	    const char **why);
/* Next counter: 1/0/-1 as above; name is copied NUL-terminated. */
int	soc_wire_next_counter(struct soc_wire_reader *r, char name[256],
	    uint64_t *v, const char **why);
/* Next blob: 1/0/-1 as above.  *data points into the batch (no copy),
 * valid as long as the batch is. */
int	soc_wire_next_blob(struct soc_wire_reader *r, const void **data,
	    size_t *len, const char **why);
/* Check a whole batch without keeping anything: 0 or -1 (*why). */
int	soc_wire_validate(const void *data, size_t len, const char **why);

enum soc_wire_reply {
	SOC_WIRE_ACK = 0,
	SOC_WIRE_NACK = 1,
};

void	soc_wire_ack_encode(uint8_t out[SOC_WIRE_ACK_LEN], uint64_t seq,
	    enum soc_wire_reply kind);
/* Returns the reply kind, or -1 if malformed. */
int	soc_wire_ack_decode(const void *data, size_t len, uint64_t *seq);

#endif
