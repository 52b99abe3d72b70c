/*
 * Time stamps: the one RFC 3339 / ISO 8601 parser, the one formatter,
 * and the calendar arithmetic the log parsers share.  Every time is int64
 * nanoseconds since the epoch, UTC, which spans
 * 1677-09-21T00:12:43.145224192Z to 2262-04-11T23:47:16.854775807Z; a
 * stamp outside that span is refused, never wrapped.  Nothing here
 * allocates or reads the process's time zone.
 */
#ifndef SOC_TIME_H
#define SOC_TIME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * What the parser accepts, the union of what its callers need:
 *
 *	YYYY-MM-DD T hh:mm:ss [.frac] [zone]
 *
 * - the date and time are checked against the calendar: month 01-12, day
 *   within its month (no Feb 30, Feb 29 only in leap years), hour 00-23,
 *   minute 00-59, second 00-60 (a leap second reads as the first second
 *   of the next minute);
 * - the separator is 'T' or 't' (RFC 3339 5.6 allows lower case); with
 *   SOC_TIME_SPACE also ' ' (RFC 3339's "for readability" note);
 * - the fraction is '.' or ',' (ISO 8601) and at least one digit; digits
 *   past the ninth are read and dropped (truncated, not rounded);
 * - the zone is 'Z', 'z', "+hh:mm", "-hh:mm", "+hhmm" or "-hhmm", hour
 *   00-23 and minute 00-59.  A stamp without one (or whose zone does not
 *   parse: "+7") is in the caller's default zone;
 * - with SOC_TIME_DATE, "YYYY-MM-DD" alone is midnight in the default
 *   zone.
 */
#define SOC_TIME_SPACE	0x1	/* ' ' may separate date and time */
#define SOC_TIME_DATE	0x2	/* a date alone is its midnight */

/*
 * Reads a stamp at the start of [s, s+len) (not NUL-terminated; what
 * follows is not looked at).  deftz is the default zone in seconds east
 * of UTC.  Returns the bytes used and *ns, or 0 if s does not start with
 * a valid stamp in range.
 */
size_t	soc_time_scan(const char *s, size_t len, unsigned flags,
	    int32_t deftz, int64_t *ns);

/*
 * A whole string that is one stamp (all of the above, both flags,
 * default zone UTC).  Returns 0 and *ns, or -1.
 */
int	soc_time_parse(const char *s, size_t len, int64_t *ns);

/*
 * The same, returning the time or -1 on error; 1969-12-31T23:59:59.
 * 999999999Z is not told from an error (use soc_time_parse for input
 * that may hold it).
 */
int64_t	soc_parse_rfc3339(const char *s, size_t len);

/* RFC 3339 UTC with nanoseconds: 2026-11-27T03:40:33.123456789Z */
void	soc_time_format(int64_t ns, char *out, size_t outsz);
#define SOC_TIME_FORMAT_LEN	31	/* the above, NUL included */

/*
 * Calendar helpers (proleptic Gregorian, any int64 year the arithmetic
 * holds).
 *
 * Seconds since the epoch of a UTC civil time; fields are not range
 * checked (soc_time_valid does that).
 */
int64_t	soc_time_timegm(int64_t year, int mon, int mday, int hour, int min,
	    int sec);
/* True if the civil time exists: the ranges listed above. */
bool	soc_time_valid(int64_t year, int mon, int mday, int hour, int min,
	    int sec);
/* Days in a month (1..12) of a year. */
int	soc_time_mdays(int64_t year, int mon);
/* Civil year and month of a time in seconds since the epoch. */
void	soc_time_civil(int64_t secs, int64_t *year, int *mon);
/*
 * Seconds + nanoseconds (0..999999999) -> ns; false if the result is
 * outside the int64 nanosecond span.
 */
bool	soc_time_mkns(int64_t secs, int64_t frac_ns, int64_t *ns);
/* "Jan".."Dec" (exact case) -> 1..12, else 0.  Reads 3 bytes. */
int	soc_time_month(const char *p);

#endif
