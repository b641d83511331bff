/*
 * httpreq.c
 *		Outbound HTTP's rules and one transfer (see httpreq.h).
 */
#include "engine/httpreq.h"

#include <ctype.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <curl/curl.h>

#include "engine/codec.h"
#include "engine/csv.h"

static bool curl_ok = false;
static pthread_once_t curl_once = PTHREAD_ONCE_INIT;

static void
curl_setup(void)
{
	curl_ok = curl_global_init(CURL_GLOBAL_ALL) == CURLE_OK;
}

bool
fi_http_global_init(void)
{
	pthread_once(&curl_once, curl_setup);
	return curl_ok;
}

static void
set_err(FiHttpError *err, const char *sqlstate, const char *detail, const char *hint, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));

static void
set_err(FiHttpError *err, const char *sqlstate, const char *detail, const char *hint, const char *fmt, ...)
{
	va_list		ap;

	err->sqlstate = sqlstate;
	va_start(ap, fmt);
	vsnprintf(err->message, sizeof(err->message), fmt, ap);
	va_end(ap);
	snprintf(err->detail, sizeof(err->detail), "%s", detail ? detail : "");
	snprintf(err->hint, sizeof(err->hint), "%s", hint ? hint : "");
}

bool
fi_http_method_known(const char *method)
{
	static const char *const methods[] = {"GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"};

	for (size_t i = 0; i < sizeof(methods) / sizeof(methods[0]); i++)
		if (strcmp(method, methods[i]) == 0)
			return true;
	return false;
}

bool
fi_http_token(const char *s, size_t n)
{
	if (n == 0)
		return false;
	for (size_t i = 0; i < n; i++)
	{
		unsigned char c = (unsigned char) s[i];

		if (c == 0 || !(isalnum(c) || strchr("!#$%&'*+-.^_`|~", c) != NULL))
			return false;
	}
	return true;
}

/* does the lower-cased name[0..n) contain w? */
static bool
contains_ci(const char *name, size_t n, const char *w)
{
	size_t		wn = strlen(w);

	for (size_t i = 0; i + wn <= n; i++)
		if (strncasecmp(name + i, w, wn) == 0)
			return true;
	return false;
}

bool
fi_http_secret_name(const char *name, size_t n)
{
	static const char *const exact[] = {"authorization", "proxy-authorization", "cookie", "set-cookie"};
	static const char *const parts[] = {"token", "secret", "password", "passwd", "key", "signature",
	"auth", "private", "session", "credential", "cookie"};

	for (size_t i = 0; i < sizeof(exact) / sizeof(exact[0]); i++)
		if (strlen(exact[i]) == n && strncasecmp(name, exact[i], n) == 0)
			return true;
	for (size_t i = 0; i < sizeof(parts) / sizeof(parts[0]); i++)
		if (contains_ci(name, n, parts[i]))
			return true;
	return false;
}

static void
copy_host(CURLU *u, char *host, size_t hostcap)
{
	char	   *h = NULL;

	if (curl_url_get(u, CURLUPART_HOST, &h, 0) != CURLUE_OK || h == NULL)
		snprintf(host, hostcap, "?");
	else
		snprintf(host, hostcap, "%s", h);
	curl_free(h);
}

bool
fi_http_check_request(const char *method, const char *url, int timeout_ms, char *host, size_t hostcap, FiHttpError *err)
{
	CURLU	   *u;
	char	   *scheme = NULL;

	if (!fi_http_method_known(method))
	{
		set_err(err, "22023", NULL, "Use GET, POST, PUT, PATCH, DELETE, HEAD or OPTIONS.",
				"unknown HTTP method \"%.64s\"", method);
		return false;
	}
	if (timeout_ms < 1 || timeout_ms > 600000)
	{
		char		d[64];

		snprintf(d, sizeof(d), "It was %d.", timeout_ms);
		set_err(err, "22023", d, NULL, "timeout_ms must be between 1 and 600000");
		return false;
	}
	if (strlen(url) > 8192 || strpbrk(url, " \t\r\n") != NULL)
	{
		set_err(err, "22023", "A URL has no blanks or line breaks and is at most 8192 characters.", NULL,
				"malformed URL");
		return false;
	}
	if ((u = curl_url()) == NULL)
	{
		set_err(err, "53200", NULL, NULL, "out of memory");
		return false;
	}
	if (curl_url_set(u, CURLUPART_URL, url, CURLU_NON_SUPPORT_SCHEME) != CURLUE_OK ||
		curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK)
	{
		curl_url_cleanup(u);
		set_err(err, "22023", "Expected http://host/… or https://host/….", NULL, "malformed URL");
		return false;
	}
	if (strcasecmp(scheme, "http") != 0 && strcasecmp(scheme, "https") != 0)
	{
		set_err(err, "22023", NULL, "Only http and https.", "URL scheme \"%.32s\" is not allowed", scheme);
		curl_free(scheme);
		curl_url_cleanup(u);
		return false;
	}
	curl_free(scheme);
	copy_host(u, host, hostcap);
	curl_url_cleanup(u);
	return true;
}

