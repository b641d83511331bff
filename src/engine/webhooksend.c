/*
 * webhooksend.c
 *		The headers, log text and retry policy of a webhook delivery (see
 *		webhooksend.h).
 */
#include "engine/webhooksend.h"

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <curl/curl.h>

#include "engine/codec.h"
#include "engine/httpreq.h"
#include "engine/jsoncanon.h"
#include "engine/secretfmt.h"

/* base64 of HMAC-SHA256(key, msg) into out (45 bytes) */
static bool
b64_hmac(const unsigned char *key, size_t keylen, const char *msg, size_t msglen, char *out)
{
	unsigned char mac[FI_SHA256_LEN];
	bool		ok = fi_hmac_sha256(key, keylen, (const unsigned char *) msg, msglen, mac) == FI_SECRET_OK;

	if (ok)
		fi_b64_encode(mac, sizeof(mac), out, FI_B64_STD);
	memset(mac, 0, sizeof(mac));
	return ok;
}

static int
hdr_cmp(const void *a, const void *b)
{
	return strcmp(((const FiSendHeader *) a)->name, ((const FiSendHeader *) b)->name);
}

static char *
dup(FiAlloc alloc, void *arg, const char *s)
{
	return fi_alloc_strndup(alloc, arg, s, strlen(s));
}

bool
fi_webhook_send_headers(const char *event_id, const char *secret, const char *body, size_t bodylen,
						long long now, int nrows, const char *const *row_names,
						const char *const *row_values, FiSendHeaders *out, FiAlloc alloc, void *arg)
{
	int			cap = nrows + 5;
	FiSendHeader *h = alloc(arg, sizeof(FiSendHeader) * cap);
	FiSendHeader *sorted;
	int			n = 0;
	char		sig[64];
	char		ts[32];
	char	   *msgid = fi_alloc_concat(alloc, arg, "msg_", event_id, "", "");
	bool		have_ct = false;
	FiJBuf		log = {0};

	memset(out, 0, sizeof(*out));
	snprintf(ts, sizeof(ts), "%lld", now);
	if (secret)
	{
		if (!b64_hmac((const unsigned char *) secret, strlen(secret), body, bodylen, sig))
		{
			out->error = dup(alloc, arg, "HMAC-SHA256 failed");
			return false;
		}
		h[n].name = "X-Frappe-Webhook-Signature";
		h[n++].value = dup(alloc, arg, sig);
	}
	h[n].name = "webhook-id";
	h[n++].value = msgid;
	h[n].name = "webhook-timestamp";
	h[n++].value = dup(alloc, arg, ts);
	if (secret && strncmp(secret, "whsec_", 6) == 0)
	{
		const char *k64 = secret + 6;
		size_t		k64len = strlen(k64);
		unsigned char *key = alloc(arg, fi_b64_decoded_maxlen(k64len) + 1);
		long		klen = fi_b64_decode(k64, k64len, key, FI_B64_STD);
		size_t		idlen = strlen(msgid),
					tslen = strlen(ts);
		char	   *m;
		bool		ok;

		if (klen <= 0)
		{
			out->error = dup(alloc, arg, "the webhook secret starts with whsec_ but the rest is not base64");
			return false;
		}
		m = alloc(arg, idlen + tslen + bodylen + 3);
		memcpy(m, msgid, idlen);
		m[idlen] = '.';
		memcpy(m + idlen + 1, ts, tslen);
		m[idlen + 1 + tslen] = '.';
		memcpy(m + idlen + tslen + 2, body, bodylen);
		ok = b64_hmac(key, (size_t) klen, m, idlen + tslen + 2 + bodylen, sig);
		memset(key, 0, (size_t) klen);
		if (!ok)
		{
			out->error = dup(alloc, arg, "HMAC-SHA256 failed");
			return false;
		}
		h[n].name = "webhook-signature";
		h[n++].value = fi_alloc_concat(alloc, arg, "v1,", sig, "", "");
	}

	/* the Webhook Header rows replace ours of the same name */
	for (int r = 0; r < nrows; r++)
	{
		int			j;

		if (row_names[r] == NULL || row_values[r] == NULL)
			continue;
		for (j = 0; j < n; j++)
			if (strcasecmp(h[j].name, row_names[r]) == 0)
				break;
		if (j == n)
			n++;
		h[j].name = row_names[r];
		h[j].value = row_values[r];
		if (strcasecmp(row_names[r], "Content-Type") == 0)
			have_ct = true;
	}
	if (!have_ct)
	{
		h[n].name = "Content-Type";
		h[n++].value = "application/json";
	}
	for (int i = 0; i < n; i++)
		if (strpbrk(h[i].name, "\r\n:") || strpbrk(h[i].value, "\r\n"))
		{
			out->error = fi_alloc_concat(alloc, arg, "the header \"", h[i].name, "\" contains a line break", "");
			return false;
		}

	/* as Frappe logs them: as_json, sorted, one-space indent; credentials masked */
	sorted = alloc(arg, sizeof(FiSendHeader) * (n + 1));
	memcpy(sorted, h, sizeof(FiSendHeader) * n);
	qsort(sorted, n, sizeof(FiSendHeader), hdr_cmp);
	fi_jbuf_put(&log, "{", 1);
	for (int i = 0; i < n; i++)
	{
		const char *v = fi_http_secret_name(sorted[i].name, strlen(sorted[i].name)) ? "********" : sorted[i].value;

		fi_jbuf_put(&log, i ? ",\n " : "\n ", i ? 3 : 2);
		fi_json_put_string(&log, sorted[i].name, strlen(sorted[i].name));
		fi_jbuf_put(&log, ": ", 2);
		fi_json_put_string(&log, v, strlen(v));
	}
	fi_jbuf_put(&log, "\n}", 2);
	if (log.oom)
	{
		fi_jbuf_free(&log);
		out->error = dup(alloc, arg, "out of memory");
		return false;
	}
	out->logged = fi_alloc_strndup(alloc, arg, log.data, log.len);
	fi_jbuf_free(&log);
	out->n = n;
	out->h = h;
	return true;
}

