/*
 * Packet capture through libpcap: pcap files for replay (-r, read in
 * order, to their end) and live interfaces (-i, several at once).  Live
 * handles are opened here while the process still has the privilege to
 * do so; main.c drops privileges right after, before the first packet is
 * read.  The handle owns the packet path (pkt.h), which emits events
 * through the callback given at open.  Kernel and interface drops are
 * collected from pcap_stats().
 */
#include <poll.h>
#include <pcap/pcap.h>
#include <stdlib.h>
#include <string.h>

#include "soc/log.h"
#include "soc/util.h"
#include "intake.h"

#define MAX_LIVE	16

struct capture {
	struct capture_conf	 conf;
	struct pkt_ctx		*pkt;
	intake_tick_fn		 tick;
	void			*arg;
	pcap_t			*live[MAX_LIVE];
	size_t			 nlive;
	int			 linktype;	/* of the handle being read */
	int64_t			 last_expire;	/* packet time */
};

static void
on_packet(u_char *arg, const struct pcap_pkthdr *h, const u_char *data)
{
	struct capture *c = (struct capture *)arg;
	int64_t ts = (int64_t)h->ts.tv_sec * SOC_NS + (int64_t)h->ts.tv_usec * 1000;

	pkt_handle(c->pkt, c->linktype, ts, data, h->caplen, h->len);
	if (ts - c->last_expire >= SOC_NS || ts < c->last_expire) {
		pkt_expire(c->pkt, ts);
		c->last_expire = ts;
	}
}

int
capture_read_file(struct capture *c, const char *path)
{
	char errbuf[PCAP_ERRBUF_SIZE];
	pcap_t *p;
	int rc;

	if ((p = pcap_open_offline(path, errbuf)) == NULL) {
		log_warnx("%s: %s", path, errbuf);
		return -1;
	}
	c->linktype = pcap_datalink(p);
	while ((rc = pcap_dispatch(p, 4096, on_packet, (u_char *)c)) > 0) {
		c->tick(c->arg);
		if (c->conf.stop != NULL && *c->conf.stop)
			break;
	}
	if (rc == -1)
		log_warnx("%s: %s (stopped reading here)", path, pcap_geterr(p));
	pcap_close(p);
	return rc == -1 ? -1 : 0;
}

static pcap_t *
open_iface(const struct capture_conf *cc, const char *ifname)
{
	char errbuf[PCAP_ERRBUF_SIZE];
	struct bpf_program prog;
	pcap_t *p;

	if ((p = pcap_create(ifname, errbuf)) == NULL) {
		log_warnx("%s: %s", ifname, errbuf);
		return NULL;
	}
	pcap_set_snaplen(p, cc->snaplen);
	pcap_set_promisc(p, cc->promisc);
	pcap_set_timeout(p, 100);
	pcap_set_buffer_size(p, cc->buffer_mb << 20);
	if (pcap_activate(p) < 0) {
		log_warnx("%s: %s (capturing needs root or CAP_NET_RAW)",
		    ifname, pcap_geterr(p));
		goto fail;
	}
	if (cc->bpf != NULL && *cc->bpf != '\0') {
		if (pcap_compile(p, &prog, cc->bpf, 1,
		    PCAP_NETMASK_UNKNOWN) == -1) {
			log_warnx("%s: filter \"%s\": %s", ifname, cc->bpf,
			    pcap_geterr(p));
			goto fail;
		}
		if (pcap_setfilter(p, &prog) == -1) {
			pcap_freecode(&prog);
			log_warnx("%s: %s", ifname, pcap_geterr(p));
			goto fail;
		}
		pcap_freecode(&prog);
	}
	if (pcap_setnonblock(p, 1, errbuf) == -1) {
		log_warnx("%s: %s", ifname, errbuf);
		goto fail;
	}
	return p;
fail:
	pcap_close(p);
	return NULL;
}

struct capture *
capture_open(const struct capture_conf *cc, const struct pkt_config *pc,
    soc_emit_fn emit, intake_tick_fn tick, void *arg)
{
	const struct conf_list *ifs = cc->interfaces;
	struct capture *c;

	if ((c = calloc(1, sizeof(*c))) == NULL) {
		log_warnx("capture: out of memory");
		return NULL;
	}
	c->conf = *cc;
	c->tick = tick;
	c->arg = arg;
	if ((c->pkt = pkt_new(pc, emit, arg)) == NULL) {
		log_warnx("cannot allocate the flow table (%u flows); lower "
		    "flows.max", pc->max_flows);
		goto fail;
	}
	for (size_t i = 0; ifs != NULL && i < ifs->n; i++) {
		if (c->nlive == MAX_LIVE) {
			log_warnx("at most %d interfaces", MAX_LIVE);
			goto fail;
		}
		if ((c->live[c->nlive] = open_iface(cc, ifs->v[i])) == NULL)
			goto fail;
		log_info("capturing on %s (link type %s)", ifs->v[i],
		    pcap_datalink_val_to_name(pcap_datalink(c->live[c->nlive])));
		c->nlive++;
	}
	return c;
fail:
	capture_close(c);
	return NULL;
}

int
capture_pollfds(struct capture *c, struct pollfd *pfd, int max)
{
	int n = 0;

	for (size_t i = 0; c != NULL && i < c->nlive && n < max; i++, n++) {
		pfd[n].fd = pcap_get_selectable_fd(c->live[i]);
		pfd[n].events = POLLIN;
		pfd[n].revents = 0;
	}
	return n;
}

void
capture_dispatch(struct capture *c)
{
	/* non-blocking handles: read whatever each ring holds now */
	for (size_t i = 0; c != NULL && i < c->nlive; i++) {
		c->linktype = pcap_datalink(c->live[i]);
		if (pcap_dispatch(c->live[i], 1024, on_packet, (u_char *)c) == -1)
			log_warnx("%s", pcap_geterr(c->live[i]));
	}
}

/* Flows idle at now_ns (wall clock while live). */
void
capture_expire(struct capture *c, int64_t now_ns)
{
	if (c != NULL)
		pkt_expire(c->pkt, now_ns);
}

void
capture_finish(struct capture *c)
{
	if (c != NULL)
		pkt_finish(c->pkt);
}

/* NULL when there is no packet path. */
const struct pkt_stats *
capture_pkt_stats(const struct capture *c)
{
	return c != NULL ? pkt_stats(c->pkt) : NULL;
}

void
capture_drops(struct capture *c, uint64_t *kernel, uint64_t *iface)
{
	struct pcap_stat st;

	*kernel = *iface = 0;
	for (size_t i = 0; c != NULL && i < c->nlive; i++)
		if (pcap_stats(c->live[i], &st) == 0) {
			*kernel += st.ps_drop;
			*iface += st.ps_ifdrop;
		}
}

void
capture_close(struct capture *c)
{
	if (c == NULL)
		return;
	for (size_t i = 0; i < c->nlive; i++)
		pcap_close(c->live[i]);
	if (c->pkt != NULL)
		pkt_free(c->pkt);
	free(c);
}
