/*
 * client_json.c
 *		fi-client export --file-type json and export-doc: bench
 *		export-json's list of documents and export-doc's one document
 *		(engine/docdict.c: Frappe's keys, each value from MariaDB's text, the
 *		shapes), written as PostgreSQL's jsonb prints export_json's and
 *		export_doc's result.  The documents are read in batches of 500 by
 *		name, each child table with one query per batch, all inside one
 *		read-only transaction with a consistent snapshot.
 */
#include "mariadb/client_export.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "engine/docdict.h"
#include "engine/jsoncanon.h"

#define JSON_BATCH 500

/* the columns of a table read for its documents' dicts: the keys it has, then the extras */
typedef struct DictTable
{
	const FiDocMeta *meta;
	int			nkeys;
	FiDocKey   *keys;
	int		   *col;			/* per key: its column in the result, -1: none (None) */
	int			extra_col[FI_DOC_NEXTRA];
	char	   *select;			/* the SELECT list (after the parent, for a child) */
	int			ncols;
	FiDocText  *kinds;			/* per result column, from the first result */
	struct DictTable **child;	/* the document's: per field of meta, its child table's (NULL: none) */
} DictTable;

static FiDocText
dict_kind(const MYSQL_FIELD *f)
{
	switch (xp_kind_of(f))
	{
		case K_INT:
			return FI_DT_INT;
		case K_DECIMAL:
		case K_FLOAT:
			return FI_DT_NUMBER;
		case K_CLOCK:
			return FI_DT_CLOCK;
		case K_TEXT:
			return FI_DT_TEXT;
		default:
			return FI_DT_OTHER;
	}
}

/* is key among the fields asked for (NULL: all are) */
static bool
wanted(const char *const *fields, int nfields, const char *key)
{
	if (fields == NULL)
		return true;
	for (int i = 0; i < nfields; i++)
		if (strcmp(fields[i], key) == 0)
			return true;
	return false;
}

static DictTable *
dict_table_of(Export *ex, const FiDocMeta *meta, int first, const char *const *fields, int nfields)
{
	DictTable  *d = fc_alloc(ex->a, sizeof(DictTable));
	FcBuf		b = {0};
	int			c = first;

	d->meta = meta;
	d->nkeys = fi_doc_row_keys(meta, xp_alloc, ex, &d->keys);
	d->col = fc_alloc(ex->a, sizeof(int) * (d->nkeys + 1));
	for (int i = 0; i < d->nkeys; i++)
	{
		/* a key its table has no column for (a Custom Field before bench migrate) is None */
		d->col[i] = -1;
		if (!wanted(fields, nfields, d->keys[i].key) || !fc_meta_in_table(ex->conn, ex->a, meta, d->keys[i].key))
			continue;
		fc_buf_printf(&b, "%s%s", b.len ? ", " : "", fc_ident(ex->a, d->keys[i].key));
		d->col[i] = c++;
	}
	for (int i = 0; i < FI_DOC_NEXTRA; i++)
	{
		d->extra_col[i] = -1;
		if (!fc_meta_in_table(ex->conn, ex->a, meta, fi_doc_extra_keys[i]))
			continue;
		fc_buf_printf(&b, "%s%s", b.len ? ", " : "", fc_ident(ex->a, fi_doc_extra_keys[i]));
		d->extra_col[i] = c++;
	}
	d->ncols = c;
	d->select = fc_strndup(ex->a, b.data ? b.data : "NULL", b.len ? b.len : 4);
	fc_buf_free(&b);
	return d;
}

static DictTable *
dict_table(Export *ex, const FiDocMeta *meta, int first)
{
	return dict_table_of(ex, meta, first, NULL, 0);
}

static void
engine_oom(void)
{
	fc_fail("54000", NULL, NULL, "a document is larger than the template engine's memory bound");
}

static FiVal *
checked(FiVal *v)
{
	if (v == NULL)
		engine_oom();
	return v;
}

/* the dict of one row (the Table fields are the caller's; the extras come after them) */
static FiVal *
row_dict(FiTpl *t, DictTable *d, MYSQL_RES *res, MYSQL_ROW row, unsigned long *len, bool dates_as_str)
{
	FiVal	   *doc = checked(fi_val_dict(t));

	if (d->kinds == NULL)
	{
		MYSQL_FIELD *f = mysql_fetch_fields(res);

		d->kinds = malloc(sizeof(FiDocText) * d->ncols);
		if (d->kinds == NULL)
			engine_oom();
		for (int i = 0; i < d->ncols; i++)
			d->kinds[i] = dict_kind(&f[i]);
	}
	fi_val_set(t, doc, "doctype", 7, checked(fi_val_str(t, d->meta->name, strlen(d->meta->name))));
	for (int i = 0; i < d->nkeys; i++)
	{
		int			c = d->col[i];

		fi_val_set(t, doc, d->keys[i].key, strlen(d->keys[i].key),
				   checked(c < 0 ? fi_val_none(t) : fi_doc_value(t, d->kinds[c], d->keys[i].df, row[c], len[c], dates_as_str)));
	}
	return doc;
}

