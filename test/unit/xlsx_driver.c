/*
 * xlsx_driver.c
 *		The XLSX reader (src/engine/xlsx.c) from the command line, for the
 *		differential test against openpyxl (test/t/085_xlsx.sh):
 *		xlsx_driver FILE [MAX_PART [again]] prints the active sheet's rows,
 *		one JSON array of strings a line, or "ERROR <code> <message>"; with
 *		a third argument, twice (the second time after a rewind).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/xlsx.h"

static void
json_string(const char *s, size_t n)
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

int
main(int argc, char **argv)
{
	FILE	   *f;
	char	   *data;
	long		n;
	FiXlsxLimits lim;
	FiXlsx	   *x;
	FiCsvReader rec;
	char		msg[256];
	FiXlsxErr	e;
	bool		done = false;

	if (argc < 2 || (f = fopen(argv[1], "rb")) == NULL)
	{
		fprintf(stderr, "usage: xlsx_driver FILE [MAX_PART]\n");
		return 2;
	}
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	fseek(f, 0, SEEK_SET);
	data = malloc(n + 1);
	if (fread(data, 1, n, f) != (size_t) n)
		return 2;
	fclose(f);
	fi_xlsx_default_limits(&lim);
	if (argc > 2)
		lim.max_part = strtoul(argv[2], NULL, 10);
	if ((e = fi_xlsx_open(data, n, &lim, NULL, NULL, &x, msg, sizeof(msg))) != FI_XLSX_OK)
	{
		printf("ERROR %d %s\n", (int) e, msg);
		free(data);
		return 0;
	}
	memset(&rec, 0, sizeof(rec));
	for (int pass = 0; pass < (argc > 3 ? 2 : 1); pass++)
	{
		if (pass == 1 && fi_xlsx_rewind(x, msg, sizeof(msg)) != FI_XLSX_OK)
			break;
		for (;;)
		{
			if ((e = fi_xlsx_next(x, &rec, &done, msg, sizeof(msg))) != FI_XLSX_OK)
			{
				printf("ERROR %d %s\n", (int) e, msg);
				break;
			}
			if (done)
				break;
			putchar('[');
			for (int i = 0; i < rec.nfields; i++)
			{
				if (i)
					printf(", ");
				json_string(rec.buf + rec.off[i], rec.len[i]);
			}
			printf("]\n");
		}
	}
	fi_csv_free(&rec);
	fi_xlsx_close(x);
	free(data);
	return 0;
}
