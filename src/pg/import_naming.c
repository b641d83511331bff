/*
 * import_naming.c
 *		Data Import: the names of imported documents (frappe-facts 2.5).
 *
 * A supplied ID is kept (Frappe's in_import), except for autoincrement.
 * Otherwise the DocType's autoname: hash, field:, naming_series:, prompt,
 * format:, a series with #, autoincrement.  Series counters live in
 * tabSeries, shared with a running Frappe: Frappe locks a counter's row
 * (SELECT ... FOR UPDATE) and adds one per document; the import takes a
 * block per batch with one UPDATE ... RETURNING, which locks the same row
 * until the transaction ends, so neither can hand out a number twice.
 * Counters are taken in key order, so two imports cannot deadlock.
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "mb/pg_wchar.h"
#include "miscadmin.h"
#include "utils/formatting.h"
#include "utils/builtins.h"
#include "utils/datetime.h"
#include "utils/lsyscache.h"
#include "utils/timestamp.h"

#include "import.h"
#include "engine/csv.h"
#include "engine/secretfmt.h"
#include "engine/naming.h"

/* ---- hash names ---- */

char *
imp_hash_name(void)
{
	static unsigned char pool[4000];
	static int	pos = sizeof(pool);
	char	   *out = palloc(11);

	if (pos + 10 > (int) sizeof(pool))
	{
		fi_strong_random(pool, sizeof(pool));
		pos = 0;
	}
	/* v15: base32hex of 10 random bytes, lower case, 10 characters */
	fi_random_base32hex(pool + pos, 10, out);
	pos += 10;
	return out;
}

/* ---- series ---- */

static ImpField *
doc_field(ImpRun *run, const char *fieldname, int *index)
{
	ImpTable   *t = &run->tables[0];

	for (int i = 0; i < t->nfields; i++)
		if (strcmp(t->fields[i].fieldname, fieldname) == 0)
		{
			*index = i;
			return &t->fields[i];
		}
	return NULL;
}

/* the document's value of a field as text ("" when empty or not set) */
static char *
doc_text(ImpRun *run, ImpDoc *doc, const char *fieldname, bool *present)
{
	int			i;
	ImpField   *f = doc_field(run, fieldname, &i);

	*present = f != NULL || fi_meta_field(run->meta, fieldname) != NULL;
	if (f == NULL || doc->nulls[i])
		return "";
	return imp_datum_text(f, doc->values[i]);
}

/* the naming engine's side of the storage: memory and the document's values */
typedef struct NameCtx
{
	ImpRun	   *run;
	ImpDoc	   *doc;
} NameCtx;

static void *
name_alloc(void *arg, size_t size)
{
	return palloc0(size);
}

/* the batch's clock as the engine's date and time */
static FiDateTime
run_clock(ImpRun *run)
{
	struct pg_tm tm;
	fsec_t		fsec;
	FiDateTime	dt;

	if (timestamp2tm(run->now, NULL, &tm, &fsec, NULL, NULL) != 0)
		elog(ERROR, "timestamp out of range");
	dt.year = tm.tm_year;
	dt.month = tm.tm_mon;
	dt.day = tm.tm_mday;
	dt.hour = tm.tm_hour;
	dt.minute = tm.tm_min;
	dt.second = tm.tm_sec;
	dt.usec = (int) fsec;
	return dt;
}

