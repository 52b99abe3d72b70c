/*
 * OpenSSH sshd normalizer: turns the messages that matter for detection
 * (failed and accepted logins, invalid users, PAM failures, disconnects,
 * banner errors, reverse-mapping warnings) into event.action /
 * event.outcome with user.name, source.ip and source.port, so rules count
 * "ssh_login failure from X" rather than grepping text.  Every other sshd
 * line stays a log.sshd event with its message and no action.
 *
 * User names come from the network (an attacker picks them), so they may
 * hold spaces or even " from 1.2.3.4": the address is always taken from
 * the rightmost " from " that sshd itself appended.  rsyslog's "message
 * repeated N times: [ ... ]" wrapper is unwrapped once so the repeated
 * failure still counts (as one event).
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "log-int.h"
#include "soc/event.h"

#define SS_IP_MAX	64	/* longest address token we try */

static void
ss_user(struct soc_event *ev, const char *p, size_t n)
{
	if (n > 0)
		soc_event_set_str(ev, SOC_F_USER_NAME, p, n);
}

/* Sets source.ip from an address token; false if it is not one. */
static bool
ss_ip(struct soc_event *ev, const char *p, size_t n)
{
	struct soc_ip ip;

	if (n == 0 || n > SS_IP_MAX || soc_ip_parse(p, n, &ip) != 0)
		return false;
	soc_event_set_ip(ev, SOC_F_SOURCE_IP, &ip);
	return true;
}

/* Length of the token at p (up to a space or the end). */
static size_t
ss_toklen(const char *p, size_t n)
{
	const char *sp = memchr(p, ' ', n);

	return sp != NULL ? (size_t)(sp - p) : n;
}

/* Sets source.port from the digits at p, if any. */
static void
ss_port(struct soc_event *ev, const char *p, size_t n)
{
	int64_t v;

	if (log_uint(p, n, 6, &v) > 0 && v <= 65535)
		soc_event_set_int(ev, SOC_F_SOURCE_PORT, v);
}

/*
 * "IP[:] [port P]" at p.  The old "from IP: 11: ..." form glues a colon
 * to the address, which we drop (also right for IPv6: "::1:" -> "::1").
 */
static void
ss_addr_port(struct soc_event *ev, const char *p, size_t n)
{
	size_t t = ss_toklen(p, n);

	if (!ss_ip(ev, p, t) && t > 1 && p[t - 1] == ':')
		ss_ip(ev, p, t - 1);
	if (LOG_PREFIX(p + t, n - t, " port "))
		ss_port(ev, p + t + 6, n - t - 6);
}

/*
 * " USER from IP [port P] ..." with p on the space before USER: finds the
 * rightmost " from " followed by an address, sets user, ip and port.
 * Returns false (nothing set) when there is none.
 */
static bool
ss_user_from(struct soc_event *ev, const char *p, size_t n)
{
	struct soc_ip ip;
	size_t i, t;

	for (i = n >= 6 ? n - 6 + 1 : 0; i-- > 0;) {
		if (p[i] != ' ' || memcmp(p + i, " from ", 6) != 0)
			continue;
		t = ss_toklen(p + i + 6, n - i - 6);
		if (t == 0 || t > SS_IP_MAX ||
		    soc_ip_parse(p + i + 6, t, &ip) != 0)
			continue;
		if (i > 1)
			ss_user(ev, p + 1, i - 1);
		ss_addr_port(ev, p + i + 6, n - i - 6);
		return true;
	}
	return false;
}

/* Skips "invalid user " / "authenticating user " / "user ". */
static size_t
ss_user_kind(const char *p, size_t n)
{
	if (LOG_PREFIX(p, n, "invalid user "))
		return 13;
	if (LOG_PREFIX(p, n, "authenticating user "))
		return 20;
	if (LOG_PREFIX(p, n, "user "))
		return 5;
	return 0;
}

/*
 * "[authenticating |invalid ]user USER IP port P" or "IP [port P]" (the
 * tail of Disconnected / Connection closed lines).  The address is the
 * token before the rightmost " port ", else the last token.
 */
static void
ss_user_ip_port(struct soc_event *ev, const char *p, size_t n)
{
	size_t k = ss_user_kind(p, n), end, start, i;

	if (k == 0) {
		ss_addr_port(ev, p, n);
		return;
	}
	p += k;
	n -= k;
	end = n;
	for (i = n >= 6 ? n - 6 + 1 : 0; i-- > 0;) {
		if (p[i] == ' ' && memcmp(p + i, " port ", 6) == 0) {
			end = i;
			break;
		}
	}
	/* The address is the last token before end. */
	for (start = end; start > 0 && p[start - 1] != ' '; start--)
		;
	if (start > 0)
		ss_user(ev, p, start - 1);
	if (ss_ip(ev, p + start, end - start) && end < n)
		ss_port(ev, p + end + 6, n - end - 6);
}

