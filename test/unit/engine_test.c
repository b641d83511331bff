/*
 * engine_test.c
 *		Unit tests of the pure engines (src/engine), no server: TAP output.
 *		Vectors marked "python" were made by python3-cryptography /
 *		python3-passlib (Fernet._encrypt_from_parts with a fixed IV and time,
 *		passlib with a fixed salt), i.e. by the libraries Frappe uses.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/codec.h"
#include "engine/htmltext.h"
#include "engine/importval.h"
#include "engine/secretfmt.h"
#include "engine/sigverify.h"

#include "tap.h"

static void
test_b64(void)
{
	static const char *plain[] = {"", "f", "fo", "foo", "foob", "fooba", "foobar"};
	static const char *std[] = {"", "Zg==", "Zm8=", "Zm9v", "Zm9vYg==", "Zm9vYmE=", "Zm9vYmFy"};
	static const char *ab64[] = {"", "Zg", "Zm8", "Zm9v", "Zm9vYg", "Zm9vYmE", "Zm9vYmFy"};
	char		out[64];
	unsigned char dec[64];
	int			i,
				all_std = 1,
				all_ab = 1,
				all_dec = 1;
	long		n;

	for (i = 0; i < 7; i++)
	{
		fi_b64_encode((const unsigned char *) plain[i], strlen(plain[i]), out, FI_B64_STD);
		all_std &= strcmp(out, std[i]) == 0;
		all_std &= fi_b64_encoded_len(strlen(plain[i]), FI_B64_STD) == strlen(std[i]);
		fi_b64_encode((const unsigned char *) plain[i], strlen(plain[i]), out, FI_B64_AB64);
		all_ab &= strcmp(out, ab64[i]) == 0;
		all_ab &= fi_b64_encoded_len(strlen(plain[i]), FI_B64_AB64) == strlen(ab64[i]);
		n = fi_b64_decode(std[i], strlen(std[i]), dec, FI_B64_STD);
		all_dec &= n == (long) strlen(plain[i]) && memcmp(dec, plain[i], n) == 0;
		n = fi_b64_decode(ab64[i], strlen(ab64[i]), dec, FI_B64_AB64);
		all_dec &= n == (long) strlen(plain[i]) && memcmp(dec, plain[i], n) == 0;
	}
	ok(all_std, "base64 encodes the RFC 4648 vectors");
	ok(all_ab, "passlib ab64 encodes the RFC 4648 vectors without padding");
	ok(all_dec, "both decode back");

	{
		const unsigned char bytes[] = {0xfb, 0xff, 0xfe};

		fi_b64_encode(bytes, 3, out, FI_B64_URL);
		is_str(out, "-__-", "URL-safe alphabet uses - and _");
		fi_b64_encode(bytes, 3, out, FI_B64_AB64);
		is_str(out, ".//.", "ab64 alphabet uses . for +");
	}
	ok(fi_b64_decode("Zg=", 3, dec, FI_B64_STD) == -1, "decode refuses a bad length");
	ok(fi_b64_decode("Z===", 4, dec, FI_B64_STD) == -1, "decode refuses three pads");
	ok(fi_b64_decode("Zh==", 4, dec, FI_B64_STD) == -1, "decode refuses non-zero trailing bits");
	ok(fi_b64_decode("Zm=v", 4, dec, FI_B64_STD) == -1, "decode refuses '=' inside");
	ok(fi_b64_decode("Zm9v", 4, dec, FI_B64_URL) == 3, "URL-safe decodes plain letters");
	ok(fi_b64_decode("+/+/", 4, dec, FI_B64_URL) == -1, "URL-safe refuses + and /");
	ok(fi_b64_decode("Zg==", 4, dec, FI_B64_AB64) == -1, "ab64 refuses padding");
	ok(fi_b64_decode("Z", 1, dec, FI_B64_AB64) == -1, "ab64 refuses a lone character");

	fi_hex_encode((const unsigned char *) "\x00\xff\x10", 3, out);
	is_str(out, "00ff10", "hex is lowercase");
}

static const char *fernet_key = "cw_0x689RpI-jtRR7oE8h_eQsKImvJapLeSbXpwF4e4=";

static void
test_fernet(void)
{
	unsigned char key[32],
				iv[16],
				pt[256];
	char		tok[512];
	size_t		len = 0,
				i;
	uint64_t	ts = 0;
	const char *python_hello =
	"gAAAAAAdwJ6wAAECAwQFBgcICQoLDA0ODy021cpGVWKZ_eEwCGM4BLLF_5CV9dOPmrhuVUPgJobwOz7JcbmrR64jVmpU4IwqDA==";
	const char *python_unicode =
	"gAAAAABlU_EAEBESExQVFhcYGRobHB0eH3JFywHkzOOJDziKeIVDiC90JxBBR1hHmSggI_HKK74ZZu2CF0LFEHs3vfdvCEvQCjWA1dwnXDHVIZ9KJl5UU78=";
	const char *python_empty =
	"gAAAAABlU_EAAAAAAAAAAAAAAAAAAAAAAG8fBjZFQ_nFMMy3I3_0HaW7LQypTM4z14gxdz-LstwUq4-8RwwvlvkX-ah9udrapw==";
	const char *unicode = "Caf\xc3\xa9 \xc3\xbcn\xc3\xaf \xf0\x9f\x8e\x89";

	ok(fi_fernet_parse_key(fernet_key, strlen(fernet_key), key) == FI_SECRET_OK,
	   "the Fernet spec key parses");
	ok(fi_fernet_parse_key("short", 5, key) == FI_SECRET_BAD_KEY, "a short key is refused");
	ok(fi_fernet_parse_key("cw_0x689RpI-jtRR7oE8h_eQsKImvJapLeSbXpwF4e4!", 44, key) == FI_SECRET_BAD_KEY,
	   "a key with a bad character is refused");
	fi_fernet_parse_key(fernet_key, strlen(fernet_key), key);

	for (i = 0; i < 16; i++)
		iv[i] = (unsigned char) i;
	ok(fi_fernet_encrypt(key, iv, 499162800, (const unsigned char *) "hello", 5, tok, &len) == FI_SECRET_OK,
	   "encrypt succeeds");
	is_str(tok, python_hello, "encrypt gives python's token byte for byte (fixed IV and time)");
	ok(len == fi_fernet_token_len(5), "token length is predicted");

	for (i = 0; i < 16; i++)
		iv[i] = (unsigned char) (16 + i);
	fi_fernet_encrypt(key, iv, 1700000000, (const unsigned char *) unicode, strlen(unicode), tok, &len);
	is_str(tok, python_unicode, "encrypt of UTF-8 text equals python's token");
	memset(iv, 0, 16);
	fi_fernet_encrypt(key, iv, 1700000000, (const unsigned char *) "", 0, tok, &len);
	is_str(tok, python_empty, "encrypt of the empty string equals python's token");

	ok(fi_fernet_decrypt(key, python_hello, strlen(python_hello), pt, &len, &ts) == FI_SECRET_OK &&
	   len == 5 && memcmp(pt, "hello", 5) == 0 && ts == 499162800,
	   "decrypt python's token gives the text and timestamp");
	ok(fi_fernet_decrypt(key, python_unicode, strlen(python_unicode), pt, &len, NULL) == FI_SECRET_OK &&
	   len == strlen(unicode) && memcmp(pt, unicode, len) == 0,
	   "decrypt python's UTF-8 token");
	ok(fi_fernet_decrypt(key, python_empty, strlen(python_empty), pt, &len, NULL) == FI_SECRET_OK &&
	   len == 0, "decrypt python's empty token");

	/* tampering, truncation, wrong key */
	{
		char		bad[512];
		unsigned char other[32];
		const char *k2 = "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=";

		strcpy(bad, python_hello);
		bad[40] = bad[40] == 'A' ? 'B' : 'A';
		ok(fi_fernet_decrypt(key, bad, strlen(bad), pt, &len, NULL) == FI_SECRET_BAD_MAC,
		   "an altered token fails its HMAC");
		ok(fi_fernet_decrypt(key, python_hello, 60, pt, &len, NULL) == FI_SECRET_BAD_TOKEN,
		   "a truncated token is malformed");
		ok(fi_fernet_decrypt(key, "", 0, pt, &len, NULL) == FI_SECRET_BAD_TOKEN,
		   "an empty token is malformed");
		strcpy(bad, python_hello);
		bad[0] = 'h';
		ok(fi_fernet_decrypt(key, bad, strlen(bad), pt, &len, NULL) == FI_SECRET_BAD_TOKEN,
		   "a wrong version byte is malformed");
		ok(fi_fernet_decrypt(key, "gAAAAA!!", 8, pt, &len, NULL) == FI_SECRET_BAD_TOKEN,
		   "non-base64 is malformed");
		fi_fernet_parse_key(k2, strlen(k2), other);
		ok(fi_fernet_decrypt(other, python_hello, strlen(python_hello), pt, &len, NULL) == FI_SECRET_BAD_MAC,
		   "another key fails the HMAC");
	}
}

