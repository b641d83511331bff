/*
 * importlog.c
 *		Frappe's Data Import Log of one document and an import's status
 *		(see importlog.h).
 */
#include "engine/importlog.h"
#include "engine/jsoncanon.h"

#include <stdio.h>
#include <string.h>

static char *
take(FiJBuf *b, FiAlloc alloc, void *arg)
{
	char	   *out = NULL;

	if (!b->oom && (out = alloc(arg, b->len + 1)) != NULL)
	{
		memcpy(out, b->data ? b->data : "", b->len);
		out[b->len] = '\0';
	}
	fi_jbuf_free(b);
	return out;
}

bool
fi_import_log(const long *rows, int nrows, bool success, const FiImportLogMsg *msgs, int nmsgs,
			  FiAlloc alloc, void *arg, FiImportLog *out)
{
	FiJBuf		b = {0};
	char		num[32];

	memset(out, 0, sizeof(*out));
	fi_jbuf_put(&b, "[", 1);
	for (int i = 0; i < nrows; i++)
	{
		int			n = snprintf(num, sizeof(num), "%s%ld", i ? ", " : "", rows[i]);

		fi_jbuf_put(&b, num, (size_t) n);
	}
	fi_jbuf_put(&b, "]", 1);
	if ((out->row_indexes = take(&b, alloc, arg)) == NULL)
		return false;
	if (success)
	{
		fi_jbuf_put(&b, "\"[]\"", 4);
		return (out->messages = take(&b, alloc, arg)) != NULL;
	}
	fi_jbuf_put(&b, "[", 1);
	for (int i = 0; i < nmsgs; i++)
	{
		const char *m = msgs[i].message ? msgs[i].message : "";

		if (i)
			fi_jbuf_put(&b, ", ", 2);
		fi_jbuf_put(&b, "{\"message\": ", 12);
		fi_json_put_string(&b, m, strlen(m));
		if (msgs[i].msgprint)
			fi_jbuf_put(&b, ", \"title\": \"Message\"}", 21);
		else
		{
			static const char thrown[] = ", \"title\": \"Message\", \"indicator\": \"red\", \"raise_exception\": 1}";

			fi_jbuf_put(&b, thrown, sizeof(thrown) - 1);
		}
	}
	fi_jbuf_put(&b, "]", 1);
	if ((out->messages = take(&b, alloc, arg)) == NULL)
		return false;
	{
		static const char prefix[] = "frappe.exceptions.ValidationError: ";
		const char *first = nmsgs > 0 && msgs[0].message ? msgs[0].message : "";

		fi_jbuf_put(&b, prefix, sizeof(prefix) - 1);
		fi_jbuf_put(&b, first, strlen(first));
		return (out->exception = take(&b, alloc, arg)) != NULL;
	}
}

const char *
fi_import_status(long ok, long failed, bool rolled_back)
{
	if (rolled_back)
		return "Error";
	if (failed == 0)
		return "Success";
	return ok > 0 ? "Partial Success" : "Error";
}
