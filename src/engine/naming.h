/*
 * naming.h
 *		Frappe's naming decisions (frappe-facts 2.5; naming.py), without a
 *		database: the kind of a DocType's autoname, a series or format:
 *		pattern expanded for a document (dates, fields, the counter's key
 *		and place), the name made from a counter's number, the week number
 *		Frappe uses, and validate_name's refusals.  The counters themselves
 *		(tabSeries, a Document Naming Rule's counter, a sequence) are the
 *		database glue's: it takes them the way the database locks them.
 */
#ifndef FI_NAMING_H
#define FI_NAMING_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "engine/alloc.h"
#include "engine/importval.h"	/* FiDateTime */

typedef enum FiAutoname
{
	FI_AUTONAME_HASH,			/* hash, empty, and what only Python can run */
	FI_AUTONAME_FIELD,			/* field:fieldname */
	FI_AUTONAME_NAMING_SERIES,	/* naming_series: (the document's naming_series field) */
	FI_AUTONAME_PROMPT,
	FI_AUTONAME_FORMAT,			/* format:PATTERN */
	FI_AUTONAME_SERIES,			/* a series with '#' ("SINV-.YYYY.-.#####") */
	FI_AUTONAME_AUTOINCREMENT
} FiAutoname;

/* The kind; *arg the field, the pattern or the series (into autoname). */
extern FiAutoname fi_autoname_kind(const char *autoname, const char **arg);

/* the document's value of a field as text ("" when empty); *present: the DocType has the field */
typedef const char *(*FiNameValue) (void *arg, const char *fieldname, bool *present);

typedef struct FiNameHooks
{
	void	   *arg;
	FiAlloc		alloc;			/* memory (engine/alloc.h) */
	FiNameValue value;
} FiNameHooks;

/* a name being made: text with the counter's place, or a final name */
typedef struct FiNamePlan
{
	char	   *text;			/* NUL-terminated */
	size_t		len;
	size_t		cap;
	char	   *key;			/* the counter's key (tabSeries name), NULL: no counter */
	int			digits;
	size_t		at;				/* where the number goes in text */
} FiNamePlan;

/*
 * Append a series (parse_naming_series: parts split at '.'; YY MM DD YYYY
 * WW timestamp, {field} or a fieldname the document's value, #... the
 * counter, the first one only; anything else as written) to the plan.
 */
extern void fi_name_plan_series(FiNamePlan *p, const char *series, const FiDateTime *now,
								const FiNameHooks *hooks);

/* Append a format: pattern (each {param} as a series part, the rest as written). */
extern void fi_name_plan_format(FiNamePlan *p, const char *pattern, const FiDateTime *now,
								const FiNameHooks *hooks);

/* The name with number at the counter's place, zero-padded to its digits. */
extern char *fi_name_compose(const FiNamePlan *p, int64_t number, const FiNameHooks *hooks);

/* determine_consecutive_week_number: the ISO week, 00 in January, 53 in December */
extern int	fi_name_week(int year, int month, int day);

/*
 * validate_name: NULL when the name may be given, else the message
 * (static, or in the hooks' memory).  limit140: the name column is
 * varchar(140).
 */
extern const char *fi_name_problem(const char *name, const char *doctype, bool limit140,
							 const FiNameHooks *hooks);


/* ---- a batch of imported documents named (Data Import) ---- */

/* one enabled Document Naming Rule of the DocType (the glue reads them, highest priority first) */
typedef struct FiNameRule
{
	const char *name;
	const char *prefix;			/* a series ("" when none) */
	int			digits;			/* the counter's, 0-30 */
	int			nconds;			/* conditions: field, operator ("=" when none), value */
	const char *const *fields;
	const char *const *ops;
	const char *const *values;
	const FiCompareKind *kinds; /* how each condition compares (fi_compare_kind of its field) */
} FiNameRule;

typedef struct FiNameDoc
{
	/* the glue's */
	void	   *doc;			/* handed to the hooks' value */
	long		row;			/* its first row, for messages */
	bool		skip;			/* failed already: not named */
	const char *supplied;		/* the ID from the file, or NULL */
	/* the engine's */
	char	   *name;			/* the name it gets; NULL when error */
	const char *error;			/* why it gets none, in Frappe's words */
	const char *error_value;	/* the value the error is about (a name), or NULL */
	bool		given;			/* not from a counter (the file, a field, a rule): the glue checks it is not taken */
} FiNameDoc;

typedef struct FiNameBatchHooks
{
	void	   *arg;
	FiAlloc		alloc;
	/* the document's value of a field as text ("" when empty or not set); *present: the DocType has it */
	const char *(*value) (void *arg, void *doc, const char *fieldname, bool *present);
	/* n numbers of tabSeries' counter key, its row locked until the transaction ends: the last one taken */
	int64_t		(*take_series) (void *arg, const char *key, int64_t n);
	/* n numbers of a Document Naming Rule's counter: the last one taken */
	int64_t		(*take_rule) (void *arg, const FiNameRule *rule, int64_t n);
	/* a hash name (v15: 10 characters of base32hex) */
	char	   *(*hash_name) (void *arg);
	/* a field's label, for messages (NULL: the fieldname is said) */
	const char *(*label) (void *arg, const char *fieldname);
} FiNameBatchHooks;

/*
 * Name the documents of a batch as Frappe's Data Import does (in_import:
 * a supplied ID is kept): a Document Naming Rule whose conditions the
 * document meets first (its prefix, its own counter), else the DocType's
 * autoname (field:, naming_series:, prompt, format:, a series, hash).
 * Counters are taken a block per key in one call each, keys in byte order
 * (two imports cannot deadlock), rules' counters a block per rule.  Then
 * validate_name for every name (limit140: a varchar(140) column) and a name
 * twice in the batch, given or made (the later documents fail: "… already
 * exists (row N)", the first one's row).  Not for
 * autoincrement (the glue's sequence).  The hooks may not return (a
 * glue's error): the engine holds nothing but what alloc gave.
 */
extern void fi_name_batch(const char *doctype, const char *autoname, FiNameDoc *docs, int n, const FiNameRule *rules, int nrules, const FiDateTime *now,
						  bool limit140, const FiNameBatchHooks *hooks);

#endif							/* FI_NAMING_H */
