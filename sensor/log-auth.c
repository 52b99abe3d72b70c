/*
 * Authentication and account normalizer: the auth.log programs other
 * than sshd.  sudo commands and refusals, su, the shadow-utils account
 * tools (useradd, usermod, userdel, groupadd, groupdel, groupmod,
 * gpasswd), password changes, systemd-logind sessions and cron jobs
 * become event.action / event.outcome with user.name, so rules count
 * "sudo_denied by X" or "user_added_to_group sudo" instead of grepping
 * text.  The program name picks the parser (log-syslog.c dispatches on
 * it); a line of a known program that matches no pattern keeps its
 * dataset and message and gets no action.
 *
 * user.name is always the account acting or acted upon as the message
 * names it; the rest (target user, command line, group) stays in the
 * message, which the caller sets.
 *
 * Names in these messages come from local accounts, not the network, but
 * the parsers still treat every byte as hostile: spans only, every
 * length checked, no NUL termination assumed.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "log-int.h"
#include "soc/event.h"

#define LA_USER_MAX	256	/* longer "user" spans are not names */

struct la_span {
	const char	*p;
	size_t		 n;
};

static void
la_user(struct soc_event *ev, const char *p, size_t n)
{
	if (n > 0 && n <= LA_USER_MAX)
		soc_event_set_str(ev, SOC_F_USER_NAME, p, n);
}

/* First occurrence of a literal in [p, p+n), or NULL. */
static const char *
la_find(const char *p, size_t n, const char *lit, size_t litlen)
{
	return memmem(p, n, lit, litlen);
}
#define LA_FIND(p, n, lit)	la_find((p), (n), (lit), sizeof(lit) - 1)

/* Length of the span up to the first byte c (or n). */
static size_t
la_until(const char *p, size_t n, char c)
{
	const char *e = memchr(p, c, n);

	return e != NULL ? (size_t)(e - p) : n;
}

/* "'name'..." at p: the quoted name; false if not quoted. */
static bool
la_quoted(const char *p, size_t n, struct la_span *q)
{
	size_t e;

	if (n < 2 || p[0] != '\'')
		return false;
	e = la_until(p + 1, n - 1, '\'');
	if (e == n - 1)
		return false;
	q->p = p + 1;
	q->n = e;
	return true;
}

/* Sets user.name from "'name'" at p, if quoted. */
static void
la_user_quoted(struct soc_event *ev, const char *p, size_t n)
{
	struct la_span q;

	if (la_quoted(p, n, &q))
		la_user(ev, q.p, q.n);
}

/*
 * pam_unix key=value list ("logname=a uid=1000 ... ruser=a rhost= user=b"):
 * the acting user is ruser, else logname, else user.
 */
static void
la_pam_user(struct soc_event *ev, const char *p, size_t n)
{
	struct la_span ruser = { NULL, 0 }, logname = { NULL, 0 },
	    user = { NULL, 0 }, *dst;
	size_t i = 0, t, k;

	while (i < n) {
		if (p[i] == ' ') {
			i++;
			continue;
		}
		t = la_until(p + i, n - i, ' ');
		dst = NULL;
		if (LOG_PREFIX(p + i, t, "ruser=")) {
			dst = &ruser;
			k = 6;
		} else if (LOG_PREFIX(p + i, t, "logname=")) {
			dst = &logname;
			k = 8;
		} else if (LOG_PREFIX(p + i, t, "user=")) {
			dst = &user;
			k = 5;
		}
		if (dst != NULL) {
			dst->p = p + i + k;
			dst->n = t - k;
		}
		i += t;
	}
	if (ruser.n > 0)
		la_user(ev, ruser.p, ruser.n);
	else if (logname.n > 0)
		la_user(ev, logname.p, logname.n);
	else if (user.n > 0)
		la_user(ev, user.p, user.n);
}

/*
 * "pam_unix(SERVICE:auth): authentication failure; ..." for the given
 * service prefix ("su" also matches "su-l").  True if it matched.
 */
static bool
la_pam_authfail(struct soc_event *ev, const char *p, size_t n,
    const char *action)
{
	const char *q;

	if (!LOG_SKIP(p, n, "pam_unix("))
		return false;
	q = memchr(p, ')', n);
	if (q == NULL || (size_t)(q - p) < 5 ||
	    memcmp(q - 5, ":auth", 5) != 0)
		return false;
	n -= (size_t)(q - p) + 1;
	p = q + 1;
	if (!LOG_SKIP(p, n, ": authentication failure;"))
		return false;
	log_action(ev, action, LOG_FAILURE);
	la_pam_user(ev, p, n);
	return true;
}

/*
 * sudo: "USER : TTY=pts/0 ; PWD=/home/u ; USER=root ; COMMAND=/bin/ls"
 * (the user right-aligned with spaces by older versions), or
 * "USER : REASON ; TTY=... ; COMMAND=..." when it refused or failed.
 */
