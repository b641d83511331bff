/*
 * alloc.h
 *		Memory that engines take from their caller: an allocator hook (the
 *		caller's arena: a memory context, a pool; never freed by an engine)
 *		and the two string helpers the rule engines build their texts with.
 */
#ifndef FI_ALLOC_H
#define FI_ALLOC_H

#include <stddef.h>
#include <string.h>

/* size zeroed bytes, never NULL (the hook reports running out itself) */
typedef void *(*FiAlloc) (void *arg, size_t size);

/* s[0..n) as a NUL-terminated copy */
static inline char *
fi_alloc_strndup(FiAlloc alloc, void *arg, const char *s, size_t n)
{
	char	   *o = alloc(arg, n + 1);

	memcpy(o, s, n);
	o[n] = '\0';
	return o;
}

/* a, b, c and d one after the other */
static inline char *
fi_alloc_concat(FiAlloc alloc, void *arg, const char *a, const char *b, const char *c, const char *d)
{
	size_t		la = strlen(a),
				lb = strlen(b),
				lc = strlen(c),
				ld = strlen(d);
	char	   *o = alloc(arg, la + lb + lc + ld + 1);

	memcpy(o, a, la);
	memcpy(o + la, b, lb);
	memcpy(o + la + lb, c, lc);
	memcpy(o + la + lb + lc, d, ld);
	o[la + lb + lc + ld] = '\0';
	return o;
}

#endif							/* FI_ALLOC_H */
