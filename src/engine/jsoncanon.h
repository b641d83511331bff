/*
 * jsoncanon.h
 *		JSON text as PostgreSQL's jsonb keeps and prints it, without a
 *		database: object keys ordered (shorter first, then by bytes), a
 *		repeated key's last value kept, numbers as numeric prints them
 *		("1.50", "1e2" as 100, "-0" as 0), strings decoded and escaped as
 *		escape_json does.  Written compactly (the bytes the PostgreSQL build
 *		signs in a JWT) or as jsonb's text (", " and ": ").  So that MariaDB,
 *		whose JSON is text, gives the same bytes for the same document.
 */
#ifndef FI_JSONCANON_H
#define FI_JSONCANON_H

#include <stdbool.h>
#include <stddef.h>

/* a growing output buffer (malloc); fi_jbuf_free releases it */
typedef struct FiJBuf
{
	char	   *data;
	size_t		len;
	size_t		cap;
	bool		oom;
} FiJBuf;

extern void fi_jbuf_free(FiJBuf *b);

/* append n bytes (kept NUL-terminated); false when out of memory (then b->oom) */
extern bool fi_jbuf_put(FiJBuf *b, const char *s, size_t n);

/* s[0..n) as a JSON string literal (quoted, escaped as PostgreSQL's escape_json); false when out of memory */
extern bool fi_json_put_string(FiJBuf *b, const char *s, size_t n);

typedef enum FiJsonErr
{
	FI_JSON_OK = 0,
	FI_JSON_SYNTAX,				/* not JSON (PostgreSQL: 22P02) */
	FI_JSON_UNICODE,			/* \u0000 or a lone surrogate (22P05) */
	FI_JSON_RANGE,				/* a number numeric cannot hold (22003) */
	FI_JSON_DEPTH,				/* nested deeper than the caller allows (54001) */
	FI_JSON_NOMEM
} FiJsonErr;

typedef enum FiJsonRoot
{
	FI_JROOT_SCALAR,
	FI_JROOT_ARRAY,
	FI_JROOT_OBJECT
} FiJsonRoot;

/*
 * The text of in (n bytes of UTF-8) as jsonb gives it, appended to out;
 * spaced: jsonb's text output, else compact.  *root says what the top is.
 * On an error, msg (msglen bytes) says what and where.
 */
extern FiJsonErr fi_json_canon(const char *in, size_t n, bool spaced, int max_depth,
							   FiJBuf *out, FiJsonRoot *root, char *msg, size_t msglen);

/*
 * The string value of a top-level key of an object (the last one given),
 * decoded, into out; false when in is no object, has no such key, or its
 * value is not a string.  in must be valid JSON (fi_json_canon said so).
 */
extern bool fi_json_top_string(const char *in, size_t n, const char *key, FiJBuf *out);

/*
 * Calls fn for each member of a top-level object, in the order jsonb keeps
 * them (a repeated key once, its last value): the key and, for a string
 * value, the decoded string (is_string false and val NULL for any other
 * value).  Stops when fn returns false.  *is_object false when in is valid
 * JSON but no object.
 */
typedef bool (*FiJsonMemberFn) (void *arg, const char *key, size_t klen, bool is_string,
								const char *val, size_t vlen);
extern FiJsonErr fi_json_each_member(const char *in, size_t n, int max_depth, FiJsonMemberFn fn, void *arg,
									 bool *is_object, char *msg, size_t msglen);

#endif							/* FI_JSONCANON_H */
