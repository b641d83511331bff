/*
 * options.c
 *		The jsonb options of the SQL functions (import, export): lookup,
 *		typed reads, and the check that every key is one the function knows.
 *		Every refusal is 22023 naming the option.
 */
#include "postgres.h"

#include <limits.h>

#include "lib/stringinfo.h"
#include "utils/builtins.h"
#include "utils/jsonb.h"
#include "utils/numeric.h"

#include "frappe_integrations.h"

JsonbValue *
fi_opt_find(Jsonb *opts, const char *key)
{
	JsonbValue	k,
			   *v;

	if (opts == NULL)
		return NULL;
	k.type = jbvString;
	k.val.string.val = (char *) key;
	k.val.string.len = strlen(key);
	v = findJsonbValueFromContainer(&opts->root, JB_FOBJECT, &k);
	return (v == NULL || v->type == jbvNull) ? NULL : v;
}

void
fi_opt_refuse(const char *key, const char *what)
{
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			 errmsg("option \"%s\" must be %s", key, what)));
}

bool
fi_opt_bool(Jsonb *opts, const char *key, bool dflt)
{
	JsonbValue *v = fi_opt_find(opts, key);

	if (v == NULL)
		return dflt;
	if (v->type != jbvBool)
		fi_opt_refuse(key, "true or false");
	return v->val.boolean;
}

char *
fi_opt_text(Jsonb *opts, const char *key)
{
	JsonbValue *v = fi_opt_find(opts, key);

	if (v == NULL)
		return NULL;
	if (v->type != jbvString)
		fi_opt_refuse(key, "a string");
	return pnstrdup(v->val.string.val, v->val.string.len);
}

static double
number_of(JsonbValue *v)
{
	return DatumGetFloat8(DirectFunctionCall1(numeric_float8, NumericGetDatum(v->val.numeric)));
}

double
fi_opt_number(Jsonb *opts, const char *key, double dflt, double lo, double hi)
{
	JsonbValue *v = fi_opt_find(opts, key);
	double		d;

	if (v == NULL)
		return dflt;
	if (v->type != jbvNumeric)
		fi_opt_refuse(key, "a number");
	d = number_of(v);
	if (d < lo || d > hi)
		fi_opt_refuse(key, psprintf("between %g and %g", lo, hi));
	return d;
}

long
fi_opt_count(Jsonb *opts, const char *key, long dflt)
{
	JsonbValue *v = fi_opt_find(opts, key);
	double		d;

	if (v == NULL)
		return dflt;
	if (v->type == jbvNumeric)
	{
		d = number_of(v);
		if (d >= 0 && d < (double) LONG_MAX && d == (double) (long) d)
			return (long) d;
	}
	fi_opt_refuse(key, "a whole number of at least 0");
	return dflt;
}

void
fi_opt_check_keys(Jsonb *opts, const char *const *known, int n)
{
	JsonbIterator *it;
	JsonbValue	k;
	JsonbIteratorToken tok;

	if (opts == NULL)
		return;
	if (!JB_ROOT_IS_OBJECT(opts))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("options must be a JSON object")));
	it = JsonbIteratorInit(&opts->root);
	while ((tok = JsonbIteratorNext(&it, &k, true)) != WJB_DONE)
	{
		bool		ok = false;

		if (tok != WJB_KEY)
			continue;
		for (int i = 0; i < n && !ok; i++)
			ok = (int) strlen(known[i]) == k.val.string.len &&
				memcmp(known[i], k.val.string.val, k.val.string.len) == 0;
		if (!ok)
		{
			StringInfoData hint;

			initStringInfo(&hint);
			for (int i = 0; i < n; i++)
				appendStringInfo(&hint, "%s%s", i ? ", " : "Options: ", known[i]);
			appendStringInfoChar(&hint, '.');
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("unknown option \"%.*s\"", k.val.string.len, k.val.string.val),
					 errhint("%s", hint.data)));
		}
	}
}
