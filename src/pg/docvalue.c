/*
 * docvalue.c
 *		Frappe documents read from their tables as template-engine values:
 *		the dict Frappe's as_dict(convert_dates_to_str=True) gives a webhook
 *		payload (dates as strings), or the Document a condition sees (dates
 *		as date values), with the child tables as lists of such dicts.
 *
 * Frappe's rules (frappe-facts 1.6): keys in get_valid_columns order --
 * doctype, name, owner, creation, modified, modified_by, docstatus, idx,
 * (parent, parentfield, parenttype for a child), every field that has a
 * column, in the DocType's field order -- then each Table field, then
 * _user_tags / _liked_by when set.  Numerics are floats (Frappe's psycopg2
 * cast), Check and Int are ints, empty Date/Datetime/Time and empty unique
 * values are None, dates and times are Python's str() of them.
 *
 * Documents are fetched set-wise: one query for the parents of a batch of
 * names and one per child table (parent = ANY($1)).
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "access/table.h"
#include "access/tableam.h"
#include "executor/tuptable.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "mb/pg_wchar.h"
#include "miscadmin.h"
#include "storage/bufmgr.h"
#include "utils/builtins.h"
#include "utils/date.h"
#include "lib/stringinfo.h"
#include "utils/hsearch.h"
#include "utils/datetime.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"
#include "utils/snapmgr.h"
#include "utils/timestamp.h"

#include "frappe_integrations.h"
#include "webhook.h"
#include "engine/docdict.h"

/* how one key of a document is read from the row */
typedef struct DocKey
{
	const char *key;
	int			attnum;			/* 0: no such column (the value is None) */
	Oid			typid;
	const FiDocField *df;		/* NULL for the standard columns */
} DocKey;

typedef struct DocShape
{
	const FiDocMeta *meta;
	int			nkeys;
	DocKey	   *keys;
	int			user_tags;		/* attnums of _user_tags, _liked_by (0: none) */
	int			liked_by;
	int			hint;			/* where column_of looks first */
	Datum	   *values;			/* one row, deformed once */
	bool	   *nulls;
} DocShape;

/* the keys asked for (NULL: all of them) */
typedef struct DocFields
{
	const char *const *names;
	int			n;
} DocFields;

static bool
wanted(const DocFields *only, const char *key)
{
	if (only == NULL || only->names == NULL)
		return true;
	for (int i = 0; i < only->n; i++)
		if (strcmp(only->names[i], key) == 0)
			return true;
	return false;
}

/*
 * The column named, searched from just after the one found last (*hint):
 * a table's columns mostly follow its DocType's field order, so a wide
 * table's keys are found in one pass, not one pass each.
 */
static int
column_of(TupleDesc desc, const char *name, Oid *typid, int *hint)
{
	for (int k = 0; k < desc->natts; k++)
	{
		int			i = (*hint + k) % desc->natts;
		Form_pg_attribute a = TupleDescAttr(desc, i);

		if (!a->attisdropped && strcmp(NameStr(a->attname), name) == 0)
		{
			*typid = a->atttypid;
			*hint = i + 1;
			return i + 1;
		}
	}
	*typid = InvalidOid;
	return 0;
}

static void
shape_add(DocShape *s, TupleDesc desc, const char *key, const FiDocField *df)
{
	DocKey	   *k = &s->keys[s->nkeys++];

	k->key = key;
	k->df = df;
	k->attnum = column_of(desc, key, &k->typid, &s->hint);
}

static void *
doc_alloc(void *arg, size_t size)
{
	return palloc0(size);
}

