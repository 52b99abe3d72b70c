/*
 * sd_notify over $NOTIFY_SOCKET (see soc/notify.h): an AF_UNIX datagram
 * socket, its name either a path or, starting with '@', an abstract name.
 * A socket is opened per message: messages are rare (start, reload, stop
 * and a watchdog ping every few seconds), and nothing is left open across
 * fork or a privilege drop.
 */
#include <sys/socket.h>
#include <sys/un.h>
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "soc/notify.h"

int
soc_notify(const char *state)
{
	struct sockaddr_un sun;
	const char *name = getenv("NOTIFY_SOCKET");
	socklen_t len;
	size_t n;
	int fd, rc;

	if (name == NULL || *name == '\0')
		return 0;
	n = strlen(name);
	if ((name[0] != '/' && name[0] != '@') || n >= sizeof(sun.sun_path)) {
		errno = EINVAL;
		return -1;
	}
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	memcpy(sun.sun_path, name, n);
	if (name[0] == '@')
		sun.sun_path[0] = '\0';	/* abstract: no terminating NUL */
	len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n +
	    (name[0] == '/'));
	if ((fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0)) == -1)
		return -1;
	rc = sendto(fd, state, strlen(state), MSG_NOSIGNAL,
	    (struct sockaddr *)&sun, len) == -1 ? -1 : 0;
	close(fd);
	return rc;
}

static long long
mono_usec(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

void
soc_notify_watchdog(void)
{
	static long long interval = -1, last;
	const char *usec, *pid;
	long long now;

	if (interval == -1) {
		/* WATCHDOG_PID, when set, names the process meant */
		usec = getenv("WATCHDOG_USEC");
		pid = getenv("WATCHDOG_PID");
		interval = usec != NULL && (pid == NULL ||
		    atoll(pid) == (long long)getpid()) ? atoll(usec) / 2 : 0;
		if (interval < 0)
			interval = 0;
	}
	if (interval == 0)
		return;
	now = mono_usec();
	if (last != 0 && now - last < interval)
		return;
	last = now;
	soc_notify("WATCHDOG=1");
}

int
soc_notify_reloading(void)
{
	char msg[64];

	snprintf(msg, sizeof(msg), "RELOADING=1\nMONOTONIC_USEC=%lld",
	    mono_usec());
	return soc_notify(msg);
}