void
fi_http_url_host(const char *url, char *host, size_t hostcap)
{
	CURLU	   *u = curl_url();

	if (u != NULL && curl_url_set(u, CURLUPART_URL, url, CURLU_NON_SUPPORT_SCHEME) == CURLUE_OK)
		copy_host(u, host, hostcap);
	else
		snprintf(host, hostcap, "?");
	curl_url_cleanup(u);
}

bool
fi_http_add_header(void **list, const char *name, size_t nn, const char *value, size_t vn, FiHttpError *err)
{
	struct curl_slist *nl;
	char	   *line;

	if (!fi_http_token(name, nn))
	{
		set_err(err, "22023", "Header names are letters, digits and !#$%&'*+-.^_`|~; no blanks, colons, CR or LF.",
				NULL, "a header name is not a valid HTTP token");
		return false;
	}
	for (size_t i = 0; i < vn; i++)
		if (value[i] == '\r' || value[i] == '\n' || value[i] == '\0')
		{
			set_err(err, "22023", "CR and LF in a header would let a value inject headers.", NULL,
					"the value of header \"%.*s\" contains a line break", (int) (nn > 200 ? 200 : nn), name);
			return false;
		}
	if ((line = malloc(nn + vn + 3)) == NULL)
	{
		set_err(err, "53200", NULL, NULL, "out of memory building the request headers");
		return false;
	}
	memcpy(line, name, nn);
	if (vn == 0)
		memcpy(line + nn, ";", 2);
	else
	{
		memcpy(line + nn, ": ", 2);
		memcpy(line + nn + 2, value, vn);
		line[nn + 2 + vn] = '\0';
	}
	nl = curl_slist_append((struct curl_slist *) *list, line);
	free(line);
	if (nl == NULL)
	{
		set_err(err, "53200", NULL, NULL, "out of memory building the request headers");
		return false;
	}
	*list = nl;
	return true;
}

void
fi_http_free_headers(void *list)
{
	curl_slist_free_all((struct curl_slist *) list);
}

char *
fi_http_log_url(const char *url, FiAlloc alloc, void *arg)
{
	CURLU	   *u = curl_url();
	char	   *out = NULL,
			   *q = NULL,
			   *res;

	if (u == NULL)
		return fi_alloc_strndup(alloc, arg, url, strlen(url));
	if (curl_url_set(u, CURLUPART_URL, url, CURLU_NON_SUPPORT_SCHEME) == CURLUE_OK)
	{
		curl_url_set(u, CURLUPART_USER, NULL, 0);
		curl_url_set(u, CURLUPART_PASSWORD, NULL, 0);
		if (curl_url_get(u, CURLUPART_QUERY, &q, 0) == CURLUE_OK && q != NULL)
		{
			size_t		ql = strlen(q);
			char	   *nq = malloc(ql + 9 * (ql / 2 + 1) + 1);	/* scratch: freed below */
			size_t		o = 0;
			const char *p = q;

			if (nq == NULL)
			{
				curl_free(q);
				curl_url_cleanup(u);
				return NULL;
			}
			while (*p)
			{
				size_t		n = strcspn(p, "&");
				const char *eq = memchr(p, '=', n);

				if (o)
					nq[o++] = '&';
				if (eq && fi_http_secret_name(p, (size_t) (eq - p)))
				{
					memcpy(nq + o, p, (size_t) (eq - p));
					o += eq - p;
					memcpy(nq + o, "=********", 9);
					o += 9;
				}
				else
				{
					memcpy(nq + o, p, n);
					o += n;
				}
				p += n;
				if (*p == '&')
					p++;
			}
			nq[o] = '\0';
			curl_url_set(u, CURLUPART_QUERY, nq, 0);
			free(nq);
			curl_free(q);
		}
		if (curl_url_get(u, CURLUPART_URL, &out, 0) != CURLUE_OK)
			out = NULL;
	}
	res = out ? fi_alloc_strndup(alloc, arg, out, strlen(out)) : fi_alloc_strndup(alloc, arg, url, strlen(url));
	if (out)
		curl_free(out);
	curl_url_cleanup(u);
	return res;
}