/* take n numbers of the counter key: the last one taken is returned */
static int64
take_numbers(const char *key, int64 n)
{
	Oid			types[2] = {TEXTOID, INT8OID};
	Datum		args[2];
	bool		isnull;
	int64		last;

	if (strlen(key) > 100)
		ereport(ERROR,
				(errcode(ERRCODE_STRING_DATA_RIGHT_TRUNCATION),
				 errmsg("naming series key \"%s\" is longer than tabSeries allows (100)", key)));
	args[0] = CStringGetTextDatum(key);
	args[1] = Int64GetDatum(n);
	/* Frappe inserts the row when it is missing; ON CONFLICT: a concurrent insert wins */
	fi_spi_execute(psprintf("INSERT INTO %s (name, current) VALUES ($1, 0) ON CONFLICT (name) DO NOTHING",
							fi_site_table("tabSeries")), 1, types, args, NULL, false, 0);
	if (fi_spi_execute(psprintf("UPDATE %s SET current = current + $2 WHERE name = $1 RETURNING current",
								fi_site_table("tabSeries")), 2, types, args, NULL, false, 0) != SPI_OK_UPDATE_RETURNING ||
		SPI_processed != 1)
		elog(ERROR, "could not take numbers of series \"%s\"", key);
	last = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
	SPI_freetuptable(SPI_tuptable);	/* (kept until SPI_finish otherwise: memory would grow per batch) */
	return last;
}

/* names given (from the file, a field or a rule): not already taken by a stored document */
static void
check_taken(ImpRun *run, ImpDoc **docs, int n, const FiNameDoc *nd)
{
	List	   *names = NIL;
	Datum	   *d;
	int			k = 0;
	Oid			types[1] = {TEXTARRAYOID};
	Datum		args[1];
	ListCell   *lc;

	for (int i = 0; i < n; i++)
		if (!docs[i]->failed && nd[i].given)
			names = lappend(names, docs[i]->name);
	if (names == NIL)
		return;
	d = palloc(sizeof(Datum) * list_length(names));
	foreach(lc, names)
		d[k++] = CStringGetTextDatum(lfirst(lc));
	args[0] = PointerGetDatum(construct_array(d, k, TEXTOID, -1, false, TYPALIGN_INT));
	if (fi_spi_execute(psprintf("SELECT name::text FROM %s WHERE name = ANY($1)",
								fi_site_table(psprintf("tab%s", run->doctype))),
					   1, types, args, NULL, true, 0) != SPI_OK_SELECT)
		elog(ERROR, "name check failed");
	for (uint64 r = 0; r < SPI_processed; r++)
	{
		char	   *taken = SPI_getvalue(SPI_tuptable->vals[r], SPI_tuptable->tupdesc, 1);

		for (int i = 0; i < n; i++)
			if (!docs[i]->failed && nd[i].given && strcmp(docs[i]->name, taken) == 0)
				imp_doc_error(run, docs[i], docs[i]->row, NULL, taken, "%s %s already exists",
							  run->doctype, taken);
	}
	SPI_freetuptable(SPI_tuptable);
}

/*
 * The DocType's enabled Document Naming Rules (Frappe applies them before
 * the DocType's autoname, highest priority first), read once a run.
 */
