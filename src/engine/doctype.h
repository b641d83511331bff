/*
 * doctype.h
 *		A DocType's meta as Frappe's get_meta gives it, without a database:
 *		the fields and properties, Property Setters applied, the fields in
 *		Frappe's order, and the fieldtype rules every capability shares.
 *		Pure: the glue of each database reads tabDocType, tabDocField,
 *		tabCustom Field and tabProperty Setter and hands the rows here.
 *
 * Strings are the caller's: the engine stores the pointers it is given.
 */
#ifndef FI_DOCTYPE_H
#define FI_DOCTYPE_H

#include <stdbool.h>
#include <stddef.h>

typedef struct FiDocField
{
	char	   *fieldname;
	char	   *label;
	char	   *fieldtype;
	char	   *options;
	char	   *default_value;
	char	   *precision;
	char	   *fetch_from;
	char	   *insert_after;	/* custom fields only */
	int			length;
	int			idx;			/* position in the effective order, 1-based */
	bool		reqd;
	bool		unique;
	bool		hidden;
	bool		read_only;
	bool		no_copy;
	bool		set_only_once;
	bool		allow_on_submit;
	bool		in_list_view;
	bool		non_negative;
	bool		is_virtual;
	bool		fetch_if_empty;
	bool		hide_days;		/* Duration */
	bool		hide_seconds;
	bool		is_custom;		/* from tabCustom Field */
} FiDocField;

typedef struct FiDocMeta
{
	char	   *name;
	char	   *module;
	char	   *autoname;
	char	   *naming_rule;
	char	   *title_field;
	char	   *sort_field;
	char	   *sort_order;
	bool		istable;
	bool		issingle;
	bool		is_submittable;
	bool		is_tree;
	bool		is_virtual;
	bool		custom;
	bool		track_seen;
	int			nfields;
	FiDocField *fields;
} FiDocMeta;

/* The field named, or NULL. */
extern const FiDocField *fi_meta_field(const FiDocMeta *meta, const char *fieldname);

/* Does a field of this type have a column in the DocType's table? */
extern bool fi_fieldtype_has_column(const char *fieldtype);

/* Is this a Table / Table MultiSelect field (child rows)? */
extern bool fi_fieldtype_is_table(const char *fieldtype);

/* A field that holds a value of the document: a column, not virtual. */
extern bool fi_field_has_value(const FiDocField *df);

/*
 * One Property Setter of a DocField (doctype_or_field = DocField): value
 * stored (strings) or parsed (length, checks); a property Frappe has but
 * the engines do not use is ignored.
 */
extern void fi_field_set_property(FiDocField *f, const char *prop, char *value);

/* One Property Setter of the DocType itself. */
extern void fi_doctype_set_property(FiDocMeta *m, const char *prop, char *value);

/*
 * The fields of m in Frappe's order: the names of field_order first (the
 * DocType's own field_order, as Property Setters leave it), then each
 * standard field followed by the custom fields inserted after it
 * (recursively), then custom fields whose insert_after names nothing.  out
 * and done are the caller's (m->nfields each); idx is set 1..n and
 * m->fields becomes out.
 */
extern void fi_doctype_sort_fields(FiDocMeta *m, const char *const *field_order, int norder,
								   FiDocField *out, bool *done);

#endif							/* FI_DOCTYPE_H */
