/*
 * Fuzz target for the Beats protocol (Lumberjack v2) in sensor/beats-proto.c:
 * frames, windows, compressed frames, the JSON depth check and the event
 * reader, apart from sockets.  The first byte picks how the stream is
 * cut into reads; the rest is the stream.  It is fed the way the server
 * feeds it: into a buffer of max_frame + 16 bytes, consumed bytes moved
 * out, and every window that completes acknowledged so that a stall
 * always clears.  Checked: the session never claims more bytes than it
 * was given, a full buffer always makes progress or is refused, and no
 * more events come out than data frames went in.  And, the input taken
 * as one JSON event: whatever the event reader takes whole passes the
 * Beats syntax check, which the session runs only on what the reader
 * refuses (issue 17).
 */
#include <stdlib.h>
#include <string.h>

#include "soc/json.h"
#include "fuzz.h"
#include "beats.h"

#define MAX_FRAME	4096

static size_t emitted;

static void
check(int cond)
{
	if (!cond)
		abort();
}

static void
emit(void *arg, struct soc_event *ev)
{
	(void)arg;
	(void)ev;
	emitted++;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t buf[MAX_FRAME + 16];
	static struct soc_event jev;
	const char *why;
	struct beats_conf bc = { .max_frame = MAX_FRAME, .max_window = 64,
	    .max_conns = 1 };
	struct beats_stats st;
	struct beats_session *s;
	size_t have = 0, off = 1, cut, used, n;
	int rc = 0, reason;

	if (size < 1)
		return 0;
	if (soc_json_read_event((const char *)data + 1, size - 1, &jev, &why,
	    NULL) == 0)
		check(beats_json_check((const char *)data + 1, size - 1,
		    BEATS_JSON_DEPTH) == 0);
	cut = (size_t)(data[0] % 64) + 1;
	memset(&st, 0, sizeof(st));
	emitted = 0;
	if ((s = beats_session_new(&bc, emit, NULL, &st)) == NULL)
		return 0;
	while (rc != -1) {
		n = size - off < cut ? size - off : cut;
		if (n > sizeof(buf) - have)
			n = sizeof(buf) - have;
		memcpy(buf + have, data + off, n);
		have += n;
		off += n;
		rc = beats_session_feed(s, buf, have, &used, &reason);
		check(used <= have);
		if (rc == -1) {
			check(reason >= 0 && reason < BEATS_R_COUNT);
			check(st.refused[reason] > 0);
			break;
		}
		memmove(buf, buf + used, have - used);
		have -= used;
		while (beats_session_done(s) >= 0)
			beats_session_pop(s);
		/* full, nothing taken, not stalled: it would hang */
		check(!(have == sizeof(buf) && used == 0 && rc == 0));
		if (off == size && (used == 0 || have == 0) && rc == 0)
			break;
	}
	check(emitted == st.events);
	check(st.events <= st.frames);
	beats_session_free(s);
	return 0;
}
