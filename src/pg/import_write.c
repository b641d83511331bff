/*
 * import_write.c
 *		Data Import: writing documents.
 *
 * Insert writes rows the way COPY FROM does: tuples built from the values
 * directly, table_multi_insert per 1,000 rows, then each row's index
 * entries and AFTER ROW triggers; a table with BEFORE ROW triggers is
 * written a row at a time after them.  CHECK and NOT NULL constraints are
 * checked as for any INSERT.  Row-level triggers that are only the
 * extension's webhook triggers are skipped unless the import asks for
 * webhooks; any other trigger fires (with webhooks off, ours do nothing).
 *
 * Update (Frappe's rule, decided by engine/importupdate.c, which the
 * MariaDB import uses too): the document is found by its ID; only the
 * non-empty cells change it; a child table the file gives the document
 * rows of is replaced by them (rows with an existing ID are updated, others
 * inserted, the table's rows not in the file deleted); a table without
 * rows for the document keeps its rows (Frappe's Row.parse_doc leaves it
 * out); a row ID of another document fails the document.  A document the
 * file does not change is left alone (no new modified).
 */
#include "postgres.h"

#include "access/heapam.h"
#include "access/table.h"
#include "access/tableam.h"
#include "access/xact.h"
#include "catalog/pg_type.h"
#include "commands/trigger.h"
#include "executor/executor.h"
#include "executor/spi.h"
#include "miscadmin.h"
#include "nodes/makefuncs.h"
#include "parser/parsetree.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"
#include "utils/timestamp.h"

#include "import.h"
#include "engine/importupdate.h"

#define WRITER_ROWS		1000
#define CAPTURE_TRIGGER		"frappe_integrations_webhook"
#define CHILD_TRIGGER		"frappe_integrations_webhook_child"

struct ImpWriter
{
	ImpRun	   *run;
	ImpTable   *t;
	Relation	rel;
	EState	   *estate;
	ResultRelInfo *rri;
	TupleTableSlot **slots;
	int			nused;
	int			nslots;
	BulkInsertState bistate;
	CommandId	cid;
	bool		br_triggers;
	bool		ar_triggers;
	bool		any_triggers;
};

/* are the row triggers on INSERT only the extension's webhook triggers? */
static bool
only_webhook_triggers(TriggerDesc *td)
{
	for (int i = 0; i < td->numtriggers; i++)
	{
		Trigger    *tg = &td->triggers[i];

		if (tg->tgenabled == TRIGGER_DISABLED)
			continue;
		if (strcmp(tg->tgname, CAPTURE_TRIGGER) != 0 && strcmp(tg->tgname, CHILD_TRIGGER) != 0)
			return false;
	}
	return true;
}

ImpWriter *
imp_writer_begin(ImpRun *run, ImpTable *t)
{
	ImpWriter  *w = palloc0(sizeof(ImpWriter));
	RangeTblEntry *rte = makeNode(RangeTblEntry);
	EState	   *estate = CreateExecutorState();
	ResultRelInfo *rri = makeNode(ResultRelInfo);
	TriggerDesc *td;

	w->run = run;
	w->t = t;
	w->rel = t->rel;
	rte->rtekind = RTE_RELATION;
	rte->relid = RelationGetRelid(t->rel);
	rte->relkind = t->rel->rd_rel->relkind;
	rte->rellockmode = RowExclusiveLock;
#if PG_VERSION_NUM >= 160000
	{
		RTEPermissionInfo *perm = makeNode(RTEPermissionInfo);

		perm->relid = rte->relid;
		perm->inh = false;
		perm->requiredPerms = ACL_INSERT;
		rte->perminfoindex = 1;
		ExecInitRangeTable(estate, list_make1(rte), list_make1(perm));
	}
#else
	rte->requiredPerms = ACL_INSERT;
	ExecInitRangeTable(estate, list_make1(rte));
#endif
#if PG_VERSION_NUM >= 140000
	ExecInitResultRelation(estate, rri, 1);
#else
	InitResultRelInfo(rri, t->rel, 1, NULL, 0);
	estate->es_result_relations = rri;
	estate->es_num_result_relations = 1;
	estate->es_result_relation_info = rri;
#endif
	ExecOpenIndices(rri, false);
	w->cid = GetCurrentCommandId(true);
	estate->es_output_cid = w->cid;
	w->estate = estate;
	w->rri = rri;

	td = rri->ri_TrigDesc;
	if (td != NULL && !run->webhooks && only_webhook_triggers(td))
		rri->ri_TrigDesc = td = NULL;	/* Frappe fires no webhook for an import */
	w->br_triggers = td != NULL && td->trig_insert_before_row;
	w->ar_triggers = td != NULL && (td->trig_insert_after_row || td->trig_insert_new_table);
	w->any_triggers = w->br_triggers || w->ar_triggers;
	if (w->any_triggers)
		AfterTriggerBeginQuery();
	w->nslots = w->br_triggers ? 1 : WRITER_ROWS;
	w->slots = palloc0(sizeof(TupleTableSlot *) * w->nslots);
	w->bistate = GetBulkInsertState();
	return w;
}

