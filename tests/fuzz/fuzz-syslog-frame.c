/*
 * Fuzz target for the syslog TCP framing (syslog_frame_next in
 * sensor/syslog-server.c).  The first two bytes pick the maximum message
 * size and how the stream is cut into reads; the rest is the stream.  It
 * is fed the way the server feeds it: into a buffer of max + 16 bytes,
 * consumed frames moved out, then the end of stream.  Checked: every
 * message lies inside the bytes given, is at most max long, the decoder
 * always makes progress on a full buffer, and the whole input is consumed
 * at the end.
 */
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "intake.h"
#include "logparse.h"

static void
check(int cond)
{
	if (!cond)
		abort();
}

/* Runs the decoder over buf[0..have); returns the bytes consumed. */
static size_t
frames(struct syslog_frame *st, const char *buf, size_t have, size_t max,
    int eof)
{
	const char *msg;
	size_t off = 0, used, mlen;
	int flags;

	for (;;) {
		used = syslog_frame_next(st, buf + off, have - off, max, eof, &msg,
		    &mlen, &flags);
		check(used <= have - off);
		if (msg != NULL) {
			check(msg >= buf + off && msg + mlen <= buf + have);
			check(mlen <= max);
		}
		if (used == 0)
			break;
		off += used;
	}
	return off;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct syslog_frame st = { 0 };
	size_t max, cap, have = 0, pos = 0, chunk, used;
	char *buf;

	if (size < 2)
		return 0;
	max = 1 + (size_t)data[0] * 4;		/* 1..1021 */
	chunk = 1 + data[1] % 64;
	data += 2;
	size -= 2;
	cap = max + 16;
	if ((buf = malloc(cap)) == NULL)
		return 0;
	while (pos < size) {
		size_t n = chunk < cap - have ? chunk : cap - have;

		if (n > size - pos)
			n = size - pos;
		memcpy(buf + have, data + pos, n);
		have += n;
		pos += n;
		used = frames(&st, buf, have, max, 0);
		/* a full buffer always makes room */
		check(have < cap || used > 0);
		memmove(buf, buf + used, have - used);
		have -= used;
	}
	used = frames(&st, buf, have, max, 1);
	check(used == have);
	free(buf);
	return 0;
}