static void
read_naming_rules(ImpRun *run)
{
	Oid			types[1] = {TEXTOID};
	Datum		args[1];
	SPITupleTable *tt;
	uint64		nrules;
	MemoryContext old;

	run->naming_rules_read = true;
	if (!OidIsValid(fi_site_table_oid("tabDocument Naming Rule", true)) ||
		!OidIsValid(fi_site_table_oid("tabDocument Naming Rule Condition", true)))
		return;					/* (a site older than the rules) */
	args[0] = CStringGetTextDatum(run->doctype);
	if (fi_spi_execute(psprintf("SELECT name, prefix, coalesce(prefix_digits, 0) FROM %s "
								"WHERE document_type = $1 AND coalesce(disabled, 0) = 0 "
								"ORDER BY coalesce(priority, 0) DESC, name",
								fi_site_table("tabDocument Naming Rule")),
					   1, types, args, NULL, true, 0) != SPI_OK_SELECT)
		elog(ERROR, "could not read tabDocument Naming Rule");
	tt = SPI_tuptable;
	nrules = SPI_processed;
	for (uint64 r = 0; r < nrules; r++)
	{
		FiNameRule *rule;
		char	   *digits = SPI_getvalue(tt->vals[r], tt->tupdesc, 3);
		char	  **fields,
				  **ops,
				  **values;
		FiCompareKind *kinds;
		char	   *name,
				   *prefix;

		old = MemoryContextSwitchTo(run->cxt);
		rule = palloc0(sizeof(FiNameRule));
		rule->name = name = SPI_getvalue(tt->vals[r], tt->tupdesc, 1);
		prefix = SPI_getvalue(tt->vals[r], tt->tupdesc, 2);
		rule->prefix = prefix ? prefix : "";
		rule->digits = Max(0, Min(atoi(digits), 30));
		MemoryContextSwitchTo(old);
		args[0] = CStringGetTextDatum(name);
		if (fi_spi_execute(psprintf("SELECT field, condition, value FROM %s "
									"WHERE parent = $1 AND parenttype = 'Document Naming Rule' ORDER BY idx",
									fi_site_table("tabDocument Naming Rule Condition")),
						   1, types, args, NULL, true, 0) != SPI_OK_SELECT)
			elog(ERROR, "could not read tabDocument Naming Rule Condition");
		old = MemoryContextSwitchTo(run->cxt);
		rule->nconds = (int) SPI_processed;
		rule->fields = (const char *const *) (fields = palloc0(sizeof(char *) * (rule->nconds + 1)));
		rule->ops = (const char *const *) (ops = palloc0(sizeof(char *) * (rule->nconds + 1)));
		rule->values = (const char *const *) (values = palloc0(sizeof(char *) * (rule->nconds + 1)));
		rule->kinds = kinds = palloc0(sizeof(FiCompareKind) * (rule->nconds + 1));
		for (int c = 0; c < rule->nconds; c++)
		{
			const FiDocField *df;

			fields[c] = SPI_getvalue(SPI_tuptable->vals[c], SPI_tuptable->tupdesc, 1);
			ops[c] = SPI_getvalue(SPI_tuptable->vals[c], SPI_tuptable->tupdesc, 2);
			values[c] = SPI_getvalue(SPI_tuptable->vals[c], SPI_tuptable->tupdesc, 3);
			if (fields[c] == NULL)
				fields[c] = "";
			if (ops[c] == NULL || *ops[c] == '\0')
				ops[c] = "=";	/* (get_filter: no operator is =) */
			df = fi_meta_field(run->meta, fields[c]);
			kinds[c] = fi_compare_kind(df ? df->fieldtype : NULL);
		}
		run->naming_rules = lappend(run->naming_rules, rule);
		MemoryContextSwitchTo(old);
		SPI_freetuptable(SPI_tuptable);
	}
	SPI_freetuptable(tt);
}

/* n numbers of a rule's counter (Frappe: its counter column, then set_value): the last one */
static int64_t
take_rule_numbers(void *arg, const FiNameRule *rule, int64_t n)
{
	NameCtx    *nc = arg;
	ImpRun	   *run = nc->run;
	Oid			types[4] = {TEXTOID, INT8OID, TIMESTAMPOID, TEXTOID};
	Datum		args[4];
	bool		isnull;
	int64		last;

	args[0] = CStringGetTextDatum(rule->name);
	args[1] = Int64GetDatum(n);
	args[2] = TimestampGetDatum(run->now);
	args[3] = CStringGetTextDatum(run->user);
	if (fi_spi_execute(psprintf("UPDATE %s SET counter = coalesce(counter, 0) + $2, modified = $3, modified_by = $4 "
								"WHERE name = $1 RETURNING counter",
								fi_site_table("tabDocument Naming Rule")),
					   4, types, args, NULL, false, 0) != SPI_OK_UPDATE_RETURNING || SPI_processed != 1)
		elog(ERROR, "could not take numbers of Document Naming Rule \"%s\"", rule->name);
	last = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
	SPI_freetuptable(SPI_tuptable);
	return last;
}

static int64_t
take_series_numbers(void *arg, const char *key, int64_t n)
{
	return take_numbers(key, n);
}

static const char *
batch_value(void *arg, void *doc, const char *fieldname, bool *present)
{
	NameCtx    *nc = arg;

	return doc_text(nc->run, doc, fieldname, present);
}