static void
test_passlib(void)
{
	char		out[FI_PASSLIB_HASH_MAXLEN];
	bool		m = false;
	const char *py_pbkdf2 = "$pbkdf2-sha256$29000$MDEyMzQ1Njc4OWFiY2RlZg$NHBlffTsUBBEsyzbUshC.4tfZ7ylPsyNjIqBqOJHiH4";
	const char *py_pbkdf2_1000 = "$pbkdf2-sha256$1000$c2FsdA$zy1oTMNzIztg8jMVVqpHyzWr464Z58RhOAdpV3tSOiI";
	const char *py_argon2 = "$argon2id$v=19$m=1024,t=2,p=1$c2FsdHNhbHRzYWx0c2FsdA$sU//NWANGVpoTSt/Imj4jQ";
	const char *pw_unicode = "p\xc3\xa4ssw\xc3\xb6rd";

	ok(fi_pbkdf2_sha256_hash("admin123", 8, (const unsigned char *) "0123456789abcdef", 16, 29000, out) == FI_SECRET_OK,
	   "pbkdf2_sha256 hash succeeds");
	is_str(out, py_pbkdf2, "pbkdf2_sha256 hash equals passlib's for the same salt");
	ok(strlen(out) == 87, "the hash is 87 characters, as passlib's");

	ok(fi_passlib_verify("admin123", 8, py_pbkdf2, strlen(py_pbkdf2), &m) == FI_SECRET_OK && m,
	   "passlib's pbkdf2 hash verifies");
	ok(fi_passlib_verify("admin124", 8, py_pbkdf2, strlen(py_pbkdf2), &m) == FI_SECRET_OK && !m,
	   "a wrong password does not verify");
	ok(fi_passlib_verify(pw_unicode, strlen(pw_unicode), py_pbkdf2_1000, strlen(py_pbkdf2_1000), &m) == FI_SECRET_OK && m,
	   "a UTF-8 password with other rounds and a short salt verifies");
	ok(fi_passlib_verify("admin123", 8, py_argon2, strlen(py_argon2), &m) == FI_SECRET_OK && m,
	   "passlib's argon2id hash verifies");
	ok(fi_passlib_verify("admin12", 7, py_argon2, strlen(py_argon2), &m) == FI_SECRET_OK && !m,
	   "a wrong password does not verify against argon2");

	{
		static const char *bad[] = {
			"", "plain", "$pbkdf2-sha256$", "$pbkdf2-sha256$29000$abc",
			"$pbkdf2-sha256$029000$MDEy$NHBlffTsUBBEsyzbUshC.4tfZ7ylPsyNjIqBqOJHiH4",
			"$pbkdf2-sha256$x$MDEy$NHBlffTsUBBEsyzbUshC.4tfZ7ylPsyNjIqBqOJHiH4",
			"$pbkdf2-sha256$29000$MDEy$NHBl",
			"$pbkdf2-sha256$29000$M!Ey$NHBlffTsUBBEsyzbUshC.4tfZ7ylPsyNjIqBqOJHiH4",
			"$pbkdf2-sha256$29000$MDEy$NHBlffTsUBBEsyzbUshC.4tfZ7ylPsyNjIqBqOJHiH4$x",
			"$argon2id$v=19$m=1024,t=2,p=1$c2Fs",
			"$argon2id$garbage",
			"$bcrypt$2b$12$abc",
		};
		int			i,
					all = 1;

		for (i = 0; i < (int) (sizeof(bad) / sizeof(bad[0])); i++)
		{
			FiSecretErr e = fi_passlib_verify("x", 1, bad[i], strlen(bad[i]), &m);

			if (e != FI_SECRET_BAD_HASH)
			{
				printf("#   not refused as malformed: '%s' (%d)\n", bad[i], e);
				all = 0;
			}
		}
		ok(all, "malformed hashes are refused as malformed");
	}
	{
		const char *huge_rounds = "$pbkdf2-sha256$99999999$MDEy$NHBlffTsUBBEsyzbUshC.4tfZ7ylPsyNjIqBqOJHiH4";
		const char *huge_mem = "$argon2id$v=19$m=4194304,t=2,p=1$c2FsdHNhbHRzYWx0c2FsdA$sU//NWANGVpoTSt/Imj4jQ";

		ok(fi_passlib_verify("x", 1, huge_rounds, strlen(huge_rounds), &m) == FI_SECRET_HASH_LIMITS,
		   "pbkdf2 rounds above the cap are refused before hashing");
		ok(fi_passlib_verify("x", 1, huge_mem, strlen(huge_mem), &m) == FI_SECRET_HASH_LIMITS,
		   "argon2 memory above the cap is refused before hashing");
	}
}

