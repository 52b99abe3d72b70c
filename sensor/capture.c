/*
 * Packet capture through libpcap: pcap files for replay (-r, read in
 * order, to their end) and live interfaces (-i, several at once).  Live
 * handles are opened here while the process still has the privilege to
 * do so; main.c drops privileges right after, before the first packet is
 * read.  Kernel and interface drops are collected from pcap_stats().
 */
#include <poll.h>
#include <pcap/pcap.h>
#include <stdlib.h>
#include <string.h>

#include "soc/log.h"
#include "soc/util.h"
#include "logparse.h"
#include "sensor.h"

#define MAX_LIVE	16

static pcap_t	*live[MAX_LIVE];
static size_t	 nlive;

static void
on_packet(u_char *arg, const struct pcap_pkthdr *h, const u_char *data)
{
	struct sensor *s = (struct sensor *)arg;
	int64_t ts = (int64_t)h->ts.tv_sec * SOC_NS + (int64_t)h->ts.tv_usec * 1000;
	static int64_t last_expire;

	pkt_handle(s->pkt, s->cur_linktype, ts, data, h->caplen, h->len);
	if (ts - last_expire >= SOC_NS || ts < last_expire) {
		pkt_expire(s->pkt, ts);
		last_expire = ts;
	}
}

int
capture_read_file(struct sensor *s, const char *path)
{
	char errbuf[PCAP_ERRBUF_SIZE];
	pcap_t *p;
	int rc;

	if ((p = pcap_open_offline(path, errbuf)) == NULL) {
		log_warnx("%s: %s", path, errbuf);
		return -1;
	}
	s->cur_linktype = pcap_datalink(p);
	while ((rc = pcap_dispatch(p, 4096, on_packet, (u_char *)s)) > 0) {
		sensor_tick(s);
		if (sensor_quit)
			break;
	}
	if (rc == -1)
		log_warnx("%s: %s (stopped reading here)", path, pcap_geterr(p));
	pcap_close(p);
	return rc == -1 ? -1 : 0;
}

static pcap_t *
open_iface(struct sensor *s, const char *ifname)
{
	char errbuf[PCAP_ERRBUF_SIZE];
	struct bpf_program prog;
	pcap_t *p;

	if ((p = pcap_create(ifname, errbuf)) == NULL) {
		log_warnx("%s: %s", ifname, errbuf);
		return NULL;
	}
	pcap_set_snaplen(p, (int)s->conf.snaplen);
	pcap_set_promisc(p, (int)s->conf.promisc);
	pcap_set_timeout(p, 100);
	pcap_set_buffer_size(p, (int)(s->conf.buffer_mb << 20));
	if (pcap_activate(p) < 0) {
		log_warnx("%s: %s (capturing needs root or CAP_NET_RAW)",
		    ifname, pcap_geterr(p));
		goto fail;
	}
	if (s->conf.bpf != NULL && *s->conf.bpf != '\0') {
		if (pcap_compile(p, &prog, s->conf.bpf, 1,
		    PCAP_NETMASK_UNKNOWN) == -1) {
			log_warnx("%s: filter \"%s\": %s", ifname, s->conf.bpf,
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

int
capture_open_live(struct sensor *s)
{
	for (size_t i = 0; i < s->conf.interfaces.n; i++) {
		if (nlive == MAX_LIVE) {
			log_warnx("at most %d interfaces", MAX_LIVE);
			return -1;
		}
		if ((live[nlive] = open_iface(s, s->conf.interfaces.v[i])) == NULL)
			return -1;
		log_info("capturing on %s (link type %s)", s->conf.interfaces.v[i],
		    pcap_datalink_val_to_name(pcap_datalink(live[nlive])));
		nlive++;
	}
	return 0;
}

int
capture_pollfds(struct pollfd *pfd, int max)
{
	int n = 0;

	for (size_t i = 0; i < nlive && n < max; i++, n++) {
		pfd[n].fd = pcap_get_selectable_fd(live[i]);
		pfd[n].events = POLLIN;
		pfd[n].revents = 0;
	}
	return n;
}

void
capture_dispatch(struct sensor *s)
{
	/* non-blocking handles: read whatever each ring holds now */
	for (size_t i = 0; i < nlive; i++) {
		s->cur_linktype = pcap_datalink(live[i]);
		if (pcap_dispatch(live[i], 1024, on_packet, (u_char *)s) == -1)
			log_warnx("%s", pcap_geterr(live[i]));
	}
}

void
capture_stats(struct sensor *s)
{
	struct pcap_stat st;

	s->c.pcap_dropped = s->c.pcap_ifdropped = 0;
	for (size_t i = 0; i < nlive; i++)
		if (pcap_stats(live[i], &st) == 0) {
			s->c.pcap_dropped += st.ps_drop;
			s->c.pcap_ifdropped += st.ps_ifdrop;
		}
}

void
capture_close(struct sensor *s)
{
	(void)s;
	for (size_t i = 0; i < nlive; i++)
		pcap_close(live[i]);
	nlive = 0;
}