/* A host name as pam_unix logs rhost: letters, digits, '-', '.', '_'. */
static bool
ss_is_host(const char *p, size_t n)
{
	if (n == 0 || n > 253)
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = p[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    log_isdigit(c) || c == '-' || c == '.' || c == '_'))
			return false;
	}
	return true;
}

/*
 * "... rhost=HOST  user=USER": key=value tokens of pam_unix.  rhost is
 * an address (source.ip) or, with UseDNS, a host name (source.domain).
 */
static void
ss_pam(struct soc_event *ev, const char *p, size_t n)
{
	size_t i = 0, t;

	log_action(ev, "pam_auth", LOG_FAILURE);
	while (i < n) {
		if (p[i] == ' ') {
			i++;
			continue;
		}
		t = ss_toklen(p + i, n - i);
		if (LOG_PREFIX(p + i, t, "rhost=") &&
		    !ss_ip(ev, p + i + 6, t - 6) && ss_is_host(p + i + 6, t - 6))
			soc_event_set_str(ev, SOC_F_SOURCE_DOMAIN, p + i + 6,
			    t - 6);
		else if (LOG_PREFIX(p + i, t, "user="))
			ss_user(ev, p + i + 5, t - 5);
		i += t;
	}
}

/* "reverse mapping checking getaddrinfo for HOST [IP] failed - ..." */
static void
ss_reverse(struct soc_event *ev, const char *p, size_t n)
{
	const char *lb = memchr(p, '[', n), *rb;

	log_action(ev, "reverse_mapping_failed", LOG_UNKNOWN);
	if (lb == NULL)
		return;
	lb++;
	if ((rb = memchr(lb, ']', n - (size_t)(lb - p))) != NULL)
		ss_ip(ev, lb, (size_t)(rb - lb));
}

/* "Disconnecting..." in its old and new forms. */
static void
ss_disconnecting(struct soc_event *ev, const char *p, size_t n)
{
	const char *colon;

	/* Old sshd: the only record of hitting MaxAuthTries. */
	if (LOG_PREFIX(p, n, ": Too many authentication failures for ")) {
		log_action(ev, "max_auth_exceeded", LOG_FAILURE);
		ss_user(ev, p + 39, n - 39);
		return;
	}
	/*
	 * New sshd: " authenticating user U IP port P: Too many ..." follows
	 * the "maximum authentication attempts exceeded" error, so it is
	 * only the disconnect.
	 */
	if (n < 1 || p[0] != ' ' || ss_user_kind(p + 1, n - 1) == 0)
		return;
	log_action(ev, "ssh_disconnect", LOG_UNKNOWN);
	colon = memchr(p, ':', n);
	/* An IPv6 address has colons too: cut at ": " only. */
	while (colon != NULL && (size_t)(colon - p) + 1 < n &&
	    colon[1] != ' ')
		colon = memchr(colon + 1, ':', n - (size_t)(colon - p) - 1);
	ss_user_ip_port(ev, p + 1, colon != NULL ? (size_t)(colon - p) - 1 :
	    n - 1);
}

/* Action with the "IP [port P]" that follows. */
static void
ss_action_addr(struct soc_event *ev, const char *action, enum log_outcome o,
    const char *p, size_t n)
{
	log_action(ev, action, o);
	ss_addr_port(ev, p, n);
}

/* Action with the "[... user USER ]IP [port P]" that follows. */
static void
ss_action_user_addr(struct soc_event *ev, const char *action,
    enum log_outcome o, const char *p, size_t n)
{
	log_action(ev, action, o);
	ss_user_ip_port(ev, p, n);
}

/* Action with the " [invalid user ]USER from IP [port P]" that follows. */
static void
ss_action_user_from(struct soc_event *ev, const char *action,
    enum log_outcome o, const char *p, size_t n)
{
	log_action(ev, action, o);
	LOG_SKIP(p, n, " invalid user");
	ss_user_from(ev, p, n);
}

/* "Failed|Accepted METHOD for [invalid user ]USER from IP port P ssh2". */
static void
ss_login(struct soc_event *ev, const char *p, size_t n, bool ok)
{
	size_t m = ss_toklen(p, n);

	/* "Failed none": the client asking which methods exist. */
	if (!ok && m == 4 && memcmp(p, "none", 4) == 0)
		return;
	if (!LOG_PREFIX(p + m, n - m, " for "))
		return;
	ss_action_user_from(ev, "ssh_login", ok ? LOG_SUCCESS : LOG_FAILURE,
	    p + m + 4, n - m - 4);
}