static void
test_hmac_random(void)
{
	unsigned char d[32];
	char		out[80];
	const char *body = "{\"name\": \"ACC-SINV-2024-00001\", \"grand_total\": 1180.0, "
		"\"customer\": \"Caf\\u00e9 \\u00dcn\\u00efcode\", \"posting_date\": \"2024-05-06\", "
		"\"items\": [{\"item_code\": \"X\", \"qty\": 2.0}]}";

	fi_hmac_sha256((const unsigned char *) "s3cr3t", 6, (const unsigned char *) body, strlen(body), d);
	fi_b64_encode(d, 32, out, FI_B64_STD);
	is_str(out, "wZuZTVDmXMQGIXoQbYFinj9NaSIT0lZ1dm0/Ng6+bms=", "HMAC of Frappe's webhook vector (facts 1.9)");
	fi_hmac_sha256((const unsigned char *) "Jefe", 4,
				   (const unsigned char *) "what do ya want for nothing?", 28, d);
	fi_hex_encode(d, 32, out);
	is_str(out, "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843",
		   "HMAC of RFC 4231 case 2");
	fi_hmac_sha256((const unsigned char *) "", 0, (const unsigned char *) "", 0, d);
	fi_hex_encode(d, 32, out);
	is_str(out, "b613679a0814d9ec772f95d778c35fc5ff1697c493715653c6c712144292c5ad",
		   "HMAC with an empty key and message");

	{
		unsigned char rnd[10] = {0, 1, 9, 10, 31, 32, 63, 200, 255, 17};

		fi_random_base32hex(rnd, 10, out);
		is_str(out, "019av0v8vh", "base32hex maps 5 bits to 0-9a-v");
	}
	{
		unsigned char rnd[6] = {247, 248, 255, 0, 61, 62};
		char		t[8];
		size_t		got = fi_random_from_alphabet(rnd, 6, fi_oauth_token_alphabet, 6, t);

		t[got] = '\0';
		is_str(t, "9a9a", "bytes >= 248 are rejected (no modulo bias), others map by modulo 62");
	}
}