/* ---- the response's headers as one JSON object ---- */

typedef struct HName
{
	const char *name;			/* lower-cased copy, NUL-terminated */
	size_t		len;
	FiJBuf		value;
} HName;

static uint64_t
hash_name(const char *s, size_t n)
{
	uint64_t	h = 1469598103934665603ULL;

	for (size_t i = 0; i < n; i++)
		h = (h ^ (unsigned char) s[i]) * 1099511628211ULL;
	return h;
}

/* text as a JSON string: itself when UTF-8, else its cp1252 reading */
static bool
put_text(FiJBuf *b, const char *s, size_t n)
{
	size_t		bad;
	char	   *o;
	long		l;
	bool		ok;

	n = strnlen(s, n);			/* (a NUL from the network ends the value, as it always did) */
	if (fi_utf8_valid(s, n, &bad))
		return fi_json_put_string(b, s, n);
	if ((o = malloc(3 * n + 1)) == NULL)
		return (b->oom = true, false);
	l = fi_cp1252_to_utf8((const unsigned char *) s, n, o, &bad);
	ok = fi_json_put_string(b, o, l < 0 ? 0 : (size_t) l);
	free(o);
	return ok;
}

bool
fi_http_headers_json(const char *raw, size_t n, FiJBuf *out)
{
	HName	   *names = NULL;
	size_t		nn = 0,
				ncap = 0,
				tcap = 0;
	int32_t    *table = NULL;	/* index + 1 into names; 0: empty */
	const char *p = raw,
			   *endall = raw + n;
	bool		ok = true;

	while (p < endall && ok)
	{
		const char *eol = memchr(p, '\n', endall - p);
		const char *end = eol ? eol : endall;
		const char *colon = memchr(p, ':', end - p);

		if (colon && colon > p && !(end - p >= 5 && memcmp(p, "HTTP/", 5) == 0) && memchr(p, '\0', colon - p) == NULL)
		{
			const char *vs = colon + 1,
					   *ve = end;
			size_t		len = colon - p;
			char		lower[256];
			const char *key;
			uint64_t	h;
			size_t		slot;
			HName	   *e = NULL;

			while (vs < ve && (*vs == ' ' || *vs == '\t'))
				vs++;
			while (ve > vs && (ve[-1] == '\r' || ve[-1] == ' ' || ve[-1] == '\t'))
				ve--;
			/* grow the table to keep it at most half full */
			if (2 * (nn + 1) > tcap)
			{
				size_t		nt = tcap ? 2 * tcap : 64;
				int32_t    *t2 = calloc(nt, sizeof(int32_t));

				if (t2 == NULL)
				{
					ok = false;
					break;
				}
				for (size_t i = 0; i < nn; i++)
				{
					size_t		s = hash_name(names[i].name, names[i].len) & (nt - 1);

					while (t2[s])
						s = (s + 1) & (nt - 1);
					t2[s] = (int32_t) (i + 1);
				}
				free(table);
				table = t2;
				tcap = nt;
			}
			{
				char	   *lc = len < sizeof(lower) ? lower : malloc(len + 1);

				if (lc == NULL)
				{
					ok = false;
					break;
				}
				for (size_t i = 0; i < len; i++)
					lc[i] = (char) tolower((unsigned char) p[i]);
				lc[len] = '\0';
				key = lc;
				h = hash_name(key, len);
				for (slot = h & (tcap - 1); table[slot]; slot = (slot + 1) & (tcap - 1))
					if (names[table[slot] - 1].len == len && memcmp(names[table[slot] - 1].name, key, len) == 0)
					{
						e = &names[table[slot] - 1];
						break;
					}
				if (e == NULL)
				{
					if (nn == ncap)
					{
						size_t		nc = ncap ? 2 * ncap : 16;
						HName	   *n2 = realloc(names, nc * sizeof(HName));

						if (n2 == NULL)
						{
							if (lc != lower)
								free(lc);
							ok = false;
							break;
						}
						names = n2;
						ncap = nc;
					}
					e = &names[nn];
					memset(e, 0, sizeof(*e));
					e->len = len;
					e->name = lc != lower ? lc : strndup(lc, len);
					if (e->name == NULL)
					{
						ok = false;
						break;
					}
					table[slot] = (int32_t) (++nn);
				}
				else
				{
					if (lc != lower)
						free(lc);
					ok = fi_jbuf_put(&e->value, ", ", 2);
				}
				ok = ok && fi_jbuf_put(&e->value, vs, ve - vs);
			}
		}
		p = eol ? eol + 1 : end;
	}
	ok = ok && fi_jbuf_put(out, "{", 1);
	for (size_t i = 0; i < nn && ok; i++)
	{
		if (i > 0)
			ok = fi_jbuf_put(out, ",", 1);
		ok = ok && put_text(out, names[i].name, names[i].len) && fi_jbuf_put(out, ":", 1) &&
			put_text(out, names[i].value.data ? names[i].value.data : "", names[i].value.len);
	}
	ok = ok && fi_jbuf_put(out, "}", 1);
	for (size_t i = 0; i < nn; i++)
	{
		free((char *) names[i].name);
		fi_jbuf_free(&names[i].value);
	}
	free(names);
	free(table);
	return ok && !out->oom;
}

