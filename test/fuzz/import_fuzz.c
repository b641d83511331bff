/*
 * import_fuzz.c
 *		libFuzzer target for the import engines: the CSV reader (records
 *		must account for the input: no field longer than what was read),
 *		Python's strip, UTF-8 validation and the windows-1252 fallback, and
 *		the value rules (a guessed date format must parse the value it was
 *		guessed from).
 *
 *		make fuzz-import   (clang with -fsanitize=fuzzer,address,undefined)
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "engine/csv.h"
#include "engine/importval.h"

int			LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *in = (const char *) data;
	FiCsvReader r;
	size_t		bad,
				total = 0;
	char	   *buf;
	int			rc;

	fi_csv_init(&r, in, size);
	while ((rc = fi_csv_next(&r)) == 1)
	{
		for (int i = 0; i < r.nfields; i++)
		{
			size_t		b,
						l = fi_py_strip(r.buf + r.off[i], r.len[i], &b);
			FiDateFormat f;
			FiDateTime	dt;
			int64_t		v;
			char	   *num;

			total += r.len[i];
			if (b + l > r.len[i] || r.buf[r.off[i] + r.len[i]] != '\0')
				abort();
			if (fi_guess_date_format(r.buf + r.off[i] + b, l, &f) &&
				!fi_strptime(r.buf + r.off[i] + b, l, f, &dt))
				abort();
			num = malloc(l + 2);
			fi_parse_number(r.buf + r.off[i] + b, l, num);
			free(num);
			fi_parse_int(r.buf + r.off[i] + b, l, &v);
			fi_parse_check(r.buf + r.off[i] + b, l, &v);
			fi_parse_duration(r.buf + r.off[i] + b, l, &v);
			fi_parse_time(r.buf + r.off[i] + b, l, &dt);
		}
	}
	if (rc < 0 || total > size)
		abort();
	fi_csv_free(&r);
	if (!fi_utf8_valid(in, size, &bad) && bad >= size)
		abort();
	buf = malloc(size * 3 + 1);
	{
		long		n = fi_cp1252_to_utf8(data, size, buf, &bad);

		if (n >= 0 && !fi_utf8_valid(buf, n, &bad))
			abort();			/* windows-1252 always gives valid UTF-8 */
	}
	free(buf);
	return 0;
}
