/*
 * importcell.h
 *		Data Import's cell-to-value rules (Frappe's Row.parse_value and the
 *		checks of a document's insert), storage-neutral: a cell of a field
 *		becomes an FiCell (a whole number, a decimal text, a date and time,
 *		or the text itself) or a message in Frappe's words; a field's
 *		default is classified the way frappe.new_doc applies it.
 *
 * What the column can hold (a varchar's length, an integer's range, a
 * decimal's digits) is told by the glue in FiCellField; what it makes of an
 * FiCell (a Datum, a bound parameter) is the glue's.  Texts are UTF-8.
 * Thread-safe: no state; messages in the caller's arena.
 */
#ifndef FI_IMPORTCELL_H
#define FI_IMPORTCELL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "engine/alloc.h"
#include "engine/importval.h"

/* how a cell is read: by fieldtype */
typedef enum FiCellKind
{
	FI_CELL_TEXT,				/* Data, Small Text, Link, Select, ... */
	FI_CELL_INT,				/* Int, Long Int */
	FI_CELL_CHECK,
	FI_CELL_NUMBER,				/* Float, Currency, Percent, Rating */
	FI_CELL_DURATION,
	FI_CELL_DATE,
	FI_CELL_DATETIME,
	FI_CELL_TIME
} FiCellKind;

extern FiCellKind fi_cell_kind(const char *fieldtype);

/* a field as the import writes it: its rules, and what its column holds */
typedef struct FiCellField
{
	FiCellKind	kind;
	const char *label;
	bool		has_datefmt;	/* the column's guessed date format; else %Y-%m-%d */
	FiDateFormat datefmt;
	const char *const *options; /* a Select's options (an empty one is no choice); NULL: not a Select */
	int			noptions;
	int			maxchars;		/* the column's characters (varchar(n)), -1 unbounded */
	int64_t		int_max;		/* an integer column's largest value (its least is -int_max - 1); 0: bigint */
	int			int_digits;		/* a decimal column's digits before the point; -1 unbounded */
} FiCellField;

/* a cell's value */
typedef struct FiCell
{
	int64_t		i;				/* INT, CHECK (0 or 1), DURATION (seconds) */
	const char *number;			/* NUMBER, DURATION: plain decimal text ("-1234.50", "1e3", "86400") */
	FiDateTime	dt;				/* DATE, DATETIME, TIME */
} FiCell;

/*
 * The value of the cell s[0..n) (no NUL inside; not empty: an empty cell
 * is no value) for the field; NULL when it is one, else why not (Frappe's
 * message, naming the field by its label).
 */
extern const char *fi_cell_value(const FiCellField *f, const char *s, size_t n, FiCell *out,
								 FiAlloc alloc, void *arg);

/* a Select's options: the lines of its DocField options (an empty line is a blank choice) */
extern int	fi_select_options(const char *options, FiAlloc alloc, void *arg, const char ***out);

/* how frappe.new_doc fills a field the file leaves empty */
typedef enum FiDefaultKind
{
	FI_DEFAULT_NONE,
	FI_DEFAULT_VALUE,			/* *value, read as a cell of the field */
	FI_DEFAULT_TODAY,
	FI_DEFAULT_NOW,
	FI_DEFAULT_USER,			/* the importing user */
	FI_DEFAULT_TITLE			/* "{field} ..." on the title field, per document */
} FiDefaultKind;

/*
 * The kind of a field's default (DocField default, NULL or "" for none):
 * __user, Today / __today, now (Datetime and Time), the title field's
 * pattern (not in a child table), a literal that is a value of the field
 * (*cell its value, *value its text); none for what only a session knows
 * (":Company", _Login, _Full Name, "now" of another type) and for a literal
 * that is no value of the field.  A Select without one takes its first
 * option unless that is blank or its options are "[Select]".
 */
extern FiDefaultKind fi_default_kind(const FiCellField *f, const char *default_value, const char *options,
									 bool is_title_field, bool child, const char **value, FiCell *cell,
									 FiAlloc alloc, void *arg);

/* ---- a document's checks, in Frappe's words ---- */

/*
 * The title field's default pattern ("{customer_name} - {posting_date}")
 * with the document's values: value(varg, fieldname) gives a field's text,
 * NULL when it has none (then nothing is written for it).
 */
extern char *fi_import_title(const char *pattern, const char *(*value) (void *varg, const char *fieldname),
							 void *varg, FiAlloc alloc, void *arg);

/*
 * A mandatory field left empty is missing when it is a text, a date or a
 * time; an empty number or Check is stored as 0, which Frappe's own check
 * accepts (ERPNext's controllers compute such totals).
 */
extern bool fi_cell_empty_is_missing(FiCellKind kind);

/* a mandatory value missing (msgprint, then MandatoryError): idx is a child row's */
extern char *fi_import_msg_missing(bool child, const char *doctype, int idx, const char *label,
								   FiAlloc alloc, void *arg);

/* a mandatory Table field without a row */
extern char *fi_import_msg_table_missing(const char *label, FiAlloc alloc, void *arg);

/* a Link to no document */
extern char *fi_import_msg_link_missing(const char *value, const char *link_doctype, FiAlloc alloc, void *arg);