const char *
fi_http_curl_error_text(int rc, const char *errbuf)
{
	if (rc == CURLE_UNSUPPORTED_PROTOCOL)
		return errbuf && strstr(errbuf, "HTTP/0.9") ?
			"the server's answer is not an HTTP response" :
			"redirected to a scheme other than http or https";
	if (rc == CURLE_OUT_OF_MEMORY && errbuf && errbuf[0] == '\0')
		return "a response header is larger than libcurl accepts (100 kB)";
	if (rc == CURLE_WEIRD_SERVER_REPLY)
		return "the server's answer is not a valid HTTP response";
	return NULL;
}

void
fi_http_only(void *easy)
{
	CURL	   *e = (CURL *) easy;

#if LIBCURL_VERSION_NUM >= 0x075500
	curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(e, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
#else
	curl_easy_setopt(e, CURLOPT_PROTOCOLS, (long) (CURLPROTO_HTTP | CURLPROTO_HTTPS));
	curl_easy_setopt(e, CURLOPT_REDIR_PROTOCOLS, (long) (CURLPROTO_HTTP | CURLPROTO_HTTPS));
#endif
}

void
fi_http_easy_setup(void *easy, const char *method, const char *url, void *headers, const char *body,
				   size_t bodylen, int timeout_ms, int max_redirects, const char *ca_bundle, const char *user_agent)
{
	CURL	   *e = (CURL *) easy;

	curl_easy_setopt(e, CURLOPT_URL, url);
	fi_http_only(e);
	curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, max_redirects > 0 ? 1L : 0L);
	curl_easy_setopt(e, CURLOPT_MAXREDIRS, (long) max_redirects);
	curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, (long) timeout_ms);
	curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, (long) timeout_ms);
	curl_easy_setopt(e, CURLOPT_HTTPHEADER, (struct curl_slist *) headers);
	if (user_agent)
		curl_easy_setopt(e, CURLOPT_USERAGENT, user_agent);
	curl_easy_setopt(e, CURLOPT_ACCEPT_ENCODING, "");
	if (ca_bundle && ca_bundle[0])
		curl_easy_setopt(e, CURLOPT_CAINFO, ca_bundle);
	if (strcmp(method, "HEAD") == 0)
		curl_easy_setopt(e, CURLOPT_NOBODY, 1L);
	else if (strcmp(method, "GET") != 0)
		curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, method);
	if (body != NULL)
	{
		curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t) bodylen);
		curl_easy_setopt(e, CURLOPT_POSTFIELDS, body);
	}
}