static void
la_sudo(struct soc_event *ev, const char *p, size_t n)
{
	const char *sep;
	size_t u, r;

	while (n > 0 && p[0] == ' ') {
		p++;
		n--;
	}
	if (la_pam_authfail(ev, p, n, "sudo_auth"))
		return;
	if ((sep = LA_FIND(p, n, " : ")) == NULL)
		return;
	u = (size_t)(sep - p);
	if (u == 0 || u > LA_USER_MAX || memchr(p, ' ', u) != NULL)
		return;
	la_user(ev, p, u);
	p += u + 3;
	n -= u + 3;
	/* The first item: a reason, or already the TTY=/PWD= list. */
	r = (sep = LA_FIND(p, n, " ; ")) != NULL ? (size_t)(sep - p) : n;
	if (memchr(p, '=', r) != NULL) {
		log_action(ev, "sudo_command", LOG_SUCCESS);
		return;
	}
	if (LA_FIND(p, r, "NOT in sudoers") != NULL ||
	    LA_FIND(p, r, "command not allowed") != NULL ||
	    LA_FIND(p, r, "NOT authorized") != NULL ||
	    LA_FIND(p, r, "not allowed to") != NULL)
		log_action(ev, "sudo_denied", LOG_FAILURE);
	else if (LA_FIND(p, r, "incorrect password attempt") != NULL ||
	    LA_FIND(p, r, "a password is required") != NULL ||
	    LA_FIND(p, r, "authentication failure") != NULL)
		log_action(ev, "sudo_command", LOG_FAILURE);
}

/* "(to root) alice on pts/0" after the optional "FAILED SU ". */
static void
la_su_to(struct soc_event *ev, const char *p, size_t n, enum log_outcome o)
{
	size_t t;

	log_action(ev, "su", o);
	if (n < 1 || p[0] != '(' || (t = la_until(p, n, ')')) == n)
		return;
	p += t + 1;
	n -= t + 1;
	if (n > 0 && p[0] == ' ') {
		p++;
		n--;
	}
	la_user(ev, p, la_until(p, n, ' '));
}

/* "+ pts/0 alice:root" (shadow su): the user before the colon. */
static void
la_su_sulog(struct soc_event *ev, const char *p, size_t n, enum log_outcome o)
{
	size_t t = la_until(p, n, ' ');	/* the tty */

	if (t == n)
		return;
	log_action(ev, "su", o);
	p += t + 1;
	n -= t + 1;
	la_user(ev, p, la_until(p, n, ':'));
}

/* "for root by alice" -> alice. */
static void
la_su_by(struct soc_event *ev, const char *p, size_t n, enum log_outcome o)
{
	const char *by = LA_FIND(p, n, " by ");

	log_action(ev, "su", o);
	if (by != NULL) {
		n -= (size_t)(by - p) + 4;
		p = by + 4;
		la_user(ev, p, la_until(p, n, ' '));
	}
}

static void
la_su(struct soc_event *ev, const char *p, size_t n)
{
	const char *f;

	if (la_pam_authfail(ev, p, n, "su"))
		return;
	if (LOG_SKIP(p, n, "FAILED SU "))
		la_su_to(ev, p, n, LOG_FAILURE);
	else if (n > 0 && p[0] == '(')
		la_su_to(ev, p, n, LOG_SUCCESS);
	else if (LOG_SKIP(p, n, "Successful su"))
		la_su_by(ev, p, n, LOG_SUCCESS);
	else if (LOG_SKIP(p, n, "FAILED su"))
		la_su_by(ev, p, n, LOG_FAILURE);
	else if (LOG_SKIP(p, n, "+ "))
		la_su_sulog(ev, p, n, LOG_SUCCESS);
	else if (LOG_SKIP(p, n, "- "))
		la_su_sulog(ev, p, n, LOG_FAILURE);
	else if (LOG_PREFIX(p, n, "pam_authenticate: "))
		log_action(ev, "su", LOG_FAILURE);
	else if (n > 0 && p[0] == '\'' &&
	    (f = LA_FIND(p, n, "' failed for ")) != NULL) {
		/* RFC 3164's example: "'su root' failed for lonvick on ..." */
		log_action(ev, "su", LOG_FAILURE);
		n -= (size_t)(f - p) + 13;
		p = f + 13;
		la_user(ev, p, la_until(p, n, ' '));
	}
}

/* "name=bob, UID=..." -> bob. */
static void
la_user_name_eq(struct soc_event *ev, const char *p, size_t n)
{
	const char *q = LA_FIND(p, n, "name=");

	if (q != NULL) {
		n -= (size_t)(q - p) + 5;
		p = q + 5;
		la_user(ev, p, la_until(p, n, ','));
	}
}