static DocShape *
shape_for(const FiDocMeta *meta, TupleDesc desc, const DocFields *only)
{
	DocShape   *s = palloc0(sizeof(DocShape));
	Oid			typid;
	FiDocKey   *keys;
	int			nkeys = fi_doc_row_keys(meta, doc_alloc, NULL, &keys);

	s->meta = meta;
	/* Frappe's keys in its order (engine/docdict.c), those asked for */
	s->keys = palloc(sizeof(DocKey) * (nkeys + 1));
	for (int i = 0; i < nkeys; i++)
		if (wanted(only, keys[i].key))
			shape_add(s, desc, keys[i].key, keys[i].df);
	s->user_tags = wanted(only, "_user_tags") ? column_of(desc, "_user_tags", &typid, &s->hint) : 0;
	s->liked_by = wanted(only, "_liked_by") ? column_of(desc, "_liked_by", &typid, &s->hint) : 0;
	s->values = palloc(sizeof(Datum) * desc->natts);
	s->nulls = palloc(sizeof(bool) * desc->natts);
	return s;
}

static void
engine_oom(void)
{
	ereport(ERROR,
			(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
			 errmsg("a webhook document is larger than the template engine's memory bound")));
}

static FiVal *
checked(FiVal *v)
{
	if (v == NULL)
		engine_oom();
	return v;
}

static FiVal *
str_value(FiTpl *t, const char *s, size_t n)
{
	if (GetDatabaseEncoding() != PG_UTF8)
	{
		char	   *u = pg_server_to_any(s, (int) n, PG_UTF8);

		return checked(fi_val_str(t, u, strlen(u)));
	}
	return checked(fi_val_str(t, s, n));
}

/* Python's str() of a time of day: HH:MM:SS[.ffffff] */
static int
time_text(char *buf, size_t len, int64 usec)
{
	int64		s = usec / USECS_PER_SEC;
	int			us = (int) (usec % USECS_PER_SEC);

	if (us)
		return snprintf(buf, len, "%02d:%02d:%02d.%06d", (int) (s / 3600),
						(int) (s / 60 % 60), (int) (s % 60), us);
	return snprintf(buf, len, "%02d:%02d:%02d", (int) (s / 3600), (int) (s / 60 % 60),
					(int) (s % 60));
}

static FiVal *
datum_value(FiTpl *t, Datum d, Oid typid, const FiDocField *df, bool dates_as_str)
{
	char		buf[64];
	int			n;

	switch (typid)
	{
		case INT2OID:
			return checked(fi_val_int(t, DatumGetInt16(d)));
		case INT4OID:
			return checked(fi_val_int(t, DatumGetInt32(d)));
		case INT8OID:
			return checked(fi_val_int(t, DatumGetInt64(d)));
		case BOOLOID:
			return checked(fi_val_int(t, DatumGetBool(d) ? 1 : 0));
		case FLOAT4OID:
			return checked(fi_val_float(t, DatumGetFloat4(d)));
		case FLOAT8OID:
			return checked(fi_val_float(t, DatumGetFloat8(d)));
		case NUMERICOID:
			{
				char	   *s = DatumGetCString(DirectFunctionCall1(numeric_out, d));

				return checked(fi_val_float_text(t, s, strlen(s)));
			}
		case DATEOID:
			{
				DateADT		date = DatumGetDateADT(d);
				int			y,
							m,
							dd;

				if (DATE_NOT_FINITE(date))
					break;
				j2date(date + POSTGRES_EPOCH_JDATE, &y, &m, &dd);
				if (y < 1 || y > 9999)
					break;
				if (!dates_as_str)
					return checked(fi_val_date(t, y, m, dd));
				n = snprintf(buf, sizeof(buf), "%04d-%02d-%02d", y, m, dd);
				return str_value(t, buf, n);
			}
		case TIMESTAMPOID:
			{
				Timestamp	ts = DatumGetTimestamp(d);
				struct pg_tm tm;
				fsec_t		fsec;

				if (TIMESTAMP_NOT_FINITE(ts) ||
					timestamp2tm(ts, NULL, &tm, &fsec, NULL, NULL) != 0 ||
					tm.tm_year < 1 || tm.tm_year > 9999)
					break;
				if (!dates_as_str)
					return checked(fi_val_datetime(t, tm.tm_year, tm.tm_mon, tm.tm_mday,
												   tm.tm_hour, tm.tm_min, tm.tm_sec,
												   (int) fsec));
				n = snprintf(buf, sizeof(buf), "%04d-%02d-%02d ", tm.tm_year, tm.tm_mon,
							 tm.tm_mday);
				n += time_text(buf + n, sizeof(buf) - n,
							   ((int64) tm.tm_hour * 3600 + tm.tm_min * 60 + tm.tm_sec) *
							   USECS_PER_SEC + fsec);
				return str_value(t, buf, n);
			}
		case TIMEOID:
			n = time_text(buf, sizeof(buf), DatumGetTimeADT(d));
			return str_value(t, buf, n);
		case TEXTOID:
		case VARCHAROID:
		case BPCHAROID:
			{
				text	   *txt = DatumGetTextPP(d);
				size_t		len = VARSIZE_ANY_EXHDR(txt);

				/* Frappe: an empty unique value is None */
				if (len == 0 && df != NULL && df->unique)
					return checked(fi_val_none(t));
				return str_value(t, VARDATA_ANY(txt), len);
			}
		default:
			break;
	}
	/* anything else: its text, as psycopg2 would give str() of it */
	{
		Oid			out;
		bool		varlena;
		char	   *s;

		getTypeOutputInfo(typid, &out, &varlena);
		s = OidOutputFunctionCall(out, d);
		return str_value(t, s, strlen(s));
	}
}

