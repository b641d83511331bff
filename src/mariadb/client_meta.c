/*
 * client_meta.c
 *		A DocType's meta as Frappe's get_meta gives it, read from the site's
 *		tabDocType, tabDocField, tabCustom Field and tabProperty Setter over
 *		Connector/C, the rules applied by engine/doctype.c (the same reads as
 *		the PostgreSQL build's meta.c).  Cached for the run.
 */
#include "mariadb/client.h"

#include <stdlib.h>
#include <string.h>

#include "engine/tpl.h"

typedef struct MetaCache
{
	struct MetaCache *next;
	char	   *doctype;
	const FiDocMeta *meta;		/* NULL: there is none */
	/* the table's columns (read on first use) */
	int			ncols;
	char	  **cols;
	bool		cols_read;
} MetaCache;

static void *default_cache;
static void **cache_slot = &default_cache;	/* the MetaCache list in use */
static FcArena *cache_arena;	/* where its entries live (NULL: the caller's arena) */
#define cache (*(MetaCache **) cache_slot)

static char *
str_at(FcArena *a, MYSQL_ROW row, unsigned long *len, int i)
{
	return row[i] ? fc_strndup(a, row[i], len[i]) : fc_strndup(a, "", 0);
}

/* Frappe's cint(): an integer prefix, anything else 0 */
static bool
bool_at(MYSQL_ROW row, int i)
{
	return row[i] != NULL && atoi(row[i]) != 0;
}

/* the columns read from DocField and Custom Field, in this order */
#define FIELD_COLUMNS \
	"fieldname, label, fieldtype, options, `default`, `precision`, fetch_from, " \
	"COALESCE(length, 0), reqd, `unique`, hidden, read_only, no_copy, %s, " \
	"allow_on_submit, in_list_view, non_negative, is_virtual, fetch_if_empty, " \
	"hide_days, hide_seconds"

static void
read_field(FcArena *a, FiDocField *f, MYSQL_ROW row, unsigned long *len)
{
	f->fieldname = str_at(a, row, len, 0);
	f->label = str_at(a, row, len, 1);
	f->fieldtype = str_at(a, row, len, 2);
	f->options = str_at(a, row, len, 3);
	f->default_value = row[4] ? fc_strndup(a, row[4], len[4]) : NULL;
	f->precision = str_at(a, row, len, 5);
	f->fetch_from = str_at(a, row, len, 6);
	f->length = row[7] ? atoi(row[7]) : 0;
	f->reqd = bool_at(row, 8);
	f->unique = bool_at(row, 9);
	f->hidden = bool_at(row, 10);
	f->read_only = bool_at(row, 11);
	f->no_copy = bool_at(row, 12);
	f->set_only_once = bool_at(row, 13);
	f->allow_on_submit = bool_at(row, 14);
	f->in_list_view = bool_at(row, 15);
	f->non_negative = bool_at(row, 16);
	f->is_virtual = bool_at(row, 17);
	f->fetch_if_empty = bool_at(row, 18);
	f->hide_days = bool_at(row, 19);
	f->hide_seconds = bool_at(row, 20);
}

/* field_order's JSON list of fieldnames */
static const char **
parse_field_order(FcArena *a, const char *json, int *n)
{
	FiTplOptions o;
	FiTpl	   *t;
	FiVal	   *v;
	const char **out = NULL;

	*n = 0;
	fi_tpl_default_options(&o);
	if ((t = fi_tpl_new(&o)) == NULL)
		return NULL;
	if (fi_tpl_from_json(t, json, strlen(json), &v) == FI_TPL_OK && fi_val_kind(v) == FI_VK_LIST)
	{
		out = fc_alloc(a, sizeof(char *) * (fi_val_count(v) + 1));
		for (int i = 0; i < fi_val_count(v); i++)
		{
			size_t		len;
			const char *s = fi_val_text(fi_val_item(v, i), &len);

			if (s)
				out[(*n)++] = fc_strndup(a, s, len);
		}
	}
	fi_tpl_free(t);
	return out;
}