/* ---- one transfer ---- */

static size_t
on_body(char *p, size_t size, size_t nmemb, void *arg)
{
	FiHttpTransfer *t = arg;
	size_t		n = size * nmemb;

	if (t->body.len + n > t->cap)
	{
		t->too_big = true;
		return 0;				/* aborts the transfer */
	}
	return fi_jbuf_put(&t->body, p, n) ? n : 0;
}

bool
fi_http_keep_header_line(FiJBuf *headers, const char *line, size_t n)
{
	/* a new status line: the headers of a redirect before it are dropped */
	if (n >= 5 && memcmp(line, "HTTP/", 5) == 0)
		headers->len = 0;
	if (headers->len + n < 1024 * 1024 && !fi_jbuf_put(headers, line, n))
		return false;
	if (headers->data)
		headers->data[headers->len] = '\0';
	return true;
}

static size_t
on_header(char *p, size_t size, size_t nmemb, void *arg)
{
	FiHttpTransfer *t = arg;
	size_t		n = size * nmemb;

	return fi_http_keep_header_line(&t->headers, p, n) ? n : 0;
}

/* ---- headers from JSON ---- */

typedef struct JsonHeaders
{
	void	  **list;
	FiJBuf	   *log;
	bool	   *log_first;
	FiHttpError *err;
	bool		bad;
} JsonHeaders;

static bool
json_header(void *arg, const char *key, size_t klen, bool is_string, const char *val, size_t vlen)
{
	JsonHeaders *h = arg;

	if (!is_string)
	{
		set_err(h->err, "22023", NULL, NULL, "the value of header \"%.*s\" must be a string",
				(int) (klen > 200 ? 200 : klen), key);
		h->bad = true;
		return false;
	}
	if (!fi_http_add_header(h->list, key, klen, val, vlen, h->err))
	{
		h->bad = true;
		return false;
	}
	if (h->log)
		fi_http_log_header(h->log, h->log_first, key, klen, val, vlen);
	return true;
}

bool
fi_http_headers_from_json(const char *json, size_t n, void **list, FiJBuf *log, bool *log_first, FiHttpError *err)
{
	JsonHeaders h = {list, log, log_first, err, false};
	char		msg[200];
	bool		is_object = true;
	FiJsonErr	je;

	if (json == NULL || n == 0)
		return true;
	je = fi_json_each_member(json, n, 100, json_header, &h, &is_object, msg, sizeof(msg));
	if (je != FI_JSON_OK)
	{
		set_err(err, je == FI_JSON_NOMEM ? "53200" : je == FI_JSON_UNICODE ? "22P05" : je == FI_JSON_DEPTH ? "54001" : "22P02",
				NULL, NULL, "invalid JSON in headers: %s", msg);
		return false;
	}
	if (h.bad)
		return false;
	if (!is_object)
	{
		set_err(err, "22023", NULL, NULL, "headers must be a JSON object of strings");
		return false;
	}
	return true;
}