static void
after_insert(ImpWriter *w, TupleTableSlot *slot)
{
	List	   *recheck = NIL;

	if (w->rri->ri_NumIndices > 0)
#if PG_VERSION_NUM >= 160000
		recheck = ExecInsertIndexTuples(w->rri, slot, w->estate, false, false, NULL, NIL, false);
#elif PG_VERSION_NUM >= 140000
		recheck = ExecInsertIndexTuples(w->rri, slot, w->estate, false, false, NULL, NIL);
#else
		recheck = ExecInsertIndexTuples(slot, w->estate, false, NULL, NIL);
#endif
	if (w->ar_triggers)
		ExecARInsertTriggers(w->estate, w->rri, slot, recheck, NULL);
	list_free(recheck);
	ResetPerTupleExprContext(w->estate);
}

static void
writer_flush(ImpWriter *w)
{
	if (w->nused == 0)
		return;
	table_multi_insert(w->rel, w->slots, w->nused, w->cid, 0, w->bistate);
	for (int i = 0; i < w->nused; i++)
	{
		after_insert(w, w->slots[i]);
		ExecClearTuple(w->slots[i]);
	}
	w->nused = 0;
}

void
imp_writer_put(ImpWriter *w, Datum *values, bool *nulls)
{
	TupleTableSlot *slot;
	int			natts = RelationGetDescr(w->rel)->natts;

	CHECK_FOR_INTERRUPTS();
	if (w->slots[w->nused] == NULL)
		w->slots[w->nused] = table_slot_create(w->rel, &w->estate->es_tupleTable);
	slot = w->slots[w->nused];
	ExecClearTuple(slot);
	memcpy(slot->tts_values, values, sizeof(Datum) * natts);
	memcpy(slot->tts_isnull, nulls, sizeof(bool) * natts);
	ExecStoreVirtualTuple(slot);
	if (w->br_triggers)
	{
		if (!ExecBRInsertTriggers(w->estate, w->rri, slot))
			return;				/* a trigger skipped the row */
	}
	if (w->rel->rd_att->constr)
		ExecConstraints(w->rri, slot, w->estate);
	if (w->br_triggers)
	{
		/* a trigger may read the table: one row at a time, as COPY */
		table_tuple_insert(w->rel, slot, w->cid, 0, w->bistate);
		after_insert(w, slot);
		ExecClearTuple(slot);
		return;
	}
	if (++w->nused == w->nslots)
		writer_flush(w);
}

void
imp_writer_end(ImpWriter *w)
{
	writer_flush(w);
	if (w->any_triggers)
		AfterTriggerEndQuery(w->estate);
	FreeBulkInsertState(w->bistate);
#if PG_VERSION_NUM >= 140000
	ExecCloseResultRelations(w->estate);
	ExecCloseRangeTableRelations(w->estate);
#else
	ExecCloseIndices(w->rri);
	ExecCleanUpTriggerState(w->estate);
#endif
	ExecResetTupleTable(w->estate->es_tupleTable, false);
	FreeExecutorState(w->estate);
}

