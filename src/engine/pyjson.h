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

#define FI_PYFLOAT_MAXLEN	32

/* Write v as json.dumps writes a Python float; returns the length. */
extern size_t fi_pyjson_float(double v, char out[FI_PYFLOAT_MAXLEN]);

#endif							/* FI_PYJSON_H */