FiOutcome
fi_webhook_outcome(long http_status, bool no_retry, int attempt, int max_attempts, int base_ms,
				   int retry_after_s, uint32_t jitter, int64_t *delay_ms)
{
	bool		retry;
	double		delay;

	if (http_status >= 200 && http_status < 300)
		return FI_OUTCOME_DELIVERED;
	if (http_status == 0)
		retry = !no_retry;		/* a transport error */
	else
		retry = http_status == 408 || http_status == 429 || http_status >= 500;
	if (!retry || attempt >= max_attempts)
		return FI_OUTCOME_FAILED;
	delay = (double) base_ms * pow(2.0, attempt - 1 < 20 ? attempt - 1 : 20) *
		(0.5 + (double) jitter / 4294967296.0);
	if (delay > 3600.0 * 1000)
		delay = 3600.0 * 1000;
	if (retry_after_s >= 0)
		delay = (double) retry_after_s * 1000;	/* the receiver said when */
	*delay_ms = (int64_t) delay;
	return FI_OUTCOME_RETRY;
}

int
fi_retry_after_seconds(const char *value, size_t n, long long now, long long (*parse_date) (const char *text))
{
	char		text[128];
	size_t		i = 0;

	while (i < n && (value[i] == ' ' || value[i] == '\t'))
		i++;
	while (n > i && isspace((unsigned char) value[n - 1]))
		n--;
	if (i == n || n - i >= sizeof(text))
		return -1;
	memcpy(text, value + i, n - i);
	text[n - i] = '\0';
	if (isdigit((unsigned char) text[0]))
	{
		long		s = strtol(text, NULL, 10);

		return s > 24 * 3600 ? 24 * 3600 : (int) s;
	}
	if (parse_date)
	{
		long long	when = parse_date(text);

		if (when > 0)
		{
			long long	d = when - now;

			return d < 0 ? 0 : d > 24 * 3600 ? 24 * 3600 : (int) d;
		}
	}
	return -1;
}

static long long
curl_date(const char *text)
{
	return (long long) curl_getdate(text, NULL);
}

int
fi_retry_after_line(const char *line, size_t n, long long now)
{
	if (n <= 12 || strncasecmp(line, "Retry-After:", 12) != 0)
		return -1;
	return fi_retry_after_seconds(line + 12, n - 12, now, curl_date);
}
