/*
 * The notification sender (issue 20): a thread of the correlator that
 * reads the notification outbox (store-notify.c) and sends each row by
 * e-mail (SMTP through libcurl, STARTTLS when offered), webhook (a JSON
 * POST, or a template for Telegram and Slack/Mattermost hooks) or
 * command (a program given the incident as JSON on stdin), with
 * retries, backoff and bounded time; it also runs the deadline
 * escalation scan.  It has its own database connection: ingest never
 * waits for it.  docs/NOTIFY.md describes the settings.
 */
#ifndef SOC_CORR_NOTIFY_H
#define SOC_CORR_NOTIFY_H

#include "soc/conf.h"

/* notify.* as the config table fills them (main.c). */
struct notify_opts {
	char		*smtp;		/* notify.smtp, --smtp */
	char		*from;		/* notify.from, --notify-from */
	char		*min_severity;	/* notify.min_severity */
	struct conf_list categories;	/* notify.categories */
	char		*lead;		/* notify.lead */
	char		*webhook_template; /* notify.webhook_template */
	long long	 timeout_s;	/* notify.timeout_s */
	long long	 max_attempts;	/* notify.max_attempts */
	long long	 backoff_s;	/* notify.backoff_s */
	long long	 escalate_s;	/* notify.escalate_s */
	long long	 max_inflight;	/* notify.max_inflight */
	char		*smtp_user;	/* notify.smtp_user: SMTP AUTH */
	char		*smtp_password_file; /* notify.smtp_password_file */
	char		*smtp_ca_file;	/* notify.smtp_ca_file: CURLOPT_CAINFO */
	int		 smtp_insecure_login; /* the password without TLS */
	char		*keep;		/* notify.keep: finished rows kept */
};

struct store;
struct notify;

/*
 * Checks the options alone (the SMTP login's files included; the
 * password is read and forgotten): 0, or -1 with a reason in err that
 * never holds the password.
 */
int	notify_check(const struct notify_opts *o, char *err, size_t errlen);
/*
 * Checks the options and routes the ingest connection st's incidents
 * (store_notify_enable).  0, or -1 with a reason in err.
 */
int	notify_route(struct store *st, const struct notify_opts *o, char *err,
	    size_t errlen);
/* Records the settings and starts the thread on its own connection to
 * db.  NULL with a reason in err.  o must outlive the sender. */
struct notify	*notify_start(const char *db, const struct notify_opts *o,
		    char *err, size_t errlen);
void		 notify_stop(struct notify *n);	/* NULL: nothing */
void		 notify_log_counters(struct notify *n);

#endif
