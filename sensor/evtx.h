/*
 * EVTX intake (evtx.c): Windows XML Event Log files read to their end
 * through libevtx, one event per record (winlog.h).  A separate library
 * from the daemon so that socctl can read EVTX files too.
 */
#ifndef SOC_SENSOR_EVTX_H
#define SOC_SENSOR_EVTX_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "soc/event.h"
#include "pkt.h"
#include "winlog.h"

#define EVTX_MAGIC	"ElfFile\0"	/* the file header's first 8 bytes */

struct evtx_reader {
	soc_emit_fn		 emit;		/* each record's event */
	void			(*tick)(void *arg);	/* now and then */
	void			*arg;
	const volatile sig_atomic_t *stop;	/* stop between records */
	struct winlog_stats	 st;		/* summed over files */
	struct soc_event	 ev;
	char			*xml;		/* the record's XML */
	size_t			 xml_cap;
};

/* Whether path starts with the EVTX magic (not by its name). */
bool	evtx_is_file(const char *path);
/* Reads every record (then the recovered ones); 0, or -1 when the file
 * could not be opened, is corrupt or had records that could not be
 * rendered (each logged and counted; what could be read was emitted). */
int	evtx_read_file(struct evtx_reader *r, const char *path);
void	evtx_reader_free(struct evtx_reader *r);
int64_t	evtx_filetime_ns(uint64_t filetime);

#endif