/*
 * shadow-utils messages (useradd, usermod, userdel, groupadd, groupdel,
 * groupmod, gpasswd, chage), in the wording of shadow 4.x.
 */
static void
la_iam(struct soc_event *ev, const char *p, size_t n)
{
	size_t t;

	if (LOG_SKIP(p, n, "new user: ")) {
		log_action(ev, "user_created", LOG_SUCCESS);
		la_user_name_eq(ev, p, n);
	} else if (LOG_SKIP(p, n, "failed adding user ")) {
		log_action(ev, "user_created", LOG_FAILURE);
		la_user_quoted(ev, p, n);
	} else if (LOG_PREFIX(p, n, "new group: ") ||
	    LOG_PREFIX(p, n, "group added to ")) {
		log_action(ev, "group_created", LOG_SUCCESS);
	} else if (LOG_SKIP(p, n, "add ")) {
		/* "add 'bob' to group 'sudo'", "... to shadow group ..." */
		log_action(ev, "user_added_to_group", LOG_SUCCESS);
		la_user_quoted(ev, p, n);
	} else if (LOG_SKIP(p, n, "delete user ")) {
		log_action(ev, "user_deleted", LOG_SUCCESS);
		la_user_quoted(ev, p, n);
	} else if (LOG_SKIP(p, n, "delete ")) {
		/* "delete 'bob' from group 'sudo'" */
		log_action(ev, "user_removed_from_group", LOG_SUCCESS);
		la_user_quoted(ev, p, n);
	} else if (LOG_PREFIX(p, n, "removed group ") ||
	    LOG_PREFIX(p, n, "removed shadow group ") ||
	    (LOG_PREFIX(p, n, "group '") && LA_FIND(p, n, "' removed") !=
	    NULL)) {
		log_action(ev, "group_deleted", LOG_SUCCESS);
	} else if (LOG_PREFIX(p, n, "group changed in ")) {
		log_action(ev, "group_modified", LOG_SUCCESS);
	} else if (LOG_SKIP(p, n, "change user ") || LOG_SKIP(p, n,
	    "lock user ") || LOG_SKIP(p, n, "unlock user ")) {
		/* "change user 'bob' shell from ...", "change user name ..." */
		log_action(ev, "user_modified", LOG_SUCCESS);
		LOG_SKIP(p, n, "name ");
		la_user_quoted(ev, p, n);
	} else if (LOG_SKIP(p, n, "user ")) {
		/* gpasswd: "user bob added by root to group sudo" */
		t = la_until(p, n, ' ');
		if (LOG_PREFIX(p + t, n - t, " added by "))
			log_action(ev, "user_added_to_group", LOG_SUCCESS);
		else if (LOG_PREFIX(p + t, n - t, " removed by "))
			log_action(ev, "user_removed_from_group", LOG_SUCCESS);
		else
			return;
		la_user(ev, p, t);
	} else if (LOG_SKIP(p, n, "changed password expiry for ")) {
		log_action(ev, "user_modified", LOG_SUCCESS);
		la_user(ev, p, n);
	}
}

/*
 * Password changes: "pam_unix(passwd:chauthtok): password changed for
 * bob" (any program using pam_unix), and "password for 'bob' changed by
 * 'root'" from passwd itself.  True if the message is one.
 */
static bool
la_passwd(struct soc_event *ev, const char *p, size_t n)
{
	const char *q;

	if (LOG_SKIP(p, n, "password for ")) {
		if (LA_FIND(p, n, "' changed by ") == NULL)
			return false;
		log_action(ev, "password_changed", LOG_SUCCESS);
		la_user_quoted(ev, p, n);
		return true;
	}
	if (!LOG_SKIP(p, n, "pam_unix(") ||
	    (q = LA_FIND(p, n, ":chauthtok): ")) == NULL)
		return false;
	n -= (size_t)(q - p) + 13;
	p = q + 13;
	if (LOG_SKIP(p, n, "password changed for ")) {
		log_action(ev, "password_changed", LOG_SUCCESS);
		la_user(ev, p, la_until(p, n, ' '));
		return true;
	}
	if (LOG_SKIP(p, n, "authentication failure;")) {
		log_action(ev, "password_changed", LOG_FAILURE);
		la_pam_user(ev, p, n);
		return true;
	}
	return false;
}

/* A token that may be quoted ('42'): its span without the quotes. */
static size_t
la_word(const char *p, size_t n, struct la_span *w)
{
	size_t t = la_until(p, n, ' ');

	w->p = p;
	w->n = t;
	if (w->n > 0 && w->p[w->n - 1] == '.')
		w->n--;
	if (w->n >= 2 && w->p[0] == '\'' && w->p[w->n - 1] == '\'') {
		w->p++;
		w->n -= 2;
	}
	return t;
}