/* a unique field's value taken: by a stored document of doctype, or by an earlier row of the file */
extern char *fi_import_msg_not_unique(const char *label, const char *value, const char *doctype, bool earlier_row,
									  FiAlloc alloc, void *arg);

/* a field a submitted document may not change */
extern char *fi_import_msg_after_submit(const char *label, FiAlloc alloc, void *arg);

/* ---- a table's fields as the import writes them ---- */

/* what the database says a field's column holds */
typedef struct FiImpColumnInfo
{
	int			maxchars;		/* varchar(n): n; -1 unbounded */
	int64_t		int_max;		/* a smaller integer's largest value; 0: bigint or no integer */
	int			int_digits;		/* a decimal's digits before the point; -1 unbounded */
} FiImpColumnInfo;

/* a field's rules in the import (the glue makes a default's value of its column's type) */
typedef struct FiImpFieldRules
{
	FiCellField cell;			/* how its cells are read (no date format guessed yet) */
	bool		reqd;
	bool		unique;
	bool		is_link;		/* a Link with a target */
	const char *link_doctype;
	bool		is_select;
	FiDefaultKind defkind;
	const char *default_text;	/* FI_DEFAULT_VALUE: the literal */
	FiCell		default_cell;	/* FI_DEFAULT_VALUE: its value */
} FiImpFieldRules;

struct FiDocMeta;
struct FiDocField;

/* the rules of field df of the table of meta (child: a child table) over its column */
extern void fi_import_field_rules(const struct FiDocMeta *meta, bool child, const struct FiDocField *df,
								  const FiImpColumnInfo *col, FiImpFieldRules *out, FiAlloc alloc, void *arg);

/* a field the file does not map is written all the same: it has a default, is mandatory, or is a Time */
extern bool fi_import_unmapped_written(const FiImpFieldRules *r);

/*
 * fetch_from "link_field.source_field": *link_len the Link field's name's
 * length (at the start of df->fetch_from), *src the source field; false
 * when df fetches nothing (or not in that form).
 */
extern bool fi_import_fetch_from(const struct FiDocField *df, size_t *link_len, const char **src);

/*
 * Frappe's guess of a Date or Datetime column's format from the counts of
 * its values' guesses (FI_NDATE_FORMATS * (FI_NTIME_FORMATS + 1), the date
 * format times FI_NTIME_FORMATS + 1 plus the time format + 1): the most
 * common, the first of equals; *kinds how many were seen.  false: none.
 */
extern bool fi_import_date_format_pick(const long *counts, FiDateFormat *out, int *kinds);

/*
 * Frappe's date-format guesses of each column of a sheet, counted from the
 * cells below its header (the first row with a value) as an Excel reader's
 * opening pass shows them (xlsx.h's FiXlsxCellHook: row by row; text NULL
 * for a value that cannot be a date, len 1, or none, len 0).  A row's
 * guesses are kept until the row is known not to be the header.  Its
 * memory is malloc's (a cell hook must not raise): false when it runs out.
 * Zero it to begin; fi_sheet_guess_end after the last cell.
 */
typedef struct FiSheetGuess
{
	long	  **counts;			/* per column (0-based): FI_NDATE_FORMATS * (FI_NTIME_FORMATS + 1) counts, or NULL */
	int			ncols;
	long		header_row;		/* the first row with a value; 0 while none */
	long		cur_row;
	bool		cur_nonempty;
	int			ncur,
				cap;
	int		   *cur_col,
			   *cur_fmt;
} FiSheetGuess;

extern bool fi_sheet_guess_cell(FiSheetGuess *g, long row, int col, const char *text, size_t len);
extern bool fi_sheet_guess_end(FiSheetGuess *g);
/* the counts of column col (0-based) for fi_import_date_format_pick; NULL when it had no date */
extern const long *fi_sheet_guess_counts(const FiSheetGuess *g, int col);
extern void fi_sheet_guess_free(FiSheetGuess *g);

/*
 * The field a fetch_from of df goes through: the index among fields[0..n)
 * of the Link field (a Link with a target) its fetch_from names, -1 when
 * none; *src the source field.
 */
extern int	fi_import_fetch_link(const struct FiDocField *df, const struct FiDocField *const *fields, int n,
								 const char **src);

/*
 * The fields of meta, not among fields[0..n), that Frappe fetches through a
 * Link among them or among those found before (Insert: set before the
 * document is checked), in the DocType's order; has_column(arg, df): the
 * table has its column.  out has room for meta->nfields; their number.
 */
extern int	fi_import_fetched_fields(const struct FiDocMeta *meta, const struct FiDocField *const *fields, int n,
									 bool (*has_column) (void *arg, const struct FiDocField *df), void *arg,
									 const struct FiDocField **out);

/* the mandatory fields of meta in the DocType's order; their number */
extern int	fi_import_mandatory(const struct FiDocMeta *meta, const struct FiDocField ***out, FiAlloc alloc, void *arg);

/*
 * The Document Status column's cell: 0, or 1 when the DocType is
 * submittable; else NULL with Frappe's message in *why (static).
 */
extern bool fi_import_docstatus(const char *cell, bool submittable, int *out, const char **why);

#endif							/* FI_IMPORTCELL_H */
