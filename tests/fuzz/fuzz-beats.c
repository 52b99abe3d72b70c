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
 * refuses (issue 17).  And every input is fed twice, the second time
 * with each compressed frame read as a worker thread reads it
 * (beats_job_run, then beats_session_apply, as beats.c does with
 * beats.workers): the same events, windows and refusal as the first.
 */
#include <stdlib.h>
#include <string.h>

#include "soc/json.h"
#include "fuzz.h"
#include "beats-int.h"

#define MAX_FRAME	4096

static size_t emitted;

static void
check(int cond)
{
	if (!cond)
		abort();
}

static size_t recs;

static void
rec(void *arg, const uint8_t *r, size_t len)
{
	(void)arg;
	check(len >= 4 + 8 + 2 && len == 4 + ((size_t)r[0] | (size_t)r[1] << 8 |
	    (size_t)r[2] << 16 | (size_t)r[3] << 24));
	recs++;
}

static void
emit(void *arg, struct soc_event *ev)
{
	(void)arg;
	(void)ev;
	emitted++;
}

/*
 * The stream fed as the server feeds it; with async, each compressed
 * frame read by a worker's code.  The events emitted (records with
 * async); *reason is the refusal, or -1.
 */
static size_t
feed(const uint8_t *data, size_t size, bool async, struct beats_stats *st,
    int *refused)
{
	static uint8_t buf[MAX_FRAME + 16];
	static struct beats_job *job;
	struct beats_conf bc = { .max_frame = MAX_FRAME, .max_window = 64,
	    .max_conns = 1, .rec = rec };
	struct beats_session *s;
	size_t have = 0, off = 1, cut, used, n;
	int rc = 0, reason;

	*refused = -1;
	cut = (size_t)(data[0] % 64) + 1;
	memset(st, 0, sizeof(*st));
	emitted = recs = 0;
	if (job == NULL && (job = calloc(1, sizeof(*job))) == NULL)
		abort();
	if ((s = beats_session_new(&bc, emit, NULL, st)) == NULL)
		abort();
	s->async = async;
	while (rc != -1) {
		n = size - off < cut ? size - off : cut;
		if (n > sizeof(buf) - have)
			n = sizeof(buf) - have;
		memcpy(buf + have, data + off, n);
		have += n;
		off += n;
		rc = beats_session_feed(s, buf, have, &used, &reason);
		check(used <= have);
		if (rc == 2) {
			/* a worker's part, then the session's */
			check(async && s->pend.data >= buf + used &&
			    s->pend.data + s->pend.len <= buf + have);
			job->bc = &bc;
			job->peer = NULL;
			job->data = s->pend.data;
			job->len = s->pend.len;
			beats_job_run(job);
			if (beats_session_apply(s, job, &reason) == -1)
				rc = -1;
			else {
				used += s->pend.frame;
				rc = 0;
			}
		}
		if (rc == -1) {
			check(reason >= 0 && reason < BEATS_R_COUNT);
			check(st->refused[reason] > 0);
			*refused = reason;
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
	check(emitted + recs == st->events);
	check(st->events <= st->frames);
	beats_session_free(s);
	return emitted + recs;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct soc_event jev;
	struct beats_stats st, ast;
	const char *why;
	size_t n, an;
	int r, ar;

	if (size < 1)
		return 0;
	if (soc_json_read_event((const char *)data + 1, size - 1, &jev, &why,
	    NULL) == 0)
		check(beats_json_check((const char *)data + 1, size - 1,
		    BEATS_JSON_DEPTH) == 0);
	n = feed(data, size, false, &st, &r);
	an = feed(data, size, true, &ast, &ar);
	check(n == an && r == ar && st.windows == ast.windows &&
	    st.frames == ast.frames && st.compressed == ast.compressed &&
	    memcmp(st.refused, ast.refused, sizeof(st.refused)) == 0);
	return 0;
}