/*
 * systemd-logind: "New session 42 of user admin." and, since systemd
 * 256, "New session '42' of user 'admin' with class 'user' ...";
 * "Removed session 42.".
 */
static void
la_logind(struct soc_event *ev, const char *p, size_t n)
{
	struct la_span w;
	size_t t;

	if (LOG_SKIP(p, n, "New session ")) {
		t = la_word(p, n, &w);
		log_action(ev, "session_start", LOG_SUCCESS);
		p += t;
		n -= t;
		if (LOG_SKIP(p, n, " of user ")) {
			la_word(p, n, &w);
			la_user(ev, w.p, w.n);
		}
	} else if (LOG_PREFIX(p, n, "Removed session ")) {
		log_action(ev, "session_end", LOG_SUCCESS);
	}
}

/* cron: "(root) CMD (command)". */
static void
la_cron(struct soc_event *ev, const char *p, size_t n)
{
	size_t t;

	if (n < 3 || p[0] != '(' || (t = la_until(p, n, ')')) == n)
		return;
	if (!LOG_PREFIX(p + t + 1, n - t - 1, " CMD ("))
		return;
	log_action(ev, "cron_command", LOG_SUCCESS);
	la_user(ev, p + 1, t - 1);
}

static bool
la_is(const char *prog, size_t plen, const char *name, size_t len)
{
	return plen == len && memcmp(prog, name, len) == 0;
}
#define LA_IS(prog, plen, lit)	la_is((prog), (plen), (lit), sizeof(lit) - 1)

enum la_kind {
	LA_NONE,
	LA_SUDO,
	LA_SU,
	LA_IAM,
	LA_PASSWD,
	LA_LOGIND,
	LA_CRON,
};

static enum la_kind
la_kind(const char *prog, size_t plen)
{
	switch (plen > 0 ? prog[0] : 0) {
	case 's':
		if (LA_IS(prog, plen, "sudo"))
			return LA_SUDO;
		if (LA_IS(prog, plen, "su"))
			return LA_SU;
		if (LA_IS(prog, plen, "systemd-logind"))
			return LA_LOGIND;
		break;
	case 'u':
		if (LA_IS(prog, plen, "useradd") ||
		    LA_IS(prog, plen, "usermod") ||
		    LA_IS(prog, plen, "userdel"))
			return LA_IAM;
		break;
	case 'g':
		if (LA_IS(prog, plen, "groupadd") ||
		    LA_IS(prog, plen, "groupmod") ||
		    LA_IS(prog, plen, "groupdel") ||
		    LA_IS(prog, plen, "gpasswd"))
			return LA_IAM;
		break;
	case 'c':
		if (LA_IS(prog, plen, "chage"))
			return LA_IAM;
		if (LA_IS(prog, plen, "chpasswd"))
			return LA_PASSWD;
		if (LA_IS(prog, plen, "cron") || LA_IS(prog, plen, "crond"))
			return LA_CRON;
		break;
	case 'p':
		if (LA_IS(prog, plen, "passwd"))
			return LA_PASSWD;
		break;
	case 'C':
		if (LA_IS(prog, plen, "CRON") || LA_IS(prog, plen, "CROND"))
			return LA_CRON;
		break;
	case '/':
		if (LA_IS(prog, plen, "/usr/sbin/cron") ||
		    LA_IS(prog, plen, "/usr/sbin/crond"))
			return LA_CRON;
		break;
	}
	return LA_NONE;
}

const char *
log_auth_parse(struct soc_event *ev, const char *prog, size_t plen,
    const char *msg, size_t len)
{
	enum la_kind k = la_kind(prog, plen);
	static const char *const category[] = {
		[LA_SUDO] = "authentication",
		[LA_SU] = "authentication",
		[LA_IAM] = "iam",
		[LA_PASSWD] = "iam",
		[LA_LOGIND] = "session",
		[LA_CRON] = "process",
	};

	if (k == LA_NONE)
		return NULL;
	soc_event_set_cstr(ev, SOC_F_EVENT_DATASET, k == LA_CRON ?
	    LOGPARSE_DS_CRON : LOGPARSE_DS_AUTH);
	soc_event_set_cstr(ev, SOC_F_EVENT_CATEGORY, category[k]);
	switch (k) {
	case LA_SUDO:
		la_sudo(ev, msg, len);
		break;
	case LA_SU:
		la_su(ev, msg, len);
		break;
	case LA_IAM:
		if (!la_passwd(ev, msg, len))
			la_iam(ev, msg, len);
		break;
	case LA_PASSWD:
		la_passwd(ev, msg, len);
		break;
	case LA_LOGIND:
		la_logind(ev, msg, len);
		break;
	case LA_CRON:
		la_cron(ev, msg, len);
		break;
	case LA_NONE:
		break;
	}
	return k == LA_CRON ? LOGPARSE_DS_CRON : LOGPARSE_DS_AUTH;
}
