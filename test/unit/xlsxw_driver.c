/*
 * xlsxw_driver.c
 *		The XLSX writer (src/engine/xlsxwrite.c) from the command line, for
 *		the differential test against openpyxl (test/t/086_xlsx_writer.sh):
 *		xlsxw_driver FILE SHEET [MAX_ROWS] reads cells from standard input,
 *		one a line, and writes the workbook:
 *			s HEX          a string (its UTF-8 bytes in hex; "s" alone: empty)
 *			n NUMBER       a number (strtod's text: nan and inf too)
 *			d Y M D        a date            D Y M D h m s us  a datetime
 *			t h m s us     a time            T US              a timedelta
 *			e              an empty cell     r                 the end of a row
 *			a              abandon the workbook (nothing is written)
 *		It prints "OK rows truncated" or "ERROR code message"; a date it
 *		refuses prints "REFUSED" and goes on.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/xlsxwrite.h"

static size_t
unhex(const char *s, char *out)
{
	size_t		n = 0;

	while (s[0] && s[1] && s[0] != '\n')
	{
		unsigned int b;

		if (sscanf(s, "%2x", &b) != 1)
			break;
		out[n++] = (char) b;
		s += 2;
	}
	return n;
}

int
main(int argc, char **argv)
{
	FiXlsxWriteOptions o;
	FiXlsxWriter *w;
	char		msg[256];
	FiXlsxwErr	e;
	static char line[300000];
	static char buf[150000];

	if (argc < 3)
	{
		fprintf(stderr, "usage: xlsxw_driver FILE SHEET [MAX_ROWS [LEVEL]] < cells\n");
		return 2;
	}
	fi_xlsxw_default_options(&o);
	if (argc > 3 && atol(argv[3]) > 0)
		o.max_rows = atol(argv[3]);
	if (argc > 4)
		o.level = atoi(argv[4]);
	if ((e = fi_xlsxw_open(argv[1], argv[2], &o, &w, msg, sizeof(msg))) != FI_XLSXW_OK)
	{
		printf("ERROR %d %s\n", (int) e, msg);
		return 0;
	}
	while (fgets(line, sizeof(line), stdin))
	{
		int			a[7] = {0};
		long long	us;
		bool		ok = true;

		switch (line[0])
		{
			case 's':
				fi_xlsxw_string(w, buf, line[1] == ' ' ? unhex(line + 2, buf) : 0);
				break;
			case 'n':
				fi_xlsxw_number(w, strtod(line + 2, NULL));
				break;
			case 'd':
				sscanf(line + 2, "%d %d %d", &a[0], &a[1], &a[2]);
				ok = fi_xlsxw_date(w, a[0], a[1], a[2]);
				break;
			case 'D':
				sscanf(line + 2, "%d %d %d %d %d %d %d", &a[0], &a[1], &a[2], &a[3], &a[4], &a[5], &a[6]);
				ok = fi_xlsxw_datetime(w, a[0], a[1], a[2], a[3], a[4], a[5], a[6]);
				break;
			case 't':
				sscanf(line + 2, "%d %d %d %d", &a[0], &a[1], &a[2], &a[3]);
				fi_xlsxw_time(w, a[0], a[1], a[2], a[3]);
				break;
			case 'T':
				sscanf(line + 2, "%lld", &us);
				fi_xlsxw_timedelta(w, us);
				break;
			case 'e':
				fi_xlsxw_empty(w);
				break;
			case 'r':
				if ((e = fi_xlsxw_end_row(w, msg, sizeof(msg))) != FI_XLSXW_OK)
				{
					printf("ERROR %d %s\n", (int) e, msg);
					fi_xlsxw_abort(w);
					return 0;
				}
				break;
			case 'a':
				fi_xlsxw_abort(w);
				printf("ABANDONED\n");
				return 0;
			default:
				break;
		}
		if (!ok)
			printf("REFUSED\n");
	}
	{
		long		rows = fi_xlsxw_rows(w),
					trunc = fi_xlsxw_truncated(w, NULL, NULL);

		if ((e = fi_xlsxw_close(w, msg, sizeof(msg))) != FI_XLSXW_OK)
			printf("ERROR %d %s\n", (int) e, msg);
		else
			printf("OK %ld %ld\n", rows, trunc);
	}
	return 0;
}
