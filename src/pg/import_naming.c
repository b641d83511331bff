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

/* one enabled Document Naming Rule of the DocType */
typedef struct ImpNamingRule
{
	char	   *name;
	char	   *prefix;
	int			digits;
	int			nconds;
	char	  **fields;			/* conditions: field, condition, value */
	char	  **ops;
	char	  **values;
	FiCompareKind *kinds;
} ImpNamingRule;

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

static const char *
name_value(void *arg, const char *fieldname, bool *present)
{
	NameCtx    *nc = arg;

	return doc_text(nc->run, nc->doc, fieldname, present);
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

static int
cmp_keys(const void *a, const void *b)
{
	return strcmp(*(char *const *) a, *(char *const *) b);
}

/* Frappe's validate_name (engine/naming.c) */
static void
check_name(ImpRun *run, ImpDoc *doc)
{
	FiNameHooks hooks = {NULL, name_alloc, name_value};
	const char *why = fi_name_problem(doc->name, run->doctype, run->tables[0].name_typid == VARCHAROID, &hooks);

	if (why)
		imp_doc_error(run, doc, doc->row, NULL, doc->name, "%s", why);
}

/* names from the file or a field: not twice, not already taken */
static void
check_taken(ImpRun *run, ImpDoc **docs, int n, bool *given)
{
	List	   *names = NIL;
	Datum	   *d;
	int			k = 0;
	Oid			types[1] = {TEXTARRAYOID};
	Datum		args[1];
	ListCell   *lc;

	for (int i = 0; i < n; i++)
	{
		if (docs[i]->failed || !given[i])
			continue;
		for (int j = 0; j < i; j++)
			if (!docs[j]->failed && given[j] && strcmp(docs[j]->name, docs[i]->name) == 0)
			{
				imp_doc_error(run, docs[i], docs[i]->row, NULL, docs[i]->name,
							  "%s %s already exists (row %ld)", run->doctype, docs[i]->name, docs[j]->row);
				break;
			}
		if (!docs[i]->failed)
			names = lappend(names, docs[i]->name);
	}
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
			if (!docs[i]->failed && given[i] && strcmp(docs[i]->name, taken) == 0)
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
		ImpNamingRule *rule;
		char	   *digits = SPI_getvalue(tt->vals[r], tt->tupdesc, 3);

		old = MemoryContextSwitchTo(run->cxt);
		rule = palloc0(sizeof(ImpNamingRule));
		rule->name = SPI_getvalue(tt->vals[r], tt->tupdesc, 1);
		rule->prefix = SPI_getvalue(tt->vals[r], tt->tupdesc, 2);
		if (rule->prefix == NULL)
			rule->prefix = "";
		rule->digits = Max(0, Min(atoi(digits), 30));
		MemoryContextSwitchTo(old);
		args[0] = CStringGetTextDatum(rule->name);
		if (fi_spi_execute(psprintf("SELECT field, condition, value FROM %s "
									"WHERE parent = $1 AND parenttype = 'Document Naming Rule' ORDER BY idx",
									fi_site_table("tabDocument Naming Rule Condition")),
						   1, types, args, NULL, true, 0) != SPI_OK_SELECT)
			elog(ERROR, "could not read tabDocument Naming Rule Condition");
		old = MemoryContextSwitchTo(run->cxt);
		rule->nconds = (int) SPI_processed;
		rule->fields = palloc0(sizeof(char *) * (rule->nconds + 1));
		rule->ops = palloc0(sizeof(char *) * (rule->nconds + 1));
		rule->values = palloc0(sizeof(char *) * (rule->nconds + 1));
		rule->kinds = palloc0(sizeof(FiCompareKind) * (rule->nconds + 1));
		for (int c = 0; c < rule->nconds; c++)
		{
			const FiDocField *df;

			rule->fields[c] = SPI_getvalue(SPI_tuptable->vals[c], SPI_tuptable->tupdesc, 1);
			rule->ops[c] = SPI_getvalue(SPI_tuptable->vals[c], SPI_tuptable->tupdesc, 2);
			rule->values[c] = SPI_getvalue(SPI_tuptable->vals[c], SPI_tuptable->tupdesc, 3);
			if (rule->fields[c] == NULL)
				rule->fields[c] = "";
			if (rule->ops[c] == NULL || *rule->ops[c] == '\0')
				rule->ops[c] = "=";	/* (get_filter: no operator is =) */
			df = fi_meta_field(run->meta, rule->fields[c]);
			rule->kinds[c] = fi_compare_kind(df ? df->fieldtype : NULL);
		}
		run->naming_rules = lappend(run->naming_rules, rule);
		MemoryContextSwitchTo(old);
		SPI_freetuptable(SPI_tuptable);
	}
	SPI_freetuptable(tt);
}

