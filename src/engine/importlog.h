/*
 * importlog.h
 *		Frappe's Data Import Log of one document and an import's status
 *		(frappe/core/doctype/data_import/importer.py, v15): what PostgreSQL's
 *		import_csv and MariaDB's import write into tabData Import Log and
 *		tabData Import when asked (options.data_import, --data-import).
 *		Pure: no database headers; memory from the caller's allocator.
 */
#ifndef FI_ENGINE_IMPORTLOG_H
#define FI_ENGINE_IMPORTLOG_H

#include <stdbool.h>

#include "engine/alloc.h"

/* one message of a failed document: Frappe throws it, or msgprints it (a missing value) */
typedef struct FiImportLogMsg
{
	const char *message;
	bool		msgprint;
} FiImportLogMsg;

/* the texts of one tabData Import Log row */
typedef struct FiImportLog
{
	char	   *row_indexes;	/* row_indexes: a JSON list of the document's row numbers, "[2, 3]" */
	char	   *messages;		/* messages: frappe.local.message_log's entries; a success "\"[]\"" */
	char	   *exception;		/* exception: NULL for a success */
} FiImportLog;

/*
 * The log of one document, from its rows' numbers and, when it failed, its
 * messages (in order; the first is the exception's).  Frappe v15 writes a
 * success with messages = json.dumps("[]") and a failure with the message
 * log: msgprint()'s {"message", "title": "Message"}, frappe.throw()'s also
 * "indicator": "red" and "raise_exception": 1; the exception is the
 * traceback's last line, "frappe.exceptions.ValidationError: <message>".
 * false when out of memory.
 */
extern bool fi_import_log(const long *rows, int nrows, bool success, const FiImportLogMsg *msgs, int nmsgs,
						  FiAlloc alloc, void *arg, FiImportLog *out);

/*
 * The import's status (the result's and tabData Import's): Success when no
 * document failed, Partial Success when some did and others were written
 * (or left unchanged), else Error; a run rolled back (atomic with a
 * failure) is Error.
 */
extern const char *fi_import_status(long ok, long failed, bool rolled_back);

#endif							/* FI_ENGINE_IMPORTLOG_H */