static char *
batch_hash_name(void *arg)
{
	return imp_hash_name();
}

static const char *
batch_label(void *arg, const char *fieldname)
{
	NameCtx    *nc = arg;
	const FiDocField *df = fi_meta_field(nc->run->meta, fieldname);

	return df ? df->label : NULL;
}

/*
 * The batch's names: the engine's rules (engine/naming.c, fi_name_batch),
 * the counters and the look at stored names here; autoincrement from the
 * table's sequence.
 */
void
imp_name_batch(ImpRun *run, ImpDoc **docs, int n)
{
	const char *arg;
	FiAutoname	kind = fi_autoname_kind(run->meta->autoname, &arg);
	NameCtx		nc = {run, NULL};

	if (kind == FI_AUTONAME_AUTOINCREMENT)
	{
		/* the sequence, one value a document (a supplied ID is not kept) */
		char	   *seq = asc_tolower(run->doctype, strlen(run->doctype));
		Oid			types[2] = {TEXTOID, INT4OID};
		Datum		args[2];
		uint64		r = 0;
		int			nautoinc = 0;

		for (int i = 0; i < n; i++)
			nautoinc += !docs[i]->failed;
		if (nautoinc == 0)
			return;
		for (char *c = seq; *c; c++)
			if (*c == ' ' || *c == '-')
				*c = '_';
		args[0] = CStringGetTextDatum(quote_identifier(psprintf("%s_id_seq", seq)));
		args[1] = Int32GetDatum(nautoinc);
		if (fi_spi_execute("SELECT nextval($1::regclass) FROM generate_series(1, $2)", 2, types, args,
						   NULL, false, 0) != SPI_OK_SELECT)
			elog(ERROR, "could not read the sequence of %s", run->doctype);
		for (int i = 0; i < n; i++)
		{
			bool		isnull;

			if (docs[i]->failed)
				continue;
			docs[i]->name_datum = SPI_getbinval(SPI_tuptable->vals[r++], SPI_tuptable->tupdesc, 1, &isnull);
			docs[i]->name = psprintf(INT64_FORMAT, DatumGetInt64(docs[i]->name_datum));
		}
		SPI_freetuptable(SPI_tuptable);
		return;
	}
	{
		FiNameBatchHooks hooks = {&nc, name_alloc, batch_value, take_series_numbers, take_rule_numbers,
		batch_hash_name, batch_label};
		FiNameDoc  *nd = palloc0(sizeof(FiNameDoc) * (n + 1));
		int			nrules;
		FiNameRule *rules;
		FiDateTime	now = run_clock(run);
		ListCell   *lc;

		if (!run->naming_rules_read)
			read_naming_rules(run);
		nrules = list_length(run->naming_rules);
		rules = palloc0(sizeof(FiNameRule) * (nrules + 1));
		foreach(lc, run->naming_rules)
			rules[foreach_current_index(lc)] = *(FiNameRule *) lfirst(lc);
		for (int i = 0; i < n; i++)
		{
			nd[i].doc = docs[i];
			nd[i].row = docs[i]->row;
			nd[i].skip = docs[i]->failed;
			nd[i].supplied = docs[i]->supplied_name ? docs[i]->name : NULL;
		}
		fi_name_batch(run->doctype, run->meta->autoname, nd, n, rules, nrules, &now,
					  run->tables[0].name_typid == VARCHAROID, &hooks);
		for (int i = 0; i < n; i++)
		{
			if (nd[i].skip)
				continue;
			if (nd[i].error)
				imp_doc_error(run, docs[i], docs[i]->row, NULL, nd[i].error_value, "%s", nd[i].error);
			else
				docs[i]->name = nd[i].name;
		}
		check_taken(run, docs, n, nd);
		for (int i = 0; i < n; i++)
			if (!docs[i]->failed)
				docs[i]->name_datum = CStringGetTextDatum(docs[i]->name);
	}
}
