/*
 * pyjson.h
 *		Python's JSON text, piece by piece, for byte-exact webhook bodies and
 *		signatures (frappe-facts 1.8): for now the float form json.dumps
 *		writes (float.__repr__: shortest round-trip digits, '1e-05',
 *		'1e+16', '100.0'; NaN / Infinity / -Infinity).  Pure: no server state.
 */
#ifndef FI_PYJSON_H
#define FI_PYJSON_H

#include <stddef.h>
#include <stdint.h>

#define FI_PYFLOAT_MAXLEN	32

/* Write v as json.dumps writes a Python float; returns the length.  The
 * second form is for a value read from decimal text of at most 15
 * significant digits, |v| = dec / 10^places: the same text, found at once. */
extern size_t fi_pyjson_float(double v, char out[FI_PYFLOAT_MAXLEN]);
extern size_t fi_pyjson_decimal(double v, uint64_t dec, int places,
								char out[FI_PYFLOAT_MAXLEN]);

#endif							/* FI_PYJSON_H */