/* the dict of one row; the Table fields are left to the caller */
/* the dict of the row whose columns are in s->values / s->nulls */
static FiVal *
row_dict_deformed(FiTpl *t, DocShape *s, bool dates_as_str)
{
	FiVal	   *doc = checked(fi_val_dict(t));
	const char *dt = s->meta->name;

	fi_val_set(t, doc, "doctype", 7, str_value(t, dt, strlen(dt)));
	for (int i = 0; i < s->nkeys; i++)
	{
		DocKey	   *k = &s->keys[i];
		FiVal	   *v;

		if (k->attnum > 0 && !s->nulls[k->attnum - 1])
			v = datum_value(t, s->values[k->attnum - 1], k->typid, k->df, dates_as_str);
		else
			v = checked(fi_val_none(t));
		fi_val_set(t, doc, k->key, strlen(k->key), v);
	}
	return doc;
}

static FiVal *
row_dict(FiTpl *t, DocShape *s, HeapTuple tup, TupleDesc desc, bool dates_as_str)
{
	/* every column at once: wide rows make one-by-one access quadratic */
	heap_deform_tuple(tup, desc, s->values, s->nulls);
	return row_dict_deformed(t, s, dates_as_str);
}

/*
 * _user_tags and _liked_by of the row row_dict deformed last (NULL where
 * unset or empty): they follow the Table fields in Frappe's key order, so
 * they are set once the children are.
 */
static void
row_extras_get(DocShape *s, TupleDesc desc, char **extras)
{
	int			atts[2] = {s->user_tags, s->liked_by};

	for (int i = 0; i < 2; i++)
	{
		char	   *v = NULL;

		if (atts[i] > 0 && !s->nulls[atts[i] - 1])
		{
			Oid			typid = TupleDescAttr(desc, atts[i] - 1)->atttypid;
			Oid			out;
			bool		varlena;

			getTypeOutputInfo(typid, &out, &varlena);
			v = OidOutputFunctionCall(out, s->values[atts[i] - 1]);
			if (v[0] == '\0')
				v = NULL;
		}
		extras[i] = v;
	}
}

static void
row_extras_set(FiTpl *t, FiVal *doc, char *const *extras)
{
	static const char *const names[2] = {"_user_tags", "_liked_by"};

	for (int i = 0; i < 2; i++)
		if (doc != NULL && extras[i] != NULL)
			fi_val_set(t, doc, names[i], strlen(names[i]),
					   str_value(t, extras[i], strlen(extras[i])));
}

static void
row_extras(FiTpl *t, DocShape *s, FiVal *doc, TupleDesc desc)
{
	char	   *extras[2];

	row_extras_get(s, desc, extras);
	row_extras_set(t, doc, extras);
}

