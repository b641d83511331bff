/*
 * tap.h
 *		The TAP helpers of the C unit tests (one program each: static state).
 */
#ifndef FI_TEST_TAP_H
#define FI_TEST_TAP_H

#include <stdio.h>
#include <string.h>

static int	n_test = 0,
			n_fail = 0;

static void
ok(int cond, const char *desc)
{
	n_test++;
	if (!cond)
		n_fail++;
	printf("%sok %d - %s\n", cond ? "" : "not ", n_test, desc);
}

/* equal strings (NULL equals only NULL) */
static void
is_str(const char *got, const char *want, const char *desc)
{
	int			same = got != NULL && want != NULL ? strcmp(got, want) == 0 : got == want;

	ok(same, desc);
	if (!same)
		printf("#   got:  '%s'\n#   want: '%s'\n", got ? got : "(null)", want ? want : "(null)");
}

#endif							/* FI_TEST_TAP_H */