bool
fi_http_begin(FiHttpTransfer *t, const FiHttpRequest *r, FiHttpError *err)
{
	memset(t, 0, sizeof(*t));
	t->cap = r->max_response;
	if (!fi_http_global_init() || (t->easy = curl_easy_init()) == NULL || (t->multi = curl_multi_init()) == NULL)
	{
		set_err(err, "XX000", NULL, NULL, "libcurl could not make a transfer");
		return false;
	}
	fi_http_easy_setup(t->easy, r->method, r->url, r->headers, r->body, r->bodylen, r->timeout_ms,
					   r->max_redirects, r->ca_bundle, r->user_agent);
	curl_easy_setopt(t->easy, CURLOPT_ERRORBUFFER, t->errbuf);
	curl_easy_setopt(t->easy, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(t->easy, CURLOPT_WRITEDATA, t);
	curl_easy_setopt(t->easy, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(t->easy, CURLOPT_HEADERDATA, t);
	if (curl_multi_add_handle(t->multi, t->easy) != CURLM_OK)
	{
		set_err(err, "XX000", NULL, NULL, "libcurl could not make a transfer");
		return false;
	}
	t->added = true;
	t->result = -1;
	return true;
}

bool
fi_http_step(FiHttpTransfer *t, int wait_ms)
{
	int			running = 0,
				left;
	CURLMsg    *msg;

	if (t->result != -1)
		return false;
	if (curl_multi_perform(t->multi, &running) != CURLM_OK)
	{
		t->result = CURLE_FAILED_INIT;
		return false;
	}
	if (running)
	{
		curl_multi_poll(t->multi, NULL, 0, wait_ms, NULL);
		return true;
	}
	t->result = CURLE_OK;
	while ((msg = curl_multi_info_read(t->multi, &left)) != NULL)
		if (msg->msg == CURLMSG_DONE)
			t->result = msg->data.result;
	curl_easy_getinfo(t->easy, CURLINFO_RESPONSE_CODE, &t->status);
	return false;
}

bool
fi_http_outcome(const FiHttpTransfer *t, const FiHttpRequest *r, const char *host, FiHttpError *err)
{
	const char *words;

	if (t->too_big)
	{
		set_err(err, "54000", NULL, NULL, "the response from %s is larger than %s (%zu kB)", host,
				r->max_response_setting ? r->max_response_setting : "the limit", r->max_response / 1024);
		return false;
	}
	if (t->body.oom || t->headers.oom)
	{
		set_err(err, "53200", NULL, NULL, "out of memory reading the response from %s", host);
		return false;
	}
	switch (t->result)
	{
		case CURLE_OK:
			return true;
		case CURLE_OPERATION_TIMEDOUT:
			set_err(err, "08006", NULL, NULL, "HTTP request to %s timed out after %d ms", host, r->timeout_ms);
			return false;
		case CURLE_TOO_MANY_REDIRECTS:
			set_err(err, "08006", NULL, NULL, "HTTP request to %s was redirected more than %d times", host,
					r->max_redirects);
			return false;
		case CURLE_UNSUPPORTED_PROTOCOL:
			if (strstr(t->errbuf, "HTTP/0.9") == NULL)
			{
				set_err(err, "08006", NULL, NULL,
						"HTTP request to %s was redirected to a scheme other than http or https", host);
				return false;
			}
			break;
		default:
			break;
	}
	words = fi_http_curl_error_text(t->result, t->errbuf);
	set_err(err, "08006", NULL, NULL, "HTTP request to %s failed: %s", host,
			words ? words : t->errbuf[0] ? t->errbuf : curl_easy_strerror((CURLcode) t->result));
	return false;
}

void
fi_http_end(FiHttpTransfer *t)
{
	if (t->multi && t->easy && t->added)
		curl_multi_remove_handle(t->multi, t->easy);
	t->added = false;
	if (t->easy)
		curl_easy_cleanup(t->easy);
	if (t->multi)
		curl_multi_cleanup(t->multi);
	t->easy = t->multi = NULL;
	fi_jbuf_free(&t->body);
	fi_jbuf_free(&t->headers);
}

bool
fi_http_log_header(FiJBuf *out, bool *first, const char *name, size_t nn, const char *value, size_t vn)
{
	if (*first)
		fi_jbuf_put(out, "{", 1);
	fi_jbuf_put(out, *first ? "\n " : ",\n ", *first ? 2 : 3);
	*first = false;
	fi_json_put_string(out, name, nn);
	fi_jbuf_put(out, ": ", 2);
	if (fi_http_secret_name(name, nn))
		fi_jbuf_put(out, "\"***\"", 5);
	else
		fi_json_put_string(out, value, vn);
	return !out->oom;
}

bool
fi_http_log_headers_end(FiJBuf *out, bool first)
{
	fi_jbuf_put(out, first ? "{}" : "\n}", 2);
	return !out->oom;
}

bool
fi_http_log_text(const char *b, size_t n, FiJBuf *out)
{
	size_t		bad_at;

	if (!memchr(b, '\0', n) && fi_utf8_valid(b, n, &bad_at))
		fi_jbuf_put(out, b, n);
	else
	{
		char		note[64];

		snprintf(note, sizeof(note), "(%zu bytes, not UTF-8 text)", n);
		fi_jbuf_put(out, note, strlen(note));
	}
	return !out->oom;
}

/* the length of the well-formed UTF-8 sequence at s (n > 0), or -(the maximal ill-formed part) */
static int
utf8_seq(const unsigned char *s, size_t n)
{
	unsigned char c = s[0],
				lo = 0x80,
				hi = 0xBF;
	int			need;

	if (c < 0x80)
		return c == 0 ? -1 : 1;
	if (c >= 0xC2 && c <= 0xDF)
		need = 1;
	else if (c >= 0xE0 && c <= 0xEF)
	{
		need = 2;
		if (c == 0xE0)
			lo = 0xA0;
		else if (c == 0xED)
			hi = 0x9F;
	}
	else if (c >= 0xF0 && c <= 0xF4)
	{
		need = 3;
		if (c == 0xF0)
			lo = 0x90;
		else if (c == 0xF4)
			hi = 0x8F;
	}
	else
		return -1;
	for (int k = 1; k <= need; k++)
	{
		if ((size_t) k >= n || s[k] < lo || s[k] > hi)
			return -k;
		lo = 0x80;
		hi = 0xBF;
	}
	return need + 1;
}

/* unquote_plus(s) with errors="replace", as JSON string text into out */
static void
put_unquoted(FiJBuf *out, const char *s, size_t n, FiJBuf *tmp)
{
	tmp->len = 0;
	for (size_t i = 0; i < n; i++)
	{
		char		c = s[i];

		if (c == '+')
			c = ' ';
		else if (c == '%' && i + 2 < n + 0 && fi_hex_value(s[i + 1]) >= 0 && fi_hex_value(s[i + 2]) >= 0)
		{
			c = (char) (fi_hex_value(s[i + 1]) << 4 | fi_hex_value(s[i + 2]));
			i += 2;
		}
		fi_jbuf_put(tmp, &c, 1);
	}
	{
		FiJBuf		clean = {0};
		const unsigned char *b = (const unsigned char *) (tmp->data ? tmp->data : "");
		size_t		i = 0;

		while (i < tmp->len)
		{
			int			k = utf8_seq(b + i, tmp->len - i);

			if (k > 0)
			{
				fi_jbuf_put(&clean, (const char *) b + i, (size_t) k);
				i += k;
			}
			else
			{
				fi_jbuf_put(&clean, "\xEF\xBF\xBD", 3);
				i += -k;
			}
		}
		fi_json_put_string(out, clean.data ? clean.data : "", clean.len);
		if (clean.oom)
			out->oom = true;
		fi_jbuf_free(&clean);
	}
}

typedef struct QsPair
{
	const char *k;
	size_t		kn;
	const char *v;
	size_t		vn;
	size_t		order;			/* the pair's place */
	size_t		first;			/* the place of its key's first pair */
} QsPair;

static int
qs_by_key(const void *a, const void *b)
{
	const QsPair *x = a,
			   *y = b;
	size_t		m = x->kn < y->kn ? x->kn : y->kn;
	int			c = memcmp(x->k, y->k, m);

	if (c == 0 && x->kn != y->kn)
		c = x->kn < y->kn ? -1 : 1;
	if (c == 0)
		c = x->order < y->order ? -1 : x->order > y->order;
	return c;
}

static int
qs_by_first(const void *a, const void *b)
{
	const QsPair *x = a,
			   *y = b;

	if (x->first != y->first)
		return x->first < y->first ? -1 : 1;
	return x->order < y->order ? -1 : x->order > y->order;
}

bool
fi_http_parse_qs(const char *qs, size_t n, FiJBuf *out)
{
	QsPair	   *pairs = NULL;
	size_t		np = 0,
				cap = 0;
	const char *p = qs,
			   *endall = qs + n;
	FiJBuf		tmp = {0};
	bool		ok = true;

	while (p < endall)
	{
		const char *amp = memchr(p, '&', endall - p);
		const char *end = amp ? amp : endall;
		const char *eq = memchr(p, '=', end - p);

		/* a key is compared decoded; keep the raw parts, decode once for the sort key below */
		if (eq != NULL && end > eq + 1)
		{
			if (np == cap)
			{
				size_t		nc = cap ? 2 * cap : 16;
				QsPair	   *q = realloc(pairs, nc * sizeof(QsPair));

				if (q == NULL)
				{
					ok = false;
					break;
				}
				pairs = q;
				cap = nc;
			}
			pairs[np].k = p;
			pairs[np].kn = eq - p;
			pairs[np].v = eq + 1;
			pairs[np].vn = end - eq - 1;
			pairs[np].order = np;
			np++;
		}
		p = amp ? amp + 1 : endall;
	}
	if (ok)
	{
		/* keys decoded, so that "a%20b" and "a+b" are one key, as in Python */
		FiJBuf	   *keys = calloc(np ? np : 1, sizeof(FiJBuf));

		if (keys == NULL)
			ok = false;
		else
		{
			for (size_t i = 0; i < np; i++)
			{
				put_unquoted(&keys[i], pairs[i].k, pairs[i].kn, &tmp);
				pairs[i].k = keys[i].data ? keys[i].data : "";
				pairs[i].kn = keys[i].len;
				ok = ok && !keys[i].oom;
			}
			if (ok)
			{
				if (np > 1)
					qsort(pairs, np, sizeof(QsPair), qs_by_key);
				for (size_t i = 0; i < np; i++)
					pairs[i].first = (i > 0 && pairs[i].kn == pairs[i - 1].kn &&
									  memcmp(pairs[i].k, pairs[i - 1].k, pairs[i].kn) == 0) ?
						pairs[i - 1].first : pairs[i].order;
				if (np > 1)
					qsort(pairs, np, sizeof(QsPair), qs_by_first);
				fi_jbuf_put(out, "{", 1);
				for (size_t i = 0; i < np; i++)
				{
					bool		new_key = i == 0 || pairs[i].first != pairs[i - 1].first;

					if (new_key)
					{
						if (i > 0)
							fi_jbuf_put(out, "],", 2);
						fi_jbuf_put(out, pairs[i].k, pairs[i].kn);	/* already JSON text */
						fi_jbuf_put(out, ":[", 2);
					}
					else
						fi_jbuf_put(out, ",", 1);
					put_unquoted(out, pairs[i].v, pairs[i].vn, &tmp);
				}
				fi_jbuf_put(out, np ? "]}" : "}", np ? 2 : 1);
			}
			for (size_t i = 0; i < np; i++)
				fi_jbuf_free(&keys[i]);
			free(keys);
		}
	}
	free(pairs);
	fi_jbuf_free(&tmp);
	return ok && !out->oom;
}

bool
fi_http_make_result(const char *method, const char *host, long status, const char *ctype,
					const char *body, size_t n, FiJBuf *out, bool *none, FiHttpError *err)
{
	size_t		bad_at;

	*none = false;
	if (status >= 400)
	{
		char		d[160];

		snprintf(d, sizeof(d), "%s to %s answered %ld.", method, host, status);
		set_err(err, "08006", d, NULL, "HTTP %ld %s", status, status >= 500 ? "Server Error" : "Client Error");
		return false;
	}
	if (ctype != NULL)
	{
		size_t		bl = strcspn(ctype, ";");

		while (bl > 0 && ctype[bl - 1] == ' ')
			bl--;
		if ((bl >= 16 && strncasecmp(ctype, "application/", 12) == 0 && strncasecmp(ctype + bl - 4, "json", 4) == 0) ||
			strcmp(ctype, "text/plain; charset=utf-8") == 0 || n > 0)
		{
			if (memchr(body, '\0', n) != NULL || !fi_utf8_valid(body, n, &bad_at))
			{
				set_err(err, "22021", NULL, NULL, "the response body is not UTF-8 text");
				return false;
			}
			if (bl >= 16 && strncasecmp(ctype, "application/", 12) == 0 && strncasecmp(ctype + bl - 4, "json", 4) == 0)
				fi_jbuf_put(out, body, n);
			else if (strcmp(ctype, "text/plain; charset=utf-8") == 0)
			{
				if (!fi_http_parse_qs(body, n, out))
				{
					set_err(err, "53200", NULL, NULL, "out of memory");
					return false;
				}
			}
			else
				fi_json_put_string(out, body, n);
			if (out->oom)
			{
				set_err(err, "53200", NULL, NULL, "out of memory");
				return false;
			}
			return true;
		}
	}
	*none = true;
	return true;
}
