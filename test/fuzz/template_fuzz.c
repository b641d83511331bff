/*
 * template_fuzz.c
 *		libFuzzer target for the template engine: the first input byte picks
 *		a template render, a condition, JSON normalisation, or a render over
 *		a context parsed from the input; the rest is the source.  Tight
 *		bounds keep each run short, so a bound that fails to hold shows as a
 *		timeout or an out-of-memory report rather than passing unnoticed.
 *
 *		make fuzz-template FUZZ_SECONDS=600
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "engine/tpl.h"

int			LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char ctx_json[] =
"{\"doc\": {\"name\": \"SINV-1\", \"grand_total\": 1180.0, \"status\": \"Paid\", "
"\"remarks\": null, \"posting_date\": \"2024-05-06\", \"customer_name\": \"Caf\\u00e9\", "
"\"items\": [{\"item_code\": \"A\", \"qty\": 2.0, \"rate\": 250.0}, "
"{\"item_code\": \"B\\ud83d\\ude80\", \"qty\": 3, \"rate\": 1e-05}], \"tags\": [1, \"x\", true]}}";

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	FiTplOptions opt;
	FiTpl	   *t;
	FiVal	   *ctx = NULL;
	const char *out;
	size_t		outlen;
	bool		b;
	const char *src;
	size_t		n;

	if (size < 1)
		return 0;
	src = (const char *) data + 1;
	n = size - 1;
	fi_tpl_default_options(&opt);
	opt.max_memory = 64 * 1024 * 1024;
	opt.max_output = 1024 * 1024;
	opt.max_steps = 200000;
	opt.max_depth = 100;
	opt.now_usec = 1714990830123456LL;
	t = fi_tpl_new(&opt);
	if (t == NULL)
		return 0;
	if (fi_tpl_from_json(t, ctx_json, sizeof(ctx_json) - 1, &ctx) != FI_TPL_OK)
		abort();
	fi_val_as_documents(ctx);
	switch (data[0] % 4)
	{
		case 0:
			fi_tpl_render(t, src, n, ctx, &out, &outlen);
			break;
		case 1:
			fi_tpl_condition(t, src, n, ctx, &b);
			break;
		case 2:
			if (fi_tpl_normalize_json(t, src, n, &out, &outlen) == FI_TPL_OK)
			{
				/* normalised text is a fixed point */
				FiTpl	   *t2 = fi_tpl_new(&opt);
				const char *o2;
				size_t		l2;
				char	   *copy = malloc(outlen + 1);

				memcpy(copy, out, outlen);
				if (t2 && fi_tpl_normalize_json(t2, copy, outlen, &o2, &l2) == FI_TPL_OK &&
					(l2 != outlen || memcmp(o2, copy, l2) != 0))
					abort();
				free(copy);
				fi_tpl_free(t2);
			}
			break;
		case 3:
			{
				FiVal	   *c2;

				if (fi_tpl_from_json(t, src, n, &c2) == FI_TPL_OK)
				{
					FiVal	   *wrap = fi_val_dict(t);

					fi_val_set(t, wrap, "doc", 3, c2);
					fi_val_as_documents(wrap);
					fi_tpl_render(t, "{{ doc | tojson }}{{ doc | json }}{{ doc }}"
								  "{% for k in doc %}{{ k }}{{ doc[k] }}{% endfor %}", 77, wrap, &out, &outlen);
				}
				break;
			}
	}
	fi_tpl_free(t);
	return 0;
}