static Datum
names_array(const char *const *names, int n)
{
	Datum	   *elems = palloc(sizeof(Datum) * Max(n, 1));

	for (int i = 0; i < n; i++)
		elems[i] = CStringGetTextDatum(names[i]);
	return PointerGetDatum(construct_array(elems, n, TEXTOID, -1, false, TYPALIGN_INT));
}

/* name -> position among the documents asked for */
typedef struct NameIx
{
	char		name[NAMEDATALEN * 4];
	int			ix;
} NameIx;

static HTAB *
name_index(const char *const *names, FiVal **docs, int n)
{
	HASHCTL		ctl;
	HTAB	   *h;

	memset(&ctl, 0, sizeof(ctl));
	ctl.keysize = sizeof(((NameIx *) 0)->name);
	ctl.entrysize = sizeof(NameIx);
	ctl.hcxt = CurrentMemoryContext;
	h = hash_create("frappe_integrations doc names", Max(n, 8), &ctl,
					HASH_ELEM | HASH_STRINGS | HASH_CONTEXT);
	for (int i = 0; i < n; i++)
	{
		bool		found;
		NameIx	   *e;

		if ((docs != NULL && docs[i] == NULL) || strlen(names[i]) >= sizeof(e->name))
			continue;
		e = hash_search(h, names[i], HASH_ENTER, &found);
		if (!found)
			e->ix = i;
	}
	return h;
}

static int
name_lookup(HTAB *h, const char *const *names, int n, const char *name)
{
	NameIx	   *e;

	if (strlen(name) < sizeof(e->name))
	{
		e = hash_search(h, name, HASH_FIND, NULL);
		return e ? e->ix : -1;
	}
	for (int i = 0; i < n; i++)	/* names longer than any Frappe name */
		if (strcmp(names[i], name) == 0)
			return i;
	return -1;
}

/*
 * The child rows of the named parents for each Table field of meta, as lists
 * set on the parents' dicts (which must already hold every other key).
 */
static void
add_children(FiTpl *t, const FiDocMeta *meta, const char *const *names, FiVal **docs,
			 FiVal **cdocs, int n, const DocFields *only)
{
	for (int f = 0; f < meta->nfields; f++)
	{
		const FiDocField *df = &meta->fields[f];
		const FiDocMeta *cmeta;
		Oid			relid;
		Oid			argtypes[3] = {TEXTOID, TEXTOID, TEXTARRAYOID};
		Datum		args[3];
		DocShape   *shape = NULL;
		FiVal	  **lists,
				  **clists;
		int			ret;
		HTAB	   *index = NULL;
		FiSecure	sec;

		if (!fi_fieldtype_is_table(df->fieldtype) || df->options == NULL ||
			!wanted(only, df->fieldname))
			continue;
		lists = palloc(sizeof(FiVal *) * n);
		clists = palloc(sizeof(FiVal *) * n);
		for (int i = 0; i < n; i++)
		{
			lists[i] = clists[i] = NULL;
			if (docs && docs[i] != NULL)
			{
				lists[i] = checked(fi_val_list(t));
				fi_val_set(t, docs[i], df->fieldname, strlen(df->fieldname), lists[i]);
			}
			if (cdocs && cdocs[i] != NULL)
			{
				clists[i] = checked(fi_val_list(t));
				fi_val_set(t, cdocs[i], df->fieldname, strlen(df->fieldname), clists[i]);
			}
		}
		cmeta = fi_get_meta(df->options, true);
		relid = fi_site_table_oid(psprintf("tab%s", df->options), true);
		if (cmeta == NULL || !OidIsValid(relid))
			continue;			/* no such child table: an empty list, as Frappe */
		args[0] = CStringGetTextDatum(meta->name);
		args[1] = CStringGetTextDatum(df->fieldname);
		args[2] = names_array(names, n);
		/* the site's rows, read as their table's owner (secure.c) */
		fi_secure_enter(&sec, fi_rel_owner(relid));
		ret = fi_spi_execute(psprintf("SELECT * FROM %s WHERE parenttype OPERATOR(pg_catalog.=) $1 "
											 "AND parentfield OPERATOR(pg_catalog.=) $2 "
											 "AND parent OPERATOR(pg_catalog.=) ANY ($3) "
											 "ORDER BY parent, idx",
											 fi_site_table(psprintf("tab%s", df->options))),
									3, argtypes, args, NULL, true, 0);
		fi_secure_exit(&sec);
		if (ret != SPI_OK_SELECT)
			elog(ERROR, "reading child table \"tab%s\" failed: %s", df->options,
				 SPI_result_code_string(ret));
		{
			SPITupleTable *tt = SPI_tuptable;
			int			pcol = SPI_fnumber(tt->tupdesc, "parent");
			int			last = -1;

			for (uint64 r = 0; r < SPI_processed; r++)
			{
				HeapTuple	tup = tt->vals[r];
				char	   *parent = SPI_getvalue(tup, tt->tupdesc, pcol);
				FiVal	   *row;

				if (parent == NULL)
					continue;
				/* rows come grouped by parent: look up only at a change */
				if (last < 0 || strcmp(names[last], parent) != 0)
				{
					if (index == NULL)
						index = name_index(names, docs ? docs : cdocs, n);
					last = name_lookup(index, names, n, parent);
					if (last < 0)
						continue;
				}
				if (shape == NULL)
					shape = shape_for(cmeta, tt->tupdesc, NULL);
				if (lists[last])
				{
					row = row_dict(t, shape, tup, tt->tupdesc, true);
					row_extras(t, shape, row, tt->tupdesc);
					fi_val_append(t, lists[last], row);
				}
				if (clists[last])
				{
					row = row_dict(t, shape, tup, tt->tupdesc, false);
					row_extras(t, shape, row, tt->tupdesc);
					fi_val_append(t, clists[last], row);
				}
			}
			SPI_freetuptable(tt);
		}
	}
}

