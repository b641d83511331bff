/*
 * codec.h
 *		Base64 (standard, URL-safe, passlib's "adapted") and hex codecs.
 *
 * Pure functions: no server state, no allocation.  The caller sizes the
 * output buffer with the *_len helpers.
 */
#ifndef FI_CODEC_H
#define FI_CODEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef enum FiB64Variant
{
	FI_B64_STD,					/* A-Z a-z 0-9 + /, '=' padded */
	FI_B64_URL,					/* A-Z a-z 0-9 - _, '=' padded (Python urlsafe) */
	FI_B64_AB64					/* A-Z a-z 0-9 . /, no padding (passlib) */
} FiB64Variant;

/* Length of the encoded text for n input bytes (without a NUL). */
extern size_t fi_b64_encoded_len(size_t n, FiB64Variant v);

/* Encode n bytes into out (fi_b64_encoded_len + 1 bytes); NUL-terminates. */
extern size_t fi_b64_encode(const unsigned char *in, size_t n, char *out,
							FiB64Variant v);

/* Upper bound of the decoded size of n characters. */
extern size_t fi_b64_decoded_maxlen(size_t n);

/*
 * Strict decode.  For padded variants the input length must be a multiple
 * of 4 with correct padding; for AB64 padding is not allowed.  Returns the
 * number of bytes written, or -1 on any invalid character or shape.
 */
extern long fi_b64_decode(const char *in, size_t n, unsigned char *out,
						  FiB64Variant v);

/* The value of one hex digit (either case), or -1. */
extern int	fi_hex_value(char c);

/* Lowercase hex of n bytes into out (2n + 1 bytes); NUL-terminates. */
extern void fi_hex_encode(const unsigned char *in, size_t n, char *out);

/*
 * Python's quote_plus of UTF-8 bytes (a value in urlencode): letters, digits
 * and _.-~ kept, a blank as '+', every other byte %XX.  out needs 3n + 1
 * bytes; returns the length written (NUL-terminated).
 */
extern size_t fi_quote_plus(const unsigned char *in, size_t n, char *out);

/* The UTF-8 bytes of code point cp (at most U+10FFFF) into out (4 bytes); returns how many. */
extern size_t fi_utf8_encode(char *out, uint32_t cp);

#endif							/* FI_CODEC_H */
