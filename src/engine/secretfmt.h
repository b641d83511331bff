/*
 * secretfmt.h
 *		Frappe's secret formats: Fernet tokens (Python "cryptography"),
 *		passlib's pbkdf2_sha256 and argon2 hashes, HMAC-SHA256, and Frappe's
 *		random names and tokens.
 *
 * Pure functions over caller-supplied buffers: no server state (scratch
 * memory only through malloc/free, released before return), randomness and
 * time passed in by the caller, so every function is deterministic and can
 * be tested and fuzzed alone.
 * Functions that can fail return an FiSecretErr and never print secrets.
 */
#ifndef FI_SECRETFMT_H
#define FI_SECRETFMT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef enum FiSecretErr
{
	FI_SECRET_OK = 0,
	FI_SECRET_BAD_KEY,			/* key is not urlsafe base64 of 32 bytes */
	FI_SECRET_BAD_TOKEN,		/* token not base64, too short, bad version */
	FI_SECRET_BAD_MAC,			/* HMAC mismatch: other key, or altered */
	FI_SECRET_BAD_PADDING,		/* decrypted but PKCS7 padding invalid */
	FI_SECRET_BAD_HASH,			/* hash string malformed */
	FI_SECRET_HASH_LIMITS,		/* hash cost parameters beyond our limits */
	FI_SECRET_CRYPTO			/* OpenSSL / libargon2 internal failure */
} FiSecretErr;

/* A human-readable description of an error code (never contains data). */
extern const char *fi_secret_strerror(FiSecretErr err);

/* Constant-time equality of two byte strings of equal length n. */
extern bool fi_ct_equal(const void *a, const void *b, size_t n);

/*
 * a = b in a time that says nothing of where they differ or of either's
 * length (both HMACed, the MACs compared in constant time).
 */
extern bool fi_secure_equal(const char *a, size_t an, const char *b, size_t bn);

/* ---- Fernet ---- */

#define FI_FERNET_KEY_LEN	32
#define FI_FERNET_IV_LEN	16

/* Parse a 44-character urlsafe-base64 Fernet key into 32 raw bytes. */
extern FiSecretErr fi_fernet_parse_key(const char *key, size_t keylen,
									   unsigned char raw[FI_FERNET_KEY_LEN]);

/* Length of the token text for a plaintext of n bytes (without NUL). */
extern size_t fi_fernet_token_len(size_t n);

/*
 * Encrypt: token = urlsafe_b64(0x80 | ts | iv | AES-128-CBC(pt) | HMAC).
 * out needs fi_fernet_token_len(n) + 1 bytes; NUL-terminated.
 */
extern FiSecretErr fi_fernet_encrypt(const unsigned char key[FI_FERNET_KEY_LEN],
									 const unsigned char iv[FI_FERNET_IV_LEN],
									 uint64_t timestamp,
									 const unsigned char *pt, size_t n,
									 char *out, size_t *outlen);

/* Upper bound of the plaintext size of a token of toklen characters. */
extern size_t fi_fernet_plain_maxlen(size_t toklen);

/*
 * Decrypt and authenticate (no TTL, as Frappe).  out needs
 * fi_fernet_plain_maxlen(toklen) bytes; *timestamp (if not NULL) receives
 * the token's creation time.
 */
extern FiSecretErr fi_fernet_decrypt(const unsigned char key[FI_FERNET_KEY_LEN],
									 const char *token, size_t toklen,
									 unsigned char *out, size_t *outlen,
									 uint64_t *timestamp);

/* ---- passlib ---- */

#define FI_PBKDF2_DEFAULT_ROUNDS	29000
#define FI_PBKDF2_SALT_LEN			16
#define FI_PBKDF2_MAX_ROUNDS		10000000
#define FI_ARGON2_MAX_MEMORY_KIB	(256 * 1024)
#define FI_ARGON2_MAX_TIME_COST		64	/* passes (passlib's default: 2) */
#define FI_ARGON2_MAX_LANES			64
/* memory x passes: 1 GiB-pass at most, about a second here */
#define FI_ARGON2_MAX_WORK_KIB		(1024L * 1024)
#define FI_PASSLIB_HASH_MAXLEN		160

/*
 * passlib pbkdf2_sha256 hash: "$pbkdf2-sha256$<rounds>$<ab64 salt>$<ab64
 * checksum>".  out needs FI_PASSLIB_HASH_MAXLEN bytes.
 */
extern FiSecretErr fi_pbkdf2_sha256_hash(const char *pwd, size_t pwdlen,
										 const unsigned char *salt, size_t saltlen,
										 unsigned int rounds, char *out);

/*
 * Verify a password against a passlib hash of the schemes Frappe's
 * CryptContext accepts: pbkdf2_sha256 and argon2 (i, d, id).  *match is set
 * only when FI_SECRET_OK is returned.
 */
extern FiSecretErr fi_passlib_verify(const char *pwd, size_t pwdlen,
									 const char *hash, size_t hashlen,
									 bool *match);

/* ---- HMAC ---- */

#define FI_SHA256_LEN	32

extern FiSecretErr fi_hmac_sha256(const unsigned char *key, size_t keylen,
								  const unsigned char *msg, size_t msglen,
								  unsigned char out[FI_SHA256_LEN]);

/* ---- Frappe's random strings ---- */

/*
 * Each maps caller-supplied random bytes to characters; the caller supplies
 * as many random bytes as characters asked for (plus slack for rejection
 * sampling, see fi_random_from_alphabet).
 */

/* 0-9a-v: Frappe v15's "hash" autoname (base32hex, lower case). */
extern void fi_random_base32hex(const unsigned char *rnd, size_t n, char *out);

/* 0-9a-f: frappe.generate_hash (secrets.token_hex, cut). */
extern void fi_random_hex(const unsigned char *rnd, size_t n, char *out);

/*
 * Uniform characters from an alphabet of at most 256 characters by
 * rejection sampling.  Consumes bytes from rnd; returns the number of
 * characters written (< n when the random bytes ran out; call again with
 * fresh bytes for the rest).  out is not NUL-terminated.
 */
extern size_t fi_random_from_alphabet(const unsigned char *rnd, size_t rndlen,
									  const char *alphabet, size_t n, char *out);

/* oauthlib's UNICODE_ASCII_CHARACTER_SET: a-z A-Z 0-9. */
extern const char fi_oauth_token_alphabet[];

#endif							/* FI_SECRETFMT_H */