static void
row_extras(FiTpl *t, DictTable *d, FiVal *doc, MYSQL_ROW row, unsigned long *len)
{
	for (int i = 0; i < FI_DOC_NEXTRA; i++)
	{
		int			c = d->extra_col[i];

		if (c >= 0 && row[c] != NULL && len[c] > 0)
			fi_val_set(t, doc, fi_doc_extra_keys[i], strlen(fi_doc_extra_keys[i]),
					   checked(fi_val_str(t, row[c], len[c])));
	}
}

typedef struct NameIdx
{
	const char *name;
	int			i;
} NameIdx;

static int
nameidx_cmp(const void *a, const void *b)
{
	return strcmp(((const NameIdx *) a)->name, ((const NameIdx *) b)->name);
}

static int
find_name(NameIdx *idx, int n, const char *name)
{
	NameIdx		key = {name, 0};
	NameIdx    *hit = bsearch(&key, idx, n, sizeof(NameIdx), nameidx_cmp);

	return hit ? hit->i : -1;
}

/* is this field of a document one with child rows (a Table field naming its DocType)? */
static bool
table_field(const FiDocField *df)
{
	return fi_fieldtype_is_table(df->fieldtype) && df->options != NULL && df->options[0] != '\0';
}

/* each Table field's child table, read the same way for every batch (none: its list stays empty, as Frappe) */
static void
dict_children_of(Export *ex, DictTable *top, const char *const *fields, int nfields)
{
	top->child = fc_alloc(ex->a, sizeof(DictTable *) * (top->meta->nfields + 1));
	for (int f = 0; f < top->meta->nfields; f++)
	{
		const FiDocField *df = &top->meta->fields[f];
		const FiDocMeta *cmeta;

		if (!table_field(df) || !wanted(fields, nfields, df->fieldname))
			continue;
		cmeta = fc_meta(ex->conn, ex->a, df->options);
		if (cmeta != NULL && fc_meta_in_table(ex->conn, ex->a, cmeta, "parent"))
			top->child[f] = dict_table(ex, cmeta, 1);
	}
}

static void
dict_children(Export *ex, DictTable *top)
{
	dict_children_of(ex, top, NULL, 0);
}

/*
 * The dicts of the documents names[0..n) (as_dict(): children included;
 * dates_as_str false: date values, for a condition) into docs[i], NULL for
 * a name not found; query texts in ba.
 */
static void
read_docs(Export *ex, DictTable *top, char **names, int n, FiTpl *t, FcArena *ba, bool dates_as_str, FiVal **docs,
		  FiVal **cdocs)
{
	NameIdx    *idx = fc_alloc(ba, sizeof(NameIdx) * n);
	FcBuf		in = {0};
	MYSQL_RES  *res;
	MYSQL_ROW	row;

	for (int i = 0; i < n; i++)
	{
		fc_buf_printf(&in, "%s%s", i ? ", " : "", fc_literal(ba, ex->conn, names[i]));
		idx[i].name = names[i];
		idx[i].i = i;
	}
	qsort(idx, n, sizeof(NameIdx), nameidx_cmp);

	res = fc_query(ex->conn, fc_printf(ba, "SELECT `name`, %s FROM %s WHERE `name` IN (%s)", top->select,
									   fc_ident(ba, fc_printf(ba, "tab%s", top->meta->name)), in.data),
				   "reading the documents");
	while ((row = mysql_fetch_row(res)) != NULL)
	{
		unsigned long *len = mysql_fetch_lengths(res);
		int			i = row[0] ? find_name(idx, n, row[0]) : -1;

		if (i < 0 || docs[i] != NULL)
			continue;
		for (int form = 0; form < (cdocs ? 2 : 1); form++)
		{
			FiVal	   *d = row_dict(t, top, res, row, len, form == 0 ? dates_as_str : false);

			/* Frappe's order: the Table fields' lists (filled below), then the extras */
			for (int f = 0; f < top->meta->nfields; f++)
				if (table_field(&top->meta->fields[f]))
					fi_val_set(t, d, top->meta->fields[f].fieldname, strlen(top->meta->fields[f].fieldname),
							   checked(fi_val_list(t)));
			row_extras(t, top, d, row, len);
			if (form == 0)
				docs[i] = d;
			else
				cdocs[i] = d;
		}
	}
	mysql_free_result(res);

	/* each Table field: the child rows of the batch, by parent and idx */
	for (int f = 0; f < top->meta->nfields; f++)
	{
		const FiDocField *df = &top->meta->fields[f];
		DictTable  *cd = top->child[f];
		MYSQL_RES  *cres;

		if (cd == NULL)
			continue;
		cres = fc_query(ex->conn, fc_printf(ba, "SELECT `parent`, %s FROM %s WHERE `parenttype` = %s AND "
											"`parentfield` = %s AND `parent` IN (%s) ORDER BY `parent`, `idx`",
											cd->select, fc_ident(ba, fc_printf(ba, "tab%s", cd->meta->name)),
											fc_literal(ba, ex->conn, top->meta->name),
											fc_literal(ba, ex->conn, df->fieldname), in.data),
						"reading a child table");
		while ((row = mysql_fetch_row(cres)) != NULL)
		{
			unsigned long *len = mysql_fetch_lengths(cres);
			int			i = row[0] ? find_name(idx, n, row[0]) : -1;
			FiVal	   *child;

			if (i < 0 || docs[i] == NULL)
				continue;
			child = row_dict(t, cd, cres, row, len, dates_as_str);
			row_extras(t, cd, child, row, len);
			fi_val_append(t, fi_val_member(docs[i], df->fieldname), child);
			if (cdocs && cdocs[i])
			{
				child = row_dict(t, cd, cres, row, len, false);
				row_extras(t, cd, child, row, len);
				fi_val_append(t, fi_val_member(cdocs[i], df->fieldname), child);
			}
		}
		mysql_free_result(cres);
	}
	fc_buf_free(&in);
}

