/*
 * docdict.h
 *		A Frappe document as its as_dict() gives it, from a database's row,
 *		without a database: the keys in Frappe's order and each value from
 *		the text the database prints (frappe-facts 1.6), and the shapes of
 *		bench export-json and export-doc (facts 9.3, 9.4).
 *
 * Keys: doctype, name, owner, creation, modified, modified_by, docstatus,
 * idx, (parent, parentfield, parenttype for a child), every field that has
 * a column, in the DocType's field order, then each Table field (a list of
 * such dicts), then _user_tags / _liked_by when set.  Values: numerics are
 * floats, Check and Int ints, dates and times Python's str() of them (or
 * date values for a condition), an empty unique value None.
 *
 * Thread-safe: no state; values in the caller's template session.
 */
#ifndef FI_DOCDICT_H
#define FI_DOCDICT_H

#include <stdbool.h>
#include <stddef.h>

#include "engine/alloc.h"
#include "engine/doctype.h"
#include "engine/tpl.h"

typedef struct FiDocKey
{
	const char *key;			/* the column */
	const FiDocField *df;		/* NULL for a standard column */
} FiDocKey;

/* the keys of a row's dict after "doctype", in Frappe's order (Table fields and the extras aside) */
extern int	fi_doc_row_keys(const FiDocMeta *meta, FiAlloc alloc, void *arg, FiDocKey **out);

/* the keys that follow the Table fields when the row has them set (not empty) */
#define FI_DOC_NEXTRA 2
extern const char *const fi_doc_extra_keys[FI_DOC_NEXTRA];

/* what the database's text of a value is */
typedef enum FiDocText
{
	FI_DT_INT,					/* an integer */
	FI_DT_NUMBER,				/* a decimal or float: Frappe reads a float */
	FI_DT_CLOCK,				/* a date, datetime or time */
	FI_DT_TEXT,					/* a string */
	FI_DT_OTHER					/* anything else: its text */
} FiDocText;

/*
 * One value: s NULL is None.  dates_as_str: a date or datetime as its
 * str() (a webhook payload, an export), else a date value (a condition).
 * NULL when the session's memory bound is reached.
 */
extern FiVal *fi_doc_value(FiTpl *t, FiDocText kind, const FiDocField *df, const char *s, size_t n,
						   bool dates_as_str);

/*
 * bench export-json's shape of a document (without modified_by,
 * creation, owner, idx, lft, rgt; child rows without docstatus, doctype,
 * modified, name), or export-doc's (doc_form: as_dict(no_nulls=True),
 * child rows without their standard keys).  NULL when out of memory.
 */
extern FiVal *fi_doc_export_shape(FiTpl *t, FiVal *doc, bool doc_form);

#endif							/* FI_DOCDICT_H */
