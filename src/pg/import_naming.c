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

/* a name being made: prefix + counter + suffix, or a final name */
typedef struct NamePlan
{
	StringInfoData text;		/* the name so far (the counter's key when it comes) */
	char	   *key;			/* tabSeries key, NULL: no counter */
	int			digits;
	int			at;				/* where the counter goes in text */
	int64		number;
} NamePlan;

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

/* Frappe's determine_consecutive_week_number */
static char *
week_number(int y, int m, int d)
{
	int			w = date2isoweek(y, m, d);

	if (m == 1 && w >= 52)
		w = 0;
	else if (m == 12 && w <= 1)
		w = 53;
	return psprintf("%02d", w);
}

/* one part of a series (parse_naming_series) appended to the plan */
static void
series_part(ImpRun *run, ImpDoc *doc, NamePlan *p, const char *e, struct pg_tm *tm, fsec_t fsec)
{
	bool		present;

	if (*e == '\0')
		return;
	if (e[0] == '#')
	{
		if (p->key == NULL)
		{
			p->key = pstrdup(p->text.data);
			p->digits = strlen(e);
			p->at = p->text.len;
		}
		return;					/* a second counter adds nothing */
	}
	if (strcmp(e, "YY") == 0)
		appendStringInfo(&p->text, "%02d", tm->tm_year % 100);
	else if (strcmp(e, "MM") == 0)
		appendStringInfo(&p->text, "%02d", tm->tm_mon);
	else if (strcmp(e, "DD") == 0)
		appendStringInfo(&p->text, "%02d", tm->tm_mday);
	else if (strcmp(e, "YYYY") == 0)
		appendStringInfo(&p->text, "%04d", tm->tm_year);
	else if (strcmp(e, "WW") == 0)
		appendStringInfoString(&p->text, week_number(tm->tm_year, tm->tm_mon, tm->tm_mday));
	else if (strcmp(e, "timestamp") == 0)
	{
		appendStringInfo(&p->text, "%04d-%02d-%02d %02d:%02d:%02d", tm->tm_year, tm->tm_mon,
						 tm->tm_mday, tm->tm_hour, tm->tm_min, tm->tm_sec);
		if (fsec != 0)
			appendStringInfo(&p->text, ".%06d", (int) fsec);
	}
	else if (e[0] == '{')
	{
		char	   *name = pstrdup(e);
		char	   *w = name;

		/* e.replace("{", "").replace("}", "") */
		for (char *r = name; *r; r++)
			if (*r != '{' && *r != '}')
				*w++ = *r;
		*w = '\0';
		appendStringInfoString(&p->text, doc_text(run, doc, name, &present));
	}
	else
	{
		char	   *v = doc_text(run, doc, e, &present);

		appendStringInfoString(&p->text, present ? v : e);
	}
}

static void
plan_series(ImpRun *run, ImpDoc *doc, NamePlan *p, const char *series)
{
	struct pg_tm tm;
	fsec_t		fsec;
	char	   *copy = pstrdup(series);
	char	   *part = copy;

	timestamp2tm(run->now, NULL, &tm, &fsec, NULL, NULL);
	for (;;)
	{
		char	   *dot = strchr(part, '.');

		if (dot)
			*dot = '\0';
		series_part(run, doc, p, part, &tm, fsec);
		if (!dot)
			break;
		part = dot + 1;
	}
}

