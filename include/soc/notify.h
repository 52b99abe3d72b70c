/*
 * A tiny sd_notify(3) client: the daemons tell systemd they are ready
 * (Type=notify), that they are alive (WatchdogSec=), and when they reload
 * or stop, over the datagram socket named in $NOTIFY_SOCKET.  Without that
 * variable every call does nothing, so the daemons run the same by hand.
 * No libsystemd: the protocol is one datagram of "KEY=VALUE" lines.
 */
#ifndef SOC_NOTIFY_H
#define SOC_NOTIFY_H

/*
 * Sends state ("READY=1", "RELOADING=1", "STOPPING=1", ...; lines joined
 * by '\n').  0 when sent or when there is no $NOTIFY_SOCKET, -1 when the
 * socket named cannot be reached (errno set).
 */
int	soc_notify(const char *state);
/*
 * From the main loop: sends "WATCHDOG=1" when the watchdog is on
 * ($WATCHDOG_USEC, for this process) and half its interval has passed
 * since the last one.  Cheap to call on every turn of a loop.
 */
void	soc_notify_watchdog(void);
/* "RELOADING=1" with the MONOTONIC_USEC systemd 253 asks for. */
int	soc_notify_reloading(void);

#endif
