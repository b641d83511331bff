/*
 * import_driver.c
 *		The import engines alone, for differential tests against Python.
 *
 *   import_driver csv FILE      records of FILE as JSON arrays, one a line
 *                               ("!unterminated" line after such a record)
 *   import_driver guess         per stdin line: Frappe's date-format guess
 *                               and the parsed value, or "-"
 *   import_driver number        per stdin line: float() after flt's comma
 *                               removal as plain text, or "-"
 *   import_driver duration|check   per stdin line: the value, or "-"
 */
#include "engine/csv.h"
#include "engine/importval.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void
put_json_string(const char *s, size_t n)
{
	putchar('"');
	for (size_t i = 0; i < n; i++)
	{
		unsigned char c = (unsigned char) s[i];

		if (c == '"' || c == '\\')
			printf("\\%c", c);
		else if (c < 0x20)
			printf("\\u%04x", c);
		else
			putchar(c);
	}
	putchar('"');
}

static int
do_csv(const char *path)
{
	FILE	   *f = fopen(path, "rb");
	char	   *data;
	long		n;
	FiCsvReader r;
	int			rc;

	if (f == NULL)
		return 2;
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	fseek(f, 0, SEEK_SET);
	data = malloc(n + 1);
	if (fread(data, 1, n, f) != (size_t) n)
		return 2;
	fclose(f);
	fi_csv_init(&r, data, n);
	while ((rc = fi_csv_next(&r)) == 1)
	{
		putchar('[');
		for (int i = 0; i < r.nfields; i++)
		{
			if (i)
				putchar(',');
			put_json_string(r.buf + r.off[i], r.len[i]);
		}
		printf("]\n");
		if (r.unterminated)
			printf("!unterminated\n");
	}
	fi_csv_free(&r);
	free(data);
	return rc < 0 ? 3 : 0;
}

int
main(int argc, char **argv)
{
	char		line[4096];

	if (argc == 3 && strcmp(argv[1], "csv") == 0)
		return do_csv(argv[2]);
	if (argc != 2)
		return 2;
	while (fgets(line, sizeof(line), stdin))
	{
		size_t		n = strcspn(line, "\n");

		line[n] = '\0';
		if (strcmp(argv[1], "guess") == 0)
		{
			FiDateFormat f;
			FiDateTime	dt;
			char		buf[64];

			size_t		b;
			size_t		len = fi_py_strip(line, n, &b);

			if (fi_guess_date_format(line + b, len, &f) && fi_strptime(line + b, len, f, &dt))
				printf("%s|%04d-%02d-%02d %02d:%02d:%02d.%06d\n", fi_date_format_text(f, buf),
					   dt.year, dt.month, dt.day, dt.hour, dt.minute, dt.second, dt.usec);
			else
				printf("-\n");
		}
		else if (strcmp(argv[1], "number") == 0)
		{
			char	   *out = malloc(n + 2);

			if (fi_parse_number(line, n, out))
				printf("%s\n", out);
			else
				printf("-\n");
			free(out);
		}
		else if (strcmp(argv[1], "duration") == 0 || strcmp(argv[1], "check") == 0)
		{
			int64_t		v;
			bool		ok = argv[1][0] == 'd' ? fi_parse_duration(line, n, &v) : fi_parse_check(line, n, &v);

			if (ok)
				printf("%lld\n", (long long) v);
			else
				printf("-\n");
		}
		else
			return 2;
	}
	return 0;
}