/*
 * The documents named (docs[i] NULL where there is no such row), children
 * included.  Runs its queries through SPI: the caller has connected.
 */
/* the SELECT list for the keys asked for: the columns of the table among them */
static char *
select_list(const FiDocMeta *meta, const DocFields *only)
{
	StringInfoData s;
	Oid			relid;

	if (only == NULL || only->names == NULL)
		return "*";
	relid = fi_site_table_oid(psprintf("tab%s", meta->name), false);
	initStringInfo(&s);
	appendStringInfoString(&s, "name");
	for (int i = 0; i < only->n; i++)
		if (strcmp(only->names[i], "name") != 0 &&
			get_attnum(relid, only->names[i]) != InvalidAttrNumber)
			appendStringInfo(&s, ", %s", quote_identifier(only->names[i]));
	return s.data;
}

/*
 * Read the parents named (those fetch_by_tid did not find) with one query.
 */
static void
fetch_by_name(FiTpl *t, FiDocFetch *f, const DocFields *only, HTAB *index,
			  const char *const *names, int n, char **extras, int *found)
{
	SPITupleTable *tt;
	DocShape   *shape = NULL;
	Oid			argtype = TEXTARRAYOID;
	Datum		arg = names_array(names, n);
	int			ret,
				ncol;

	Oid			relid = fi_site_table_oid(psprintf("tab%s", f->meta->name), false);
	Oid			name_type = get_atttype(relid, get_attnum(relid, "name"));

	/*
	 * The names come as text; an autoincrement DocType's name is a bigint:
	 * the array is cast to the column's type so that its index serves.
	 */
	FiSecure	sec;

	/* the site's rows, read as their table's owner (secure.c) */
	fi_secure_enter(&sec, fi_rel_owner(relid));
	ret = fi_spi_execute(psprintf("SELECT %s FROM %s WHERE %s",
								  select_list(f->meta, only),
								  fi_site_table(psprintf("tab%s", f->meta->name)),
								  (name_type == TEXTOID || name_type == VARCHAROID ||
								   name_type == BPCHAROID || !OidIsValid(name_type)) ?
								  "name OPERATOR(pg_catalog.=) ANY ($1)" :
								  psprintf("name OPERATOR(pg_catalog.=) ANY ($1::%s[])",
										   format_type_be_qualified(name_type))),
						 1, &argtype, &arg, NULL, true, 0);
	fi_secure_exit(&sec);
	if (ret != SPI_OK_SELECT)
		elog(ERROR, "reading \"tab%s\" failed: %s", f->meta->name, SPI_result_code_string(ret));
	tt = SPI_tuptable;
	ncol = SPI_fnumber(tt->tupdesc, "name");
	for (uint64 r = 0; r < SPI_processed; r++)
	{
		HeapTuple	tup = tt->vals[r];
		char	   *name = SPI_getvalue(tup, tt->tupdesc, ncol);
		int			i;

		if (name == NULL || (i = name_lookup(index, f->names, f->n, name)) < 0 ||
			(f->docs ? f->docs[i] : f->cdocs[i]) != NULL)
			continue;
		if (shape == NULL)
			shape = shape_for(f->meta, tt->tupdesc, only);
		if (f->docs)
			f->docs[i] = row_dict(t, shape, tup, tt->tupdesc, true);
		if (f->cdocs)
			f->cdocs[i] = row_dict(t, shape, tup, tt->tupdesc, false);
		row_extras_get(shape, tt->tupdesc, &extras[2 * i]);
		(*found)++;
	}
	SPI_freetuptable(tt);
}