/* ---- rows ---- */

/* a row of table t: the table's defaults, then the fields' values */
static void
fill_row(ImpWriter *w, ImpTable *t, Datum *values, bool *nulls, Datum *fv, bool *fn)
{
	int			natts = RelationGetDescr(t->rel)->natts;

	memcpy(values, t->base_values, sizeof(Datum) * natts);
	memcpy(nulls, t->base_nulls, sizeof(bool) * natts);
	for (int a = 0; a < natts; a++)
		if (t->base_exprs[a] != NULL)
			values[a] = ExecEvalExprSwitchContext(t->base_exprs[a],
												  GetPerTupleExprContext(w->estate), &nulls[a]);
	for (int i = 0; i < t->nfields; i++)
	{
		if (fn[i])
			continue;
		values[t->fields[i].attno - 1] = fv[i];
		nulls[t->fields[i].attno - 1] = false;
	}
}

static void
set_att(Datum *values, bool *nulls, int attno, Datum v)
{
	if (attno > 0)
	{
		values[attno - 1] = v;
		nulls[attno - 1] = false;
	}
}

void
imp_insert_batch(ImpRun *run, ImpDoc **docs, int n)
{
	ImpWriter **writers = palloc0(sizeof(ImpWriter *) * run->ntables);
	ImpTable   *t0 = &run->tables[0];
	Datum	   *values;
	bool	   *nulls;
	int			maxatts = 0;
	Datum		now = TimestampGetDatum(run->now);
	Datum		doctype = CStringGetTextDatum(run->doctype);

	for (int ti = 0; ti < run->ntables; ti++)
		maxatts = Max(maxatts, RelationGetDescr(run->tables[ti].rel)->natts);
	values = palloc(sizeof(Datum) * maxatts);
	nulls = palloc(sizeof(bool) * maxatts);
	writers[0] = imp_writer_begin(run, t0);
	for (int i = 0; i < n; i++)
	{
		ImpDoc	   *doc = docs[i];
		Datum		owner,
					user;
		ListCell   *lc;

		if (doc->failed)
			continue;
		owner = CStringGetTextDatum(doc->owner);
		user = CStringGetTextDatum(run->user);
		fill_row(writers[0], t0, values, nulls, doc->values, doc->nulls);
		set_att(values, nulls, t0->a_name, doc->name_datum);
		set_att(values, nulls, t0->a_owner, owner);
		set_att(values, nulls, t0->a_modified_by, user);
		set_att(values, nulls, t0->a_creation, now);
		set_att(values, nulls, t0->a_modified, now);
		set_att(values, nulls, t0->a_docstatus, Int16GetDatum(doc->docstatus));
		set_att(values, nulls, t0->a_idx, Int64GetDatum(0));
		imp_writer_put(writers[0], values, nulls);

		foreach(lc, doc->children)
		{
			ImpChild   *ch = lfirst(lc);
			ImpTable   *t = &run->tables[ch->table];

			if (writers[ch->table] == NULL)
				writers[ch->table] = imp_writer_begin(run, t);
			fill_row(writers[ch->table], t, values, nulls, ch->values, ch->nulls);
			set_att(values, nulls, t->a_name, CStringGetTextDatum(ch->name ? ch->name : imp_hash_name()));
			set_att(values, nulls, t->a_owner, owner);
			set_att(values, nulls, t->a_modified_by, user);
			set_att(values, nulls, t->a_creation, now);
			set_att(values, nulls, t->a_modified, now);
			set_att(values, nulls, t->a_docstatus, Int16GetDatum(doc->docstatus));
			set_att(values, nulls, t->a_idx, Int64GetDatum(ch->idx));
			set_att(values, nulls, t->a_parent, CStringGetTextDatum(doc->name));
			set_att(values, nulls, t->a_parenttype, doctype);
			set_att(values, nulls, t->a_parentfield, CStringGetTextDatum(t->parentfield));
			imp_writer_put(writers[ch->table], values, nulls);
		}
	}
	for (int ti = 0; ti < run->ntables; ti++)
		if (writers[ti] != NULL)
			imp_writer_end(writers[ti]);
}