/*
 * A batch of documents by name, children included, as their shaped JSON
 * (jsonb's text) written out.  What the batch needs lives in an arena of
 * its own, freed at its end.
 */
static void
put_json_batch(Export *ex, DictTable *top, char **names, int n, bool doc_form, bool *first, long *written)
{
	FiTplOptions o;
	FiTpl	   *t;
	FcArena    *ba = fc_arena_new();
	FiVal	  **docs = fc_alloc(ba, sizeof(FiVal *) * n);

	fi_tpl_default_options(&o);
	o.max_memory = (size_t) 1 << 30;
	if ((t = fi_tpl_new(&o)) == NULL)
		engine_oom();
	read_docs(ex, top, names, n, t, ba, true, docs, NULL);
	for (int i = 0; i < n; i++)
	{
		const char *text;
		size_t		len;
		FiVal	   *shaped;
		FiJBuf		canon = {0};
		FiJsonRoot	root;
		char		msg[128];

		if (docs[i] == NULL)
			continue;
		if ((shaped = fi_doc_export_shape(t, docs[i], doc_form)) == NULL ||
			fi_tpl_dumps(t, shaped, &text, &len) != FI_TPL_OK)
			engine_oom();
		/* the text PostgreSQL's jsonb prints for it */
		if (fi_json_canon(text, len, true, 10000, &canon, &root, msg, sizeof(msg)) != FI_JSON_OK)
			fc_fail("22P02", msg, NULL, "a document of %s did not make JSON", top->meta->name);
		if (!*first)
			fc_buf_put(&ex->out, ", ", 2);
		*first = false;
		fc_buf_put(&ex->out, canon.data, canon.len);
		fi_jbuf_free(&canon);
		(*written)++;
	}
	fi_tpl_free(t);
	fc_arena_free(ba);
}