typedef struct TidIx
{
	ItemPointerData tid;
	int			ix;
} TidIx;

static int
tidix_cmp(const void *a, const void *b)
{
	return ItemPointerCompare(&((TidIx *) unconstify(void *, a))->tid,
							  &((TidIx *) unconstify(void *, b))->tid);
}

/*
 * The parents whose row ids are known, read straight from the table (no
 * query: at commit a bulk statement's 100,000 documents were mostly the
 * executor's projection and copying).  A row id is only a hint: a row
 * changed since it was noted is not visible there (or, its slot reused,
 * holds another name), and is left for the read by name.  Only the
 * columns up to the last one wanted are deformed.
 */
static void
fetch_by_tid(FiTpl *t, FiDocFetch *f, const DocFields *only, char **extras, int *found)
{
	Oid			relid = fi_site_table_oid(psprintf("tab%s", f->meta->name), false);
	Relation	rel = table_open(relid, AccessShareLock);
	TupleDesc	desc = RelationGetDescr(rel);
	TupleTableSlot *slot = table_slot_create(rel, NULL);
	DocShape   *shape = shape_for(f->meta, desc, only);
	Oid			name_type;
	int			hint = 0;
	int			ncol = column_of(desc, "name", &name_type, &hint);
	int			maxatt = Max(ncol, Max(shape->user_tags, shape->liked_by));
	TidIx	   *order = palloc(sizeof(TidIx) * f->n);
	int			n = 0;
	Datum	   *own_values = shape->values;
	bool	   *own_nulls = shape->nulls;

	BlockNumber nblocks = RelationGetNumberOfBlocks(rel);
	bool		name_is_text = name_type == TEXTOID || name_type == VARCHAROID ||
		name_type == BPCHAROID;
	Oid			name_out = InvalidOid;

	if (!name_is_text && ncol > 0)
	{
		bool		varlena;

		getTypeOutputInfo(name_type, &name_out, &varlena);
	}
	for (int k = 0; k < shape->nkeys; k++)
		maxatt = Max(maxatt, shape->keys[k].attnum);
	/*
	 * A row id past the table's end is no hint: the table was truncated (or
	 * rewritten) after the row was noted, in this very transaction.
	 */
	for (int i = 0; i < f->n; i++)
		if (ItemPointerIsValid(&f->tids[i]) && ItemPointerGetBlockNumber(&f->tids[i]) < nblocks)
		{
			order[n].tid = f->tids[i];
			order[n++].ix = i;
		}
	qsort(order, n, sizeof(TidIx), tidix_cmp);	/* page by page */
	for (int k = 0; k < n && ncol > 0; k++)
	{
		int			i = order[k].ix;
		char	   *name;

		CHECK_FOR_INTERRUPTS();
		if (!table_tuple_fetch_row_version(rel, &order[k].tid, GetActiveSnapshot(), slot))
			continue;
		slot_getsomeattrs(slot, maxatt);
		if (slot->tts_isnull[ncol - 1])
			continue;
		/* autoincrement DocTypes have a bigint name: its text, as by name */
		name = name_is_text ? TextDatumGetCString(slot->tts_values[ncol - 1]) :
			OidOutputFunctionCall(name_out, slot->tts_values[ncol - 1]);
		if (strcmp(name, f->names[i]) != 0 || (f->docs ? f->docs[i] : f->cdocs[i]) != NULL)
			continue;
		shape->values = slot->tts_values;
		shape->nulls = slot->tts_isnull;
		if (f->docs)
			f->docs[i] = row_dict_deformed(t, shape, true);
		if (f->cdocs)
			f->cdocs[i] = row_dict_deformed(t, shape, false);
		row_extras_get(shape, desc, &extras[2 * i]);
		(*found)++;
	}
	shape->values = own_values;
	shape->nulls = own_nulls;
	ExecDropSingleTupleTableSlot(slot);
	table_close(rel, AccessShareLock);
}

