/*
 * Incident categories: the ten stable codes the response team files
 * incidents under (brute_force, scan, malware, intrusion, dos, data_leak,
 * defacement, phishing, policy, other), chosen from a rule's tags through
 * an editable table (rules/categories.txt, see rule-category.c): the
 * first line whose tag matches one of the rule's tags wins, "other" when
 * none does.
 */
#ifndef SOC_CORR_CATEGORY_H
#define SOC_CORR_CATEGORY_H

#include <stddef.h>

#define CATEGORY_COUNT		10
#define CATEGORY_OTHER		"other"
#define CATEGORY_FILE		"categories.txt"	/* in the rules directory */

struct category_map;

/* The codes, 0..CATEGORY_COUNT-1; NULL past the end. */
const char	*category_name(int i);
/* The static code equal to s, or NULL when s is not one of the ten. */
const char	*category_code(const char *s);

/*
 * Parses a table from text (name for messages).  NULL with a reason
 * ("name:line: ...") in err on a bad line or allocation failure.
 */
struct category_map *category_parse(const char *text, size_t len,
		    const char *name, char *err, size_t errlen);
/* Reads path; a missing file is an error too (the caller decides). */
struct category_map *category_load(const char *path, char *err, size_t errlen);
/* The table shipped as rules/categories.txt, built in (its text too). */
extern const char category_default_text[];
struct category_map *category_default(char *err, size_t errlen);
void		 category_free(struct category_map *m);
size_t		 category_lines(const struct category_map *m);

/* The category of a rule with these comma-separated tags (static). */
const char	*category_of(const struct category_map *m, const char *tags);

#endif