int
fc_export_json_main(MYSQL *conn, FcArena *a, const char *doctype, const char *options_json, const char *name,
					const char *output)
{
	Export		ex = {0};
	FiExportHooks hooks;
	FiExportError err;
	FiTpl	   *tpl;
	FiVal	   *opts;
	FiVal	   *v;
	DictTable  *top;
	MYSQL_RES  *res;
	MYSQL_ROW	row;
	char	  **names = NULL;
	long		nnames = 0;
	long		written = 0;
	bool		first = true;
	char	   *tmp = NULL;
	bool		doc_form = name != NULL;
	static const char *const known[] = {"name", "filters", "order_by", "limit"};

	hooks = (FiExportHooks) {&ex, xp_alloc, xp_meta, xp_in_table};
	opts = xp_begin(&ex, conn, a, &tpl, doctype, options_json, known, (int) (sizeof(known) / sizeof(known[0])), NULL);
	fi_export_plan_init(&ex.plan, ex.meta, &hooks);
	xp_parse_filters(&ex, opts);
	if ((v = xp_opt(opts, "name")) != NULL)
	{
		if (fi_val_kind(v) != FI_VK_STR)
			xp_refuse("name", "a document name");
		xp_add_filter(&ex, "name", "=", v);
	}
	if (name != NULL)
	{
		FiVal	   *nv = checked(fi_val_str(tpl, name, strlen(name)));

		xp_add_filter(&ex, "name", "=", nv);
	}
	if ((v = xp_opt(opts, "order_by")) == NULL)
	{
		/* bench export-json: creation ascending */
		static FiExportOrder by_creation[] = {{"creation", false}, {"name", false}};

		ex.plan.order = by_creation;
		ex.plan.norder = 2;
	}
	else
	{
		if (fi_val_kind(v) != FI_VK_STR)
			xp_refuse("order_by", "a string such as \"modified desc\"");
		if (!fi_export_order_by(&ex.plan, xp_vstr(&ex, v), &hooks, &err))
			xp_plan_error(&err);
	}
	xp_take_limit(&ex, opts);

	/* one snapshot for the names and every batch's rows */
	if (mysql_query(conn, "START TRANSACTION WITH CONSISTENT SNAPSHOT, READ ONLY") != 0)
		fc_fail_mysql(conn, "starting a read-only transaction");
	res = fc_query(conn, fc_printf(a, "SELECT p.`name` FROM %s p%s%s",
								   fc_ident(a, fc_printf(a, "tab%s", ex.meta->name)),
								   ex.where.data ? ex.where.data : "", xp_docs_tail(&ex)),
				   "reading the documents");
	names = fc_alloc(a, sizeof(char *) * (mysql_num_rows(res) + 1));
	while ((row = mysql_fetch_row(res)) != NULL)
		names[nnames++] = fc_strndup(a, row[0], mysql_fetch_lengths(res)[0]);
	mysql_free_result(res);
	if (doc_form && nnames == 0)
		fc_fail("P0002", NULL, NULL, "%s %s not found", ex.meta->name, name);

	tmp = xp_out_open(&ex, output);
	top = dict_table(&ex, ex.meta, 1);
	dict_children(&ex, top);
	if (!doc_form)
		fc_buf_put(&ex.out, "[", 1);
	for (long i = 0; i < nnames; i += JSON_BATCH)
	{
		put_json_batch(&ex, top, names + i, (int) (nnames - i < JSON_BATCH ? nnames - i : JSON_BATCH), doc_form,
					   &first, &written);
		xp_flush_out(&ex, output);
		xp_progress(&ex, written, -1, false);
	}
	if (!doc_form)
		fc_buf_put(&ex.out, "]", 1);
	fc_buf_put(&ex.out, "\n", 1);
	xp_flush_out(&ex, output);
	xp_progress(&ex, written, -1, true);
	free(top->kinds);
	for (int f = 0; f < top->meta->nfields; f++)
		if (top->child[f])
			free(top->child[f]->kinds);
	if (mysql_query(conn, "COMMIT") != 0)
		fc_fail_mysql(conn, "ending the read-only transaction");
	xp_out_close(&ex, output, tmp, written, -1);
	fc_buf_free(&ex.out);
	fc_buf_free(&ex.where);
	fi_tpl_free(tpl);
	return 0;
}

void
fc_read_docs(MYSQL *conn, FcArena *a, FiTpl *t, const FiDocMeta *meta, char **names, int n, bool dates_as_str,
			 const char *const *fields, int nfields, FiVal **docs, FiVal **cdocs)
{
	Export		ex = {.conn = conn, .a = a, .meta = meta};
	DictTable  *top = dict_table_of(&ex, meta, 1, fields, nfields);

	dict_children_of(&ex, top, fields, nfields);
	for (int start = 0; start < n; start += JSON_BATCH)
		read_docs(&ex, top, names + start, n - start < JSON_BATCH ? n - start : JSON_BATCH, t, a, dates_as_str,
				  docs + start, cdocs ? cdocs + start : NULL);
	for (int f = 0; f < meta->nfields; f++)
		if (top->child[f])
			free(top->child[f]->kinds);
	free(top->kinds);
}

FiVal *
fc_read_doc(MYSQL *conn, FcArena *a, FiTpl *t, const FiDocMeta *meta, const char *name, bool dates_as_str)
{
	Export		ex = {.conn = conn, .a = a, .meta = meta};
	DictTable  *top = dict_table(&ex, meta, 1);
	FiVal	   *doc = NULL;
	char	   *names[1] = {(char *) name};

	dict_children(&ex, top);
	read_docs(&ex, top, names, 1, t, a, dates_as_str, &doc, NULL);
	for (int f = 0; f < meta->nfields; f++)
		if (top->child[f])
			free(top->child[f]->kinds);
	free(top->kinds);
	return doc;
}
