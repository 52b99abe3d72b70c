/*
 * SSH version banners (RFC 4253 4.2): "SSH-protoversion-softwareversion
 * [SP comments]" CR LF, at most 255 bytes, which a server may precede
 * with other lines.  The client's and the server's banners go into one
 * network.ssh event per flow (soc.ssh.client.version, soc.ssh.server.version:
 * the whole banner line, as Zeek's ssh.log shows it), written when the
 * second banner arrives or, if only one ever does, when the flow ends;
 * tcp-reasm.c keeps the first one meanwhile.
 */
#include <string.h>

#include "decode.h"

#define SSH_BANNER_MAX	255
#define SSH_LINES_MAX	16

enum app_res
ssh_banner(const uint8_t *buf, uint32_t len, bool full, uint32_t *off,
    uint32_t *blen)
{
	const uint8_t *nl;
	uint32_t pos = 0, l;

	for (int line = 0; line < SSH_LINES_MAX && pos < len; line++) {
		nl = memchr(buf + pos, '\n', len - pos);
		if (nl == NULL) {
			if (full || len - pos > SSH_BANNER_MAX)
				break;
			/* a line still coming: only if it may be ours */
			l = len - pos < 4 ? len - pos : 4;
			if (line == 0 || memcmp(buf + pos, "SSH-", l) == 0 ||
			    len - pos < SSH_BANNER_MAX)
				return APP_MORE;
			break;
		}
		l = (uint32_t)(nl - (buf + pos));
		if (l >= 4 && memcmp(buf + pos, "SSH-", 4) == 0) {
			if (l > 0 && buf[pos + l - 1] == '\r')
				l--;
			*off = pos;
			*blen = l > SSH_BANNER_MAX ? SSH_BANNER_MAX : l;
			return APP_NEXT;
		}
		pos += l + 1;
	}
	return APP_END;
}

void
ssh_emit(struct pkt_ctx *ctx, const struct pkt_packet *p,
    const uint8_t *client, uint32_t clen, const uint8_t *server,
    uint32_t slen)
{
	struct soc_event *ev = &ctx->ev;

	decode_event_init(ctx, p, "network.ssh", true);
	soc_event_set_cstr(ev, SOC_F_EVENT_ACTION, "ssh_banners");
	soc_event_set_cstr(ev, SOC_F_NET_PROTOCOL, "ssh");
	if (client != NULL && clen > 0)
		soc_event_set_str(ev, SOC_F_SSH_CLIENT_VERSION,
		    (const char *)client, clen);
	if (server != NULL && slen > 0)
		soc_event_set_str(ev, SOC_F_SSH_SERVER_VERSION,
		    (const char *)server, slen);
	ctx->stats.ssh_events++;
	decode_emit(ctx);
}
