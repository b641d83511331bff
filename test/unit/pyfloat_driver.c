/*
 * pyfloat_driver.c
 *		Reads one double per line (C99 hex-float or decimal, or nan/inf),
 *		writes fi_pyjson_float's text: the oracle test compares it with
 *		python3's json.dumps (test/t/030_pyjson_float.sh).
 */
#include <stdio.h>
#include <stdlib.h>

#include "engine/pyjson.h"

int
main(void)
{
	char		line[128];
	char		out[FI_PYFLOAT_MAXLEN];

	while (fgets(line, sizeof(line), stdin))
	{
		fi_pyjson_float(strtod(line, NULL), out);
		puts(out);
	}
	return 0;
}