/* ---- Update ---- */

/* the field's value as text, for comparing with what the table holds */
static char *
value_text(ImpField *f, Datum d)
{
	return imp_datum_text(f, d);
}

/* the SQL type a parameter of field f is passed as */
static Oid
param_type(ImpField *f)
{
	return (f->typid == VARCHAROID || f->typid == BPCHAROID) ? TEXTOID : f->typid;
}

typedef struct Existing
{
	int16		docstatus;
	char	  **texts;			/* per mapped field: the stored value as text (NULL: null) */
} Existing;

/*
 * The stored rows of a table for a set of names (parent) or parents
 * (child rows, with their names and order), as text.
 */
static void
read_stored(ImpRun *run, ImpTable *t, const char *key, Datum keys)
{
	StringInfoData sql;
	Oid			types[3] = {TEXTARRAYOID, TEXTOID, TEXTOID};
	Datum		args[3];

	initStringInfo(&sql);
	appendStringInfoString(&sql, "SELECT t.name::text, t.docstatus");
	if (t->child)
		appendStringInfoString(&sql, ", t.parent");
	for (int i = 0; i < t->nmapped; i++)
		appendStringInfo(&sql, ", t.%s::text", quote_identifier(t->fields[i].fieldname));
	/* a join with the names (hashed), not = ANY($1): child tables have no index on parent */
	appendStringInfo(&sql, " FROM %s t JOIN unnest($1::text[]) AS k(v) ON t.%s = k.v",
					 fi_site_table(psprintf("tab%s", t->doctype)), key);
	args[0] = keys;
	if (t->child)
	{
		appendStringInfoString(&sql, " WHERE t.parenttype = $2 AND t.parentfield = $3 ORDER BY t.parent COLLATE \"C\", t.idx");
		args[1] = CStringGetTextDatum(run->doctype);
		args[2] = CStringGetTextDatum(t->parentfield);
	}
	if (fi_spi_execute(sql.data, t->child ? 3 : 1, types, args, NULL, true, 0) != SPI_OK_SELECT)
		elog(ERROR, "could not read the stored documents");
}

/* UPDATE one row: the non-empty cells, then modified / modified_by (and idx) */
static void
update_row(ImpRun *run, ImpTable *t, const char *name, Datum *values, bool *nulls, int idx)
{
	StringInfoData sql;
	int			np = t->nmapped + 4;
	Oid		   *types = palloc(sizeof(Oid) * np);
	Datum	   *args = palloc0(sizeof(Datum) * np);
	char	   *an = palloc(np + 1);

	initStringInfo(&sql);
	appendStringInfo(&sql, "UPDATE %s SET modified = $2, modified_by = $3",
					 fi_site_table(psprintf("tab%s", t->doctype)));
	types[0] = TEXTOID;
	args[0] = CStringGetTextDatum(name);
	types[1] = TIMESTAMPOID;
	args[1] = TimestampGetDatum(run->now);
	types[2] = TEXTOID;
	args[2] = CStringGetTextDatum(run->user);
	types[3] = INT8OID;
	args[3] = Int64GetDatum(idx);
	memset(an, ' ', np);
	an[np] = '\0';
	if (t->child)
		appendStringInfoString(&sql, ", idx = $4");
	for (int i = 0; i < t->nmapped; i++)
	{
		const char *col = quote_identifier(t->fields[i].fieldname);

		types[4 + i] = param_type(&t->fields[i]);
		args[4 + i] = values[i];
		an[4 + i] = nulls[i] ? 'n' : ' ';
		appendStringInfo(&sql, ", %s = COALESCE($%d, %s)", col, 5 + i, col);
	}
	appendStringInfoString(&sql, " WHERE name = $1");
	if (fi_spi_execute(sql.data, np, types, args, an, false, 0) != SPI_OK_UPDATE)
		elog(ERROR, "could not update %s %s", t->doctype, name);
}