/* One sshd message, wrappers already removed; first byte picks. */
static void
ss_dispatch(struct soc_event *ev, const char *p, size_t n)
{
	switch (n > 0 ? p[0] : 0) {
	case 'F':
		if (LOG_SKIP(p, n, "Failed "))
			ss_login(ev, p, n, false);
		break;
	case 'A':
		if (LOG_SKIP(p, n, "Accepted "))
			ss_login(ev, p, n, true);
		else if (LOG_SKIP(p, n, "Address "))
			ss_action_addr(ev, "reverse_mapping_failed",
			    LOG_UNKNOWN, p, n);
		break;
	case 'I':
		if (LOG_SKIP(p, n, "Invalid user"))
			ss_action_user_from(ev, "invalid_user", LOG_FAILURE,
			    p, n);
		break;
	case 'p':
		if (LOG_SKIP(p, n, "pam_unix(sshd:auth): authentication "
		    "failure;"))
			ss_pam(ev, p, n);
		break;
	case 'm':
		if (LOG_SKIP(p, n, "maximum authentication attempts exceeded "
		    "for"))
			ss_action_user_from(ev, "max_auth_exceeded",
			    LOG_FAILURE, p, n);
		break;
	case 'D':
		if (LOG_SKIP(p, n, "Did not receive identification string "
		    "from "))
			ss_action_addr(ev, "no_identification", LOG_FAILURE,
			    p, n);
		else if (LOG_SKIP(p, n, "Disconnected from "))
			ss_action_user_addr(ev, "ssh_disconnect", LOG_UNKNOWN,
			    p, n);
		else if (LOG_SKIP(p, n, "Disconnecting"))
			ss_disconnecting(ev, p, n);
		break;
	case 'R':
		if (LOG_SKIP(p, n, "Received disconnect from "))
			ss_action_addr(ev, "ssh_disconnect", LOG_UNKNOWN, p, n);
		break;
	case 'C':
		if (LOG_SKIP(p, n, "Connection closed by ") ||
		    LOG_SKIP(p, n, "Connection reset by "))
			ss_action_user_addr(ev, "ssh_disconnect", LOG_UNKNOWN,
			    p, n);
		break;
	case 'b':
		if (LOG_SKIP(p, n, "banner exchange: Connection from "))
			ss_action_addr(ev, "banner_error", LOG_FAILURE, p, n);
		break;
	case 'k':
		if (LOG_SKIP(p, n, "kex_exchange_identification: "))
			log_action(ev, "banner_error", LOG_FAILURE);
		break;
	case 'r':
		if (LOG_SKIP(p, n, "reverse mapping checking getaddrinfo for "))
			ss_reverse(ev, p, n);
		break;
	}
}

/* "message repeated N times: [ MSG]" -> MSG; false if not wrapped. */
static bool
ss_unrepeat(const char **pp, size_t *np)
{
	const char *p = *pp;
	size_t n = *np, i;
	int64_t v;

	if (!LOG_PREFIX(p, n, "message repeated "))
		return false;
	i = 17;
	i += log_uint(p + i, n - i, 10, &v);
	if (!LOG_PREFIX(p + i, n - i, " times: ["))
		return false;
	i += 9;
	if (i < n && p[i] == ' ')
		i++;
	n -= i;
	p += i;
	if (n > 0 && p[n - 1] == ']')
		n--;
	*pp = p;
	*np = n;
	return true;
}

void
log_sshd_parse(struct soc_event *ev, const char *msg, size_t len)
{
	soc_event_set_cstr(ev, SOC_F_EVENT_DATASET, LOGPARSE_DS_SSHD);
	soc_event_set_cstr(ev, SOC_F_EVENT_CATEGORY, "authentication");
	if (!soc_event_has(ev, SOC_F_PROCESS_NAME))
		soc_event_set_cstr(ev, SOC_F_PROCESS_NAME, "sshd");
	ss_unrepeat(&msg, &len);
	if (LOG_PREFIX(msg, len, "error: ")) {
		msg += 7;
		len -= 7;
	}
	if (len >= 10 && memcmp(msg + len - 10, " [preauth]", 10) == 0)
		len -= 10;
	ss_dispatch(ev, msg, len);
}

void
log_sshd_pam_parse(struct soc_event *ev, const char *msg, size_t len)
{
	soc_event_set_cstr(ev, SOC_F_EVENT_DATASET, LOGPARSE_DS_SSHD);
	soc_event_set_cstr(ev, SOC_F_EVENT_CATEGORY, "authentication");
	if (LOG_SKIP(msg, len, "authentication failure;"))
		ss_pam(ev, msg, len);
}