/*
 * The documents asked for (NULL where there is no such row), children
 * included, as payload dicts (f->docs) and/or as a condition sees them
 * (f->cdocs), both from one read.  Runs its queries through SPI: the caller
 * has connected.
 */
void
fi_docs_fetch(FiTpl *t, FiDocFetch *f)
{
	DocFields	onlyf = {f->fields, f->nfields};
	const DocFields *only = f->fields ? &onlyf : NULL;
	HTAB	   *index;
	char	  **extras;
	int			found = 0,
				ntids = 0;

	for (int i = 0; i < f->n; i++)
	{
		if (f->docs)
			f->docs[i] = NULL;
		if (f->cdocs)
			f->cdocs[i] = NULL;
		if (f->tids && ItemPointerIsValid(&f->tids[i]))
			ntids++;
	}
	if (f->n == 0 || (f->docs == NULL && f->cdocs == NULL))
		return;
	index = name_index(f->names, NULL, f->n);
	extras = palloc0(sizeof(char *) * 2 * f->n);
	f->by_tid = 0;
	if (ntids > 0)
	{
		fetch_by_tid(t, f, only, extras, &found);
		f->by_tid = found;
	}
	if (found < f->n)
	{
		/* the rest by name */
		const char **rest = palloc(sizeof(char *) * f->n);
		int			nrest = 0;

		for (int i = 0; i < f->n; i++)
			if ((f->docs ? f->docs[i] : f->cdocs[i]) == NULL)
				rest[nrest++] = f->names[i];
		fetch_by_name(t, f, only, index, rest, nrest, extras, &found);
	}
	hash_destroy(index);
	add_children(t, f->meta, f->names, f->docs, f->cdocs, f->n, only);
	for (int i = 0; i < f->n; i++)
	{
		row_extras_set(t, f->docs ? f->docs[i] : NULL, &extras[2 * i]);
		row_extras_set(t, f->cdocs ? f->cdocs[i] : NULL, &extras[2 * i]);
	}
}

/*
 * One document from a row in hand (a deleted parent: the trigger's OLD
 * row), its children read now.
 */
FiVal *
fi_doc_from_tuple(FiTpl *t, const FiDocMeta *meta, HeapTuple tup, TupleDesc desc,
				  bool dates_as_str)
{
	DocShape   *shape = shape_for(meta, desc, NULL);
	FiVal	   *doc = row_dict(t, shape, tup, desc, dates_as_str);
	int			ncol = SPI_fnumber(desc, "name");
	char	   *name = ncol > 0 ? SPI_getvalue(tup, desc, ncol) : NULL;
	char	   *extras[2];

	row_extras_get(shape, desc, extras);

	if (name != NULL)
	{
		const char *names[1] = {name};

		add_children(t, meta, names, dates_as_str ? &doc : NULL, dates_as_str ? NULL : &doc,
					 1, NULL);
	}
	row_extras_set(t, doc, extras);
	return doc;
}