/* the stored child rows of one table for a batch: rows [first, first + count) per parent */
typedef struct StoredChildren
{
	SPITupleTable *tt;
	uint64		n;
} StoredChildren;

/* the stored rows of parent (rows are ordered by parent, idx): *first and the count */
static uint64
stored_rows_of(StoredChildren *sc, const char *parent, uint64 *first)
{
	uint64		lo = 0,
				hi = sc->n;

	/* binary search on parent (column 3, the order of the query) */
	while (lo < hi)
	{
		uint64		mid = (lo + hi) / 2;

		if (strcmp(SPI_getvalue(sc->tt->vals[mid], sc->tt->tupdesc, 3), parent) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	*first = lo;
	while (hi < sc->n && strcmp(SPI_getvalue(sc->tt->vals[hi], sc->tt->tupdesc, 3), parent) == 0)
		hi++;
	return hi - lo;
}

/* the engine's view of the tables */
static FiUpdTable *
upd_tables(ImpRun *run)
{
	FiUpdTable *ut = palloc0(sizeof(FiUpdTable) * run->ntables);

	for (int ti = 0; ti < run->ntables; ti++)
	{
		ImpTable   *t = &run->tables[ti];
		FiUpdField *f = palloc0(sizeof(FiUpdField) * (t->nmapped + 1));

		for (int i = 0; i < t->nmapped; i++)
		{
			f[i].kind = t->fields[i].cell.kind;
			f[i].allow_on_submit = t->fields[i].df->allow_on_submit;
			f[i].label = t->fields[i].cell.label;
		}
		ut[ti].nmapped = t->nmapped;
		ut[ti].fields = f;
		ut[ti].label = t->child ? t->tlabel : NULL;
		ut[ti].allow_on_submit = t->child && t->tdf->allow_on_submit;
	}
	return ut;
}

/* a stored row's mapped fields as text, from column first on (NULL: null) */
static const char *const *
stored_texts(ImpTable *t, SPITupleTable *tt, uint64 r, int first)
{
	const char **v = palloc0(sizeof(char *) * (t->nmapped + 1));

	for (int i = 0; i < t->nmapped; i++)
		v[i] = SPI_getvalue(tt->vals[r], tt->tupdesc, first + i);
	return v;
}

/* the file's values of a row as text (NULL: an empty cell) */
static const char *const *
file_texts(ImpTable *t, Datum *values, bool *nulls)
{
	const char **v = palloc0(sizeof(char *) * (t->nmapped + 1));

	for (int i = 0; i < t->nmapped; i++)
		v[i] = nulls[i] ? NULL : value_text(&t->fields[i], values[i]);
	return v;
}

/* a child row's name and its document ("Sales Invoice SINV-0001") */
#define OWNER_KEY	256
typedef struct OwnerEntry
{
	char		name[OWNER_KEY];
	char	   *owner;
} OwnerEntry;

void
imp_update_batch(ImpRun *run, ImpDoc **docs, int n)
{
	ImpTable   *t0 = &run->tables[0];
	const char *autoname = run->meta->autoname ? run->meta->autoname : "";
	Datum	   *names = palloc(sizeof(Datum) * n);
	int			k = 0;
	Datum		namearr;
	SPITupleTable *ptt;
	uint64		nparents;
	int		   *stored_row = palloc(sizeof(int) * n);
	FiUpdDoc   *ud = palloc0(sizeof(FiUpdDoc) * (n + 1));
	FiUpdTable *ut = upd_tables(run);
	StoredChildren *sc = palloc0(sizeof(StoredChildren) * run->ntables);
	Oid			ctypes[4] = {TEXTARRAYOID, TEXTOID, TEXTOID, TEXTARRAYOID};
	Datum		cargs[4];
	Datum		doctype = CStringGetTextDatum(run->doctype);
	Datum		user = CStringGetTextDatum(run->user);
	Datum		now = TimestampGetDatum(run->now);

	/* the IDs */
	for (int i = 0; i < n; i++)
	{
		ImpDoc	   *doc = docs[i];

		if (doc->failed)
			continue;
		if (!doc->supplied_name && pg_strncasecmp(autoname, "field:", 6) == 0)
		{
			for (int f = 0; f < t0->nmapped; f++)
				if (strcmp(t0->fields[f].fieldname, autoname + 6) == 0 && !doc->nulls[f])
					doc->name = imp_datum_text(&t0->fields[f], doc->values[f]);
		}
		if (doc->name == NULL)
		{
			imp_doc_error(run, doc, doc->row, NULL, NULL,
						  "an ID is required to update a document (an \"ID\" column)");
			continue;
		}
		names[k++] = CStringGetTextDatum(doc->name);
	}
	if (k == 0)
		return;
	namearr = PointerGetDatum(construct_array(names, k, TEXTOID, -1, false, TYPALIGN_INT));

	/* what is stored: the parents, and the rows of each child table in the file (a query each) */
	read_stored(run, t0, "name::text", namearr);
	ptt = SPI_tuptable;
	nparents = SPI_processed;
	for (int ti = 1; ti < run->ntables; ti++)
	{
		read_stored(run, &run->tables[ti], "parent", namearr);
		sc[ti].tt = SPI_tuptable;
		sc[ti].n = SPI_processed;
	}
	for (int i = 0; i < n; i++)
	{
		stored_row[i] = -1;
		if (docs[i]->failed)
			continue;
		for (uint64 r = 0; r < nparents; r++)
			if (strcmp(SPI_getvalue(ptt->vals[r], ptt->tupdesc, 1), docs[i]->name) == 0)
				stored_row[i] = (int) r;
		if (stored_row[i] < 0)
		{
			imp_doc_error(run, docs[i], docs[i]->row, NULL, docs[i]->name, "%s %s not found",
						  run->doctype, docs[i]->name);
			continue;
		}
		/* the document for the engine: stored and file rows, the file's child rows matched with the stored */
		{
			FiUpdDoc   *u = &ud[i];
			const FiUpdRow **rows = palloc0(sizeof(FiUpdRow *) * run->ntables);
			int		   *nst = palloc0(sizeof(int) * run->ntables);
			ListCell   *lc;
			int			c = 0;
			bool		isnull;

			u->docstatus = DatumGetInt16(SPI_getbinval(ptt->vals[stored_row[i]], ptt->tupdesc, 2, &isnull));
			u->stored = stored_texts(t0, ptt, stored_row[i], 3);
			u->vals = file_texts(t0, docs[i]->values, docs[i]->nulls);
			for (int ti = 1; ti < run->ntables; ti++)
			{
				uint64		first,
							count = stored_rows_of(&sc[ti], docs[i]->name, &first);
				FiUpdRow   *rr = palloc0(sizeof(FiUpdRow) * (count + 1));

				for (uint64 r = 0; r < count; r++)
				{
					rr[r].name = SPI_getvalue(sc[ti].tt->vals[first + r], sc[ti].tt->tupdesc, 1);
					rr[r].vals = stored_texts(&run->tables[ti], sc[ti].tt, first + r, 4);
				}
				rows[ti] = rr;
				nst[ti] = (int) count;
			}
			u->stored_rows = rows;
			u->nstored = nst;
			u->nchildren = list_length(docs[i]->children);
			u->children = palloc0(sizeof(FiUpdChild) * (u->nchildren + 1));
			foreach(lc, docs[i]->children)
			{
				ImpChild   *ch = lfirst(lc);

				u->children[c].table = ch->table;
				u->children[c].name = ch->name;
				u->children[c++].vals = file_texts(&run->tables[ch->table], ch->values, ch->nulls);
			}
			u->replace = palloc0(sizeof(bool) * run->ntables);
			fi_import_update_match(u);
		}
	}

	/*
	 * A child row's ID that names a row of another document fails the
	 * document: Frappe would move that row here, out of the other document.
	 */
	for (int ti = 1; ti < run->ntables; ti++)
	{
		ImpTable   *t = &run->tables[ti];
		List	   *foreign = NIL;	/* the rows with an ID their document does not have */
		List	   *foreign_doc = NIL;	/* (int) and their documents */
		Oid			ftypes[1] = {TEXTARRAYOID};
		Datum		fargs[1];
		HTAB	   *owners;
		ListCell   *lc,
				   *ld;

		for (int i = 0; i < n; i++)
		{
			int			c = 0;

			if (docs[i]->failed)
				continue;
			foreach(lc, docs[i]->children)
			{
				ImpChild   *ch = lfirst(lc);

				if (ch->table == ti && ch->name != NULL && strlen(ch->name) < OWNER_KEY && !ud[i].children[c].stored)
				{
					foreign = lappend(foreign, ch);
					foreign_doc = lappend_int(foreign_doc, i);
				}
				c++;
			}
		}
		if (foreign == NIL)
			continue;
		{
			Datum	   *fd = palloc(sizeof(Datum) * list_length(foreign));
			int			nf = 0;

			foreach(lc, foreign)
				fd[nf++] = CStringGetTextDatum(((ImpChild *) lfirst(lc))->name);
			fargs[0] = PointerGetDatum(construct_array(fd, nf, TEXTOID, -1, false, TYPALIGN_INT));
		}
		if (fi_spi_execute(psprintf("SELECT name::text, concat(parenttype, ' ', parent) FROM %s "
									"WHERE name::text = ANY($1)",
									fi_site_table(psprintf("tab%s", t->doctype))),
						   1, ftypes, fargs, NULL, true, 0) != SPI_OK_SELECT)
			elog(ERROR, "could not read the stored child rows");
		owners = imp_string_hash("import foreign child rows", 64, OWNER_KEY, sizeof(OwnerEntry));
		for (uint64 r = 0; r < SPI_processed; r++)
		{
			char	   *name = SPI_getvalue(SPI_tuptable->vals[r], SPI_tuptable->tupdesc, 1);

			if (strlen(name) < OWNER_KEY)
				((OwnerEntry *) hash_search(owners, name, HASH_ENTER, NULL))->owner =
					SPI_getvalue(SPI_tuptable->vals[r], SPI_tuptable->tupdesc, 2);
		}
		SPI_freetuptable(SPI_tuptable);
		forboth(lc, foreign, ld, foreign_doc)
		{
			ImpChild   *ch = lfirst(lc);
			OwnerEntry *e = hash_search(owners, ch->name, HASH_FIND, NULL);

			if (e != NULL)
				imp_doc_error(run, docs[lfirst_int(ld)], ch->row,
							  t->id_col >= 0 ? run->headers[t->id_col] : NULL, ch->name,
							  "%s: row %s belongs to %s, not to this document",
							  t->tlabel, ch->name, e->owner);
		}
	}

	/* what changes, or the refusal of a submitted or cancelled document (the engine's) */
	for (int i = 0; i < n; i++)
	{
		ImpDoc	   *doc = docs[i];
		int			at;
		char	   *msg;

		if (doc->failed)
			continue;
		switch (fi_import_update_decide(ut, run->ntables, &ud[i], &at, &msg, imp_alloc, CurrentMemoryContext))
		{
			case FI_UPD_OK:
				doc->skipped = ud[i].skipped;
				break;
			case FI_UPD_CANCELLED:
				imp_doc_error(run, doc, doc->row, NULL, doc->name, "%s", msg);
				break;
			case FI_UPD_AFTER_SUBMIT_FIELD:
				imp_doc_error(run, doc, doc->row, t0->fields[at].header, NULL, "%s", msg);
				break;
			case FI_UPD_AFTER_SUBMIT_TABLE:
				imp_doc_error(run, doc, doc->row, NULL, NULL, "%s", msg);
				break;
		}
	}

	/* write: the parents, then each replaced child table (one DELETE a table) */
	for (int i = 0; i < n; i++)
		if (!docs[i]->failed && !docs[i]->skipped)
		{
			update_row(run, t0, docs[i]->name, docs[i]->values, docs[i]->nulls, 0);
			docs[i]->updated = true;
		}
	for (int ti = 1; ti < run->ntables; ti++)
	{
		ImpTable   *t = &run->tables[ti];
		List	   *parents = NIL,
				   *keep = NIL;
		ImpWriter  *w = NULL;
		int			natts = RelationGetDescr(t->rel)->natts;
		Datum	   *values = palloc(sizeof(Datum) * natts);
		bool	   *nulls = palloc(sizeof(bool) * natts);
		ListCell   *lc;

		for (int i = 0; i < n; i++)
		{
			if (docs[i]->failed || docs[i]->skipped || !ud[i].replace[ti])
				continue;
			parents = lappend(parents, docs[i]->name);
			foreach(lc, docs[i]->children)
			{
				ImpChild   *ch = lfirst(lc);

				if (ch->table == ti && ch->name != NULL)
					keep = lappend(keep, ch->name);
			}
		}
		if (parents == NIL)
			continue;
		{
			Datum	   *pd = palloc(sizeof(Datum) * list_length(parents));
			Datum	   *kd = palloc(sizeof(Datum) * (list_length(keep) + 1));
			int			np = 0,
						nk = 0;

			foreach(lc, parents)
				pd[np++] = CStringGetTextDatum(lfirst(lc));
			foreach(lc, keep)
				kd[nk++] = CStringGetTextDatum(lfirst(lc));
			cargs[0] = PointerGetDatum(construct_array(pd, np, TEXTOID, -1, false, TYPALIGN_INT));
			cargs[1] = doctype;
			cargs[2] = CStringGetTextDatum(t->parentfield);
			cargs[3] = PointerGetDatum(construct_array(kd, nk, TEXTOID, -1, false, TYPALIGN_INT));
			fi_spi_execute(psprintf("DELETE FROM %s WHERE parent IN (SELECT unnest($1::text[])) AND parenttype = $2 AND "
									"parentfield = $3 AND NOT (name::text = ANY($4))",
									fi_site_table(psprintf("tab%s", t->doctype))),
						   4, ctypes, cargs, NULL, false, 0);
		}
		for (int i = 0; i < n; i++)
		{
			int			idx = 0,
						c = -1;
			Datum		parent;

			if (docs[i]->failed || docs[i]->skipped || !ud[i].replace[ti])
				continue;
			parent = CStringGetTextDatum(docs[i]->name);
			foreach(lc, docs[i]->children)
			{
				ImpChild   *ch = lfirst(lc);

				c++;
				if (ch->table != ti)
					continue;
				idx++;
				if (ud[i].children[c].stored)
				{
					update_row(run, t, ch->name, ch->values, ch->nulls, idx);
					continue;
				}
				if (w == NULL)
					w = imp_writer_begin(run, t);
				fill_row(w, t, values, nulls, ch->values, ch->nulls);
				set_att(values, nulls, t->a_name, CStringGetTextDatum(ch->name ? ch->name : imp_hash_name()));
				set_att(values, nulls, t->a_owner, user);
				set_att(values, nulls, t->a_modified_by, user);
				set_att(values, nulls, t->a_creation, now);
				set_att(values, nulls, t->a_modified, now);
				set_att(values, nulls, t->a_docstatus, Int16GetDatum((int16) ud[i].docstatus));
				set_att(values, nulls, t->a_idx, Int64GetDatum(idx));
				set_att(values, nulls, t->a_parent, parent);
				set_att(values, nulls, t->a_parenttype, doctype);
				set_att(values, nulls, t->a_parentfield, CStringGetTextDatum(t->parentfield));
				imp_writer_put(w, values, nulls);
			}
		}
		if (w != NULL)
			imp_writer_end(w);
	}
	for (int ti = 1; ti < run->ntables; ti++)
		SPI_freetuptable(sc[ti].tt);
	SPI_freetuptable(ptt);
}