/* the first rule whose conditions the document meets, or -1 */
static int
naming_rule_for(ImpRun *run, ImpDoc *doc)
{
	ListCell   *lc;

	foreach(lc, run->naming_rules)
	{
		ImpNamingRule *rule = lfirst(lc);
		bool		ok = true;

		for (int c = 0; c < rule->nconds && ok; c++)
		{
			int			i;
			ImpField   *f = doc_field(run, rule->fields[c], &i);

			/* (a field without a value is None) */
			ok = fi_frappe_compare(f != NULL && !doc->nulls[i] ? imp_datum_text(f, doc->values[i]) : NULL,
								   rule->ops[c], rule->values[c], rule->kinds[c]) == 1;
		}
		if (ok)
			return foreach_current_index(lc);
	}
	return -1;
}

/* take n numbers of a rule's counter (Frappe: its counter column, then set_value) */
static int64
take_rule_numbers(ImpRun *run, const ImpNamingRule *rule, int64 n)
{
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

void
imp_name_batch(ImpRun *run, ImpDoc **docs, int n)
{
	const char *arg;
	FiAutoname	kind = fi_autoname_kind(run->meta->autoname, &arg);
	bool		autoinc = kind == FI_AUTONAME_AUTOINCREMENT;
	FiNamePlan *plans = palloc0(sizeof(FiNamePlan) * n);
	bool	   *given = palloc0(sizeof(bool) * n);
	int			nkeys = 0;
	char	  **keys = palloc(sizeof(char *) * n);
	int64	   *counts = palloc0(sizeof(int64) * n);
	int64	   *next = palloc0(sizeof(int64) * n);
	int			nautoinc = 0;
	int		   *rule_of = palloc(sizeof(int) * n);
	int			nrules;
	int64	   *rule_counts;
	FiDateTime	now = run_clock(run);
	NameCtx		nc = {run, NULL};
	FiNameHooks hooks = {&nc, name_alloc, name_value};

	if (!run->naming_rules_read && !autoinc)
		read_naming_rules(run);
	nrules = list_length(run->naming_rules);
	rule_counts = palloc0(sizeof(int64) * (nrules + 1));
	for (int i = 0; i < n; i++)
	{
		ImpDoc	   *doc = docs[i];
		FiNamePlan *p = &plans[i];

		rule_of[i] = -1;
		if (doc->failed)
			continue;
		nc.doc = doc;
		if (autoinc)
		{
			nautoinc++;
			continue;
		}
		if (doc->supplied_name)
		{
			given[i] = true;
			continue;
		}
		/* a Document Naming Rule first: its prefix (a series) and its own counter */
		if (nrules > 0 && (rule_of[i] = naming_rule_for(run, doc)) >= 0)
		{
			ImpNamingRule *rule = list_nth(run->naming_rules, rule_of[i]);

			fi_name_plan_series(p, rule->prefix, &now, &hooks);
			p->key = NULL;		/* (a '#' in the prefix counts nothing here) */
			rule_counts[rule_of[i]]++;
			given[i] = true;	/* (checked as taken or not, like a name from the file) */
			continue;
		}
		switch (kind)
		{
			case FI_AUTONAME_FIELD:
				{
					bool		present;
					char	   *v = doc_text(run, doc, arg, &present);
					size_t		b,
								l = fi_py_strip(v, strlen(v), &b);

					if (l == 0)
					{
						const FiDocField *df = fi_meta_field(run->meta, arg);

						imp_doc_error(run, doc, doc->row, NULL, NULL, "%s is required",
									  df && df->label ? df->label : arg);
						continue;
					}
					doc->name = pnstrdup(v + b, l);
					given[i] = true;
					continue;
				}
			case FI_AUTONAME_NAMING_SERIES:
				{
					bool		present;
					char	   *series = doc_text(run, doc, "naming_series", &present);

					if (*series == '\0')
					{
						imp_doc_error(run, doc, doc->row, NULL, NULL, "Naming Series mandatory");
						continue;
					}
					fi_name_plan_series(p, psprintf("%s.#####", series), &now, &hooks);
					break;
				}
			case FI_AUTONAME_PROMPT:
				imp_doc_error(run, doc, doc->row, NULL, NULL,
							  "Please set the document name: %s is named by the user (an ID column)",
							  run->doctype);
				continue;
			case FI_AUTONAME_FORMAT:
				fi_name_plan_format(p, arg, &now, &hooks);
				break;
			case FI_AUTONAME_SERIES:
				fi_name_plan_series(p, arg, &now, &hooks);
				break;
			case FI_AUTONAME_HASH:
			case FI_AUTONAME_AUTOINCREMENT:
				doc->name = imp_hash_name();
				continue;
		}
		if (p->key != NULL)
		{
			int			k;

			for (k = 0; k < nkeys; k++)
				if (strcmp(keys[k], p->key) == 0)
					break;
			if (k == nkeys)
				keys[nkeys++] = p->key;
		}
		else
			doc->name = p->text;
	}

	/* counters: a block per key, keys in order */
	qsort(keys, nkeys, sizeof(char *), cmp_keys);
	for (int i = 0; i < n; i++)
		if (!docs[i]->failed && plans[i].key != NULL)
			for (int k = 0; k < nkeys; k++)
				if (strcmp(keys[k], plans[i].key) == 0)
					counts[k]++;
	for (int k = 0; k < nkeys; k++)
		next[k] = take_numbers(keys[k], counts[k]) - counts[k] + 1;
	for (int i = 0; i < n; i++)
	{
		FiNamePlan *p = &plans[i];
		int64		number = 0;

		if (docs[i]->failed || p->key == NULL)
			continue;
		for (int k = 0; k < nkeys; k++)
			if (strcmp(keys[k], p->key) == 0)
				number = next[k]++;
		docs[i]->name = fi_name_compose(p, number, &hooks);
	}

	/* the rules' counters: a block per rule */
	for (int r = 0; r < nrules; r++)
	{
		int64		number;

		if (rule_counts[r] == 0)
			continue;
		number = take_rule_numbers(run, list_nth(run->naming_rules, r), rule_counts[r]) - rule_counts[r] + 1;
		for (int i = 0; i < n; i++)
		{
			ImpNamingRule *rule = list_nth(run->naming_rules, r);

			if (docs[i]->failed || rule_of[i] != r)
				continue;
			docs[i]->name = psprintf("%s%0*lld", plans[i].text, rule->digits, (long long) number++);
		}
	}

	/* autoincrement: the sequence, one value a document */
	if (nautoinc > 0)
	{
		char	   *seq = asc_tolower(run->doctype, strlen(run->doctype));
		Oid			types[2] = {TEXTOID, INT4OID};
		Datum		args[2];
		uint64		r = 0;

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

	for (int i = 0; i < n; i++)
		if (!docs[i]->failed)
			check_name(run, docs[i]);
	check_taken(run, docs, n, given);
	for (int i = 0; i < n; i++)
		if (!docs[i]->failed)
			docs[i]->name_datum = CStringGetTextDatum(docs[i]->name);
}