/* format:LOG-{MM}-{fieldname}-{#####} : each {param} as a series part */
static void
plan_format(ImpRun *run, ImpDoc *doc, NamePlan *p, const char *pattern)
{
	struct pg_tm tm;
	fsec_t		fsec;
	const char *s = pattern;

	timestamp2tm(run->now, NULL, &tm, &fsec, NULL, NULL);
	while (*s)
	{
		const char *close;
		bool		param = false;

		if (*s == '{' && (close = strchr(s + 1, '}')) != NULL && close > s + 1)
		{
			/* BRACED_PARAMS_PATTERN: \{[\w | #]+\} */
			param = true;
			for (const char *c = s + 1; c < close; c++)
				if (!(isalnum((unsigned char) *c) || *c == '_' || *c == ' ' || *c == '|' ||
					  *c == '#' || (unsigned char) *c >= 0x80))
					param = false;
			if (param)
			{
				series_part(run, doc, p, pnstrdup(s + 1, close - s - 1), &tm, fsec);
				s = close + 1;
				continue;
			}
		}
		appendStringInfoChar(&p->text, *s++);
	}
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

/* Frappe's validate_name */
static void
check_name(ImpRun *run, ImpDoc *doc)
{
	const char *name = doc->name;
	char	   *newp = psprintf("New %s", run->doctype);

	if (strchr(name, '<') || strchr(name, '>'))
		imp_doc_error(run, doc, doc->row, NULL, name, "Name cannot contain special characters like < or >");
	else if (strcmp(name, run->doctype) == 0)
		imp_doc_error(run, doc, doc->row, NULL, name, "Name of %s cannot be %s", run->doctype, name);
	else if (strncmp(name, newp, strlen(newp)) == 0)
		imp_doc_error(run, doc, doc->row, NULL, name, "There were some errors setting the name, please contact the administrator");
	else if (pg_mbstrlen(name) > 140 && run->tables[0].name_typid == VARCHAROID)
		imp_doc_error(run, doc, doc->row, NULL, name, "Name is longer than 140 characters");
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
	const char *autoname = run->meta->autoname ? run->meta->autoname : "";
	bool		autoinc = pg_strcasecmp(autoname, "autoincrement") == 0;
	NamePlan   *plans = palloc0(sizeof(NamePlan) * n);
	bool	   *given = palloc0(sizeof(bool) * n);
	int			nkeys = 0;
	char	  **keys = palloc(sizeof(char *) * n);
	int64	   *counts = palloc0(sizeof(int64) * n);
	int64	   *next = palloc0(sizeof(int64) * n);
	int			nautoinc = 0;
	int		   *rule_of = palloc(sizeof(int) * n);
	int			nrules;
	int64	   *rule_counts;

	if (!run->naming_rules_read && !autoinc)
		read_naming_rules(run);
	nrules = list_length(run->naming_rules);
	rule_counts = palloc0(sizeof(int64) * (nrules + 1));
	for (int i = 0; i < n; i++)
	{
		ImpDoc	   *doc = docs[i];
		NamePlan   *p = &plans[i];

		rule_of[i] = -1;
		if (doc->failed)
			continue;
		initStringInfo(&p->text);
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

			plan_series(run, doc, p, rule->prefix);
			p->key = NULL;		/* (a '#' in the prefix counts nothing here) */
			rule_counts[rule_of[i]]++;
			given[i] = true;	/* (checked as taken or not, like a name from the file) */
			continue;
		}
		if (pg_strncasecmp(autoname, "field:", 6) == 0)
		{
			bool		present;
			char	   *v = doc_text(run, doc, autoname + 6, &present);
			size_t		b,
						l = fi_py_strip(v, strlen(v), &b);

			if (l == 0)
			{
				const FiDocField *df = fi_meta_field(run->meta, autoname + 6);

				imp_doc_error(run, doc, doc->row, NULL, NULL, "%s is required",
							  df && df->label ? df->label : autoname + 6);
				continue;
			}
			doc->name = pnstrdup(v + b, l);
			given[i] = true;
			continue;
		}
		else if (pg_strncasecmp(autoname, "naming_series:", 14) == 0)
		{
			bool		present;
			char	   *series = doc_text(run, doc, "naming_series", &present);

			if (*series == '\0')
			{
				imp_doc_error(run, doc, doc->row, NULL, NULL, "Naming Series mandatory");
				continue;
			}
			plan_series(run, doc, p, psprintf("%s.#####", series));
		}
		else if (pg_strncasecmp(autoname, "prompt", 6) == 0)
		{
			imp_doc_error(run, doc, doc->row, NULL, NULL,
						  "Please set the document name: %s is named by the user (an ID column)",
						  run->doctype);
			continue;
		}
		else if (pg_strncasecmp(autoname, "format:", 7) == 0)
			plan_format(run, doc, p, autoname + 7);
		else if (strchr(autoname, '#') != NULL)
		{
			/* a series without '.' is not valid in Frappe either */
			plan_series(run, doc, p, autoname);
		}
		else
		{
			/* hash, empty, and what only Python can run (By script, a controller) */
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
			doc->name = p->text.data;
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
		NamePlan   *p = &plans[i];
		StringInfoData b;

		if (docs[i]->failed || p->key == NULL)
			continue;
		for (int k = 0; k < nkeys; k++)
			if (strcmp(keys[k], p->key) == 0)
				p->number = next[k]++;
		initStringInfo(&b);
		appendBinaryStringInfo(&b, p->text.data, p->at);
		appendStringInfo(&b, "%0*lld", p->digits, (long long) p->number);
		appendStringInfoString(&b, p->text.data + p->at);
		docs[i]->name = b.data;
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
			docs[i]->name = psprintf("%s%0*lld", plans[i].text.data, rule->digits, (long long) number++);
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