/* signatures: published vectors (frappe-facts 1.9; Standard Webhooks' own tests) */
static void
test_signatures(void)
{
	const char *body = "{\"name\": \"ACC-SINV-2024-00001\", \"grand_total\": 1180.0, \"customer\": \"Caf\\u00e9 \\u00dcn\\u00efcode\", \"posting_date\": \"2024-05-06\", \"items\": [{\"item_code\": \"X\", \"qty\": 2.0}]}";
	const char *fsig = "wZuZTVDmXMQGIXoQbYFinj9NaSIT0lZ1dm0/Ng6+bms=";
	const char *sw = "{\"test\": 2432232314}";
	const char *sws = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
	const char *swh = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=";

	ok(fi_sig_hmac_base64("s3cr3t", 6, (const unsigned char *) body, strlen(body), fsig, strlen(fsig)) == FI_SIG_OK,
	   "frappe: the documented vector");
	ok(fi_sig_hmac_base64("s3cr3t", 6, (const unsigned char *) body, strlen(body) - 1, fsig, strlen(fsig)) == FI_SIG_MISMATCH,
	   "frappe: a byte less is a mismatch");
	ok(fi_sig_hmac_base64("s3cr3t", 6, (const unsigned char *) body, strlen(body), "abc", 3) == FI_SIG_MALFORMED,
	   "frappe: not 32 bytes of base64 is malformed");
	ok(fi_sig_standard_webhooks(sws, strlen(sws), "msg_p5jXN8AQM9LWM0D4loKWxJek", 28, "1614265330", 10,
								(const unsigned char *) sw, strlen(sw), swh, strlen(swh), 1614265330, 300) == FI_SIG_OK,
	   "standard webhooks: the published vector");
	ok(fi_sig_standard_webhooks(sws, strlen(sws), "msg_p5jXN8AQM9LWM0D4loKWxJek", 28, "1614265330", 10,
								(const unsigned char *) sw, strlen(sw), swh, strlen(swh), 1614265330 + 301, 300) == FI_SIG_TOO_OLD,
	   "standard webhooks: 301 s later, outside 300 s");
	ok(fi_sig_standard_webhooks("whsec_%%", 8, "m", 1, "1", 1, (const unsigned char *) "", 0, swh, strlen(swh), 1, -1) == FI_SIG_BAD_SECRET,
	   "standard webhooks: a secret that is not base64");
	ok(fi_sig_stripe("k", 1, (const unsigned char *) "x", 1, "v1=00", 5, 0, -1) == FI_SIG_MALFORMED,
	   "stripe: no timestamp is malformed");
	ok(fi_sig_hmac_hex("k", 1, (const unsigned char *) "x", 1,
					   "00000000000000000000000000000000000000000000000000000000000000zz", 64) == FI_SIG_MALFORMED,
	   "hex: a non-hex digit is malformed");
}