static FiDocMeta *
load_meta(MYSQL *conn, FcArena *a, const char *doctype)
{
	const char *lit = fc_literal(a, conn, doctype);
	MYSQL_RES  *r;
	MYSQL_ROW	row;
	unsigned long *len;
	FiDocMeta  *m;
	const char **order = NULL;
	int			norder = 0,
				nstd;
	MYSQL_RES  *std,
			   *custom;

	r = fc_query(conn, fc_printf(a, "SELECT name, module, autoname, naming_rule, title_field, sort_field, "
								 "sort_order, istable, issingle, is_submittable, is_tree, is_virtual, "
								 "custom, track_seen FROM `tabDocType` WHERE name = %s", lit),
				 "reading tabDocType");
	if ((row = mysql_fetch_row(r)) == NULL)
	{
		mysql_free_result(r);
		return NULL;
	}
	len = mysql_fetch_lengths(r);
	m = fc_alloc(a, sizeof(FiDocMeta));
	m->name = str_at(a, row, len, 0);
	m->module = str_at(a, row, len, 1);
	m->autoname = str_at(a, row, len, 2);
	m->naming_rule = str_at(a, row, len, 3);
	m->title_field = str_at(a, row, len, 4);
	m->sort_field = str_at(a, row, len, 5);
	m->sort_order = str_at(a, row, len, 6);
	m->istable = bool_at(row, 7);
	m->issingle = bool_at(row, 8);
	m->is_submittable = bool_at(row, 9);
	m->is_tree = bool_at(row, 10);
	m->is_virtual = bool_at(row, 11);
	m->custom = bool_at(row, 12);
	m->track_seen = bool_at(row, 13);
	mysql_free_result(r);

	std = fc_query(conn, fc_printf(a, "SELECT " FIELD_COLUMNS " FROM `tabDocField` WHERE parent = %s "
								   "ORDER BY idx, name", "set_only_once", lit), "reading tabDocField");
	/* set_only_once is not a Custom Field property */
	custom = fc_query(conn, fc_printf(a, "SELECT " FIELD_COLUMNS ", insert_after FROM `tabCustom Field` "
									  "WHERE dt = %s ORDER BY idx, name", "0", lit), "reading tabCustom Field");
	nstd = (int) mysql_num_rows(std);
	m->nfields = nstd + (int) mysql_num_rows(custom);
	m->fields = fc_alloc(a, sizeof(FiDocField) * (m->nfields + 1));
	for (int i = 0; (row = mysql_fetch_row(std)) != NULL; i++)
		read_field(a, &m->fields[i], row, mysql_fetch_lengths(std));
	for (int i = nstd; (row = mysql_fetch_row(custom)) != NULL; i++)
	{
		len = mysql_fetch_lengths(custom);
		read_field(a, &m->fields[i], row, len);
		m->fields[i].is_custom = true;
		m->fields[i].insert_after = str_at(a, row, len, 21);
	}
	mysql_free_result(std);
	mysql_free_result(custom);

	/* Property Setters, oldest first so that the newest wins (NULLs first, as on PostgreSQL) */
	r = fc_query(conn, fc_printf(a, "SELECT doctype_or_field, field_name, property, value FROM `tabProperty Setter` "
								 "WHERE doc_type = %s ORDER BY creation IS NOT NULL, creation, name", lit),
				 "reading tabProperty Setter");
	while ((row = mysql_fetch_row(r)) != NULL)
	{
		const char *kind = row[0] ? row[0] : "";
		const char *prop = row[2] ? row[2] : "";

		len = mysql_fetch_lengths(r);
		if (strcmp(kind, "DocField") == 0)
		{
			FiDocField *f = (FiDocField *) fi_meta_field(m, row[1] ? row[1] : "");

			if (f)
				fi_field_set_property(f, prop, str_at(a, row, len, 3));
		}
		else if (strcmp(kind, "DocType") == 0)
		{
			if (strcmp(prop, "field_order") == 0)
				order = parse_field_order(a, str_at(a, row, len, 3), &norder);
			else
				fi_doctype_set_property(m, prop, str_at(a, row, len, 3));
		}
	}
	mysql_free_result(r);
	fi_doctype_sort_fields(m, order, norder, fc_alloc(a, sizeof(FiDocField) * (m->nfields + 1)),
						   fc_alloc(a, sizeof(bool) * (m->nfields + 1)));
	return m;
}

static MetaCache *
entry(MYSQL *conn, FcArena *a, const char *doctype)
{
	MetaCache  *e;

	for (e = cache; e; e = e->next)
		if (strcmp(e->doctype, doctype) == 0)
			return e;
	if (cache_arena)
		a = cache_arena;
	e = fc_alloc(a, sizeof(MetaCache));
	e->doctype = fc_strndup(a, doctype, strlen(doctype));
	e->meta = load_meta(conn, a, doctype);
	e->next = cache;
	cache = e;
	return e;
}

void
fc_meta_reset(void)
{
	cache = NULL;				/* its memory is the arena's it was read into */
}

void
fc_meta_use(void **entries, FcArena *arena)
{
	cache_slot = entries ? entries : &default_cache;
	cache_arena = entries ? arena : NULL;
}

bool
fc_column_exists(MYSQL *conn, FcArena *a, const char *table, const char *column)
{
	MYSQL_RES  *r = fc_query(conn, fc_printf(a, "SELECT 1 FROM information_schema.COLUMNS "
											 "WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = %s AND COLUMN_NAME = %s",
											 fc_literal(a, conn, table), fc_literal(a, conn, column)),
							 "reading the table's columns");
	bool		yes = mysql_num_rows(r) > 0;

	mysql_free_result(r);
	return yes;
}

const FiDocMeta *
fc_meta(MYSQL *conn, FcArena *a, const char *doctype)
{
	return entry(conn, a, doctype)->meta;
}

bool
fc_meta_in_table(MYSQL *conn, FcArena *a, const FiDocMeta *meta, const char *column)
{
	MetaCache  *e = entry(conn, a, meta->name);

	if (cache_arena)
		a = cache_arena;
	if (!e->cols_read)
	{
		MYSQL_RES  *r = fc_query(conn, fc_printf(a, "SELECT COLUMN_NAME FROM information_schema.COLUMNS "
												 "WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = %s",
												 fc_literal(a, conn, fc_printf(a, "tab%s", meta->name))),
								 "reading the table's columns");
		MYSQL_ROW	row;

		e->cols = fc_alloc(a, sizeof(char *) * (mysql_num_rows(r) + 1));
		while ((row = mysql_fetch_row(r)) != NULL)
			e->cols[e->ncols++] = fc_strndup(a, row[0], mysql_fetch_lengths(r)[0]);
		mysql_free_result(r);
		e->cols_read = true;
	}
	for (int i = 0; i < e->ncols; i++)
		if (strcasecmp(e->cols[i], column) == 0)
			return true;
	return false;
}
