/*
 * Small helpers shared by every binary: clocks, durations, key files,
 * atomic file replacement.
 */
#ifndef SOC_UTIL_H
#define SOC_UTIL_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define SOC_NS	1000000000LL

int64_t	soc_now_ns(void);		/* CLOCK_REALTIME */
int64_t	soc_mono_ms(void);		/* CLOCK_MONOTONIC */
/* "90s", "15m", "2h", "7d", "1h30m" -> ns; -1 on error. */
int64_t	soc_parse_duration(const char *s);
/*
 * A code: an agency code, a sensor or province name, a forward.name --
 * 1-63 letters, digits, '.', '_' or '-' (nothing a path, a CSV cell, a
 * log line or PROVINCE/AGENCY would read otherwise).  1 valid, 0 not.
 */
int	soc_code_ok(const char *s);
/* A socket address as text (an IPv4-mapped IPv6 address in its IPv4
 * form); "" for another family. */
struct sockaddr_storage;
void	soc_addr_text(const struct sockaddr_storage *ss, char *out,
	    size_t outsz);

/*
 * CURVE keys.  A key file holds one Z85 key (40 chars) on its first line;
 * lines starting with '#' are comments.  A key argument is either such a
 * file or the Z85 text itself.  Returns 0 and the 40-char key + NUL, or
 * -1 with errno-style message in err.
 */
int	soc_key_load(const char *file_or_z85, char out[41], char *err,
	    size_t errlen);
/*
 * The same for a secret key: a file readable by group or others is
 * refused (with the chmod to run), and Z85 text is warned about (it shows
 * in ps).  The file should belong to the daemon's user, or be handed over
 * by systemd's LoadCredential= (see systemd/README).
 */
int	soc_key_load_secret(const char *file_or_z85, char out[41], char *err,
	    size_t errlen);
/* Writes name.key (secret, 0600, with the public key as a comment) and
 * name.pub.  -1 with err on failure. */
int	soc_key_generate(const char *name, char *err, size_t errlen);
/* Public key of a secret key (Z85 in, Z85 out). */
int	soc_key_public(const char secret[41], char pub[41]);

/*
 * Replaces path with len bytes of data atomically: writes path.tmp (mode,
 * before umask), fsyncs it, renames it over path and fsyncs the
 * directory.  0, or -1 with the reason in err.
 */
int	soc_write_atomic(const char *path, const void *data, size_t len,
	    mode_t mode, char *err, size_t errlen);

#endif