static void
html_is(const char *in, const char *want, const char *desc)
{
	char		out[256];

	fi_html_to_text(in, strlen(in), out);
	is_str(out, want, desc);
}

static void
test_html_compare(void)
{
	html_is("<p>Hello <b>World</b></p><p>x &amp; y&nbsp;z</p>", "Hello World x & y z", "HTML: tags dropped, blocks apart, references decoded");
	html_is("a<br>b<br/>c", "a, b, c", "HTML: a line break as ', '");
	html_is("&#233;t&#xE9; &lt;tag&gt; &unknown;", "\xc3\xa9t\xc3\xa9 <tag> &unknown;", "HTML: numeric references as UTF-8, unknown ones kept");
	html_is("open <unclosed", "open", "HTML: an unclosed '<' ends the text");
	html_is("<div>  spaced \n\t out </div>", "spaced out", "HTML: blank runs are one blank");
	ok(fi_html_looks_like("a<b>", 4) && !fi_html_looks_like("a < b", 5), "HTML: only text with '<' and '>' is HTML");
	ok(fi_frappe_compare("150", ">", "100", FI_CMP_FLOAT) == 1 && fi_frappe_compare("50", ">", "100", FI_CMP_FLOAT) == 0,
	   "compare: Float compares numbers (not text: '50' > '100')");
	ok(fi_frappe_compare("junk", "=", "0", FI_CMP_FLOAT) == 1, "compare: flt() of junk is 0");
	ok(fi_frappe_compare("true", "=", "1", FI_CMP_INT) == 1 && fi_frappe_compare("2.9", "=", "2", FI_CMP_INT) == 1,
	   "compare: Check/Int: sbool, then cint (truncated)");
	ok(fi_frappe_compare(NULL, "=", "", FI_CMP_TEXT) == 1 && fi_frappe_compare("b", ">=", "a", FI_CMP_TEXT) == 1,
	   "compare: text: None is \"\", ordered by code point");
	ok(fi_frappe_compare(NULL, "=", "x", FI_CMP_NONE) == 0 && fi_frappe_compare(NULL, "!=", "x", FI_CMP_NONE) == 1 &&
	   fi_frappe_compare(NULL, "<", "x", FI_CMP_NONE) == 0, "compare: no cast: None equals nothing, orders with nothing");
	ok(fi_frappe_compare("a", "like", "a", FI_CMP_TEXT) == -1, "compare: an operator the rules do not offer");
	ok(fi_compare_kind("Currency") == FI_CMP_FLOAT && fi_compare_kind("Check") == FI_CMP_INT &&
	   fi_compare_kind("Link") == FI_CMP_TEXT && fi_compare_kind("Time") == FI_CMP_NONE, "compare: each fieldtype's cast");
}

int
main(void)
{
	test_b64();
	test_fernet();
	test_passlib();
	test_hmac_random();
	test_signatures();
	test_html_compare();
	printf("1..%d\n", n_test);
	return n_fail == 0 ? 0 : 1;
}
