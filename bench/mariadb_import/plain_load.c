/*
 * plain_load.c -- the baseline of bench/mariadb_import: the fastest plain
 * load of rows into a table over Connector/C (the issue's: a prepared INSERT
 * with array binding, 1,000 rows per execute, one transaction).
 *
 *   plain_load SOCKET DATABASE USER TABLE FILE.tsv
 *
 * FILE.tsv: a header of column names, then rows of values separated by tabs
 * (no quoting: the bench writes values without tabs or newlines; \N is NULL).
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <mysql.h>

#define ROWS 1000

static void
die(MYSQL *c, const char *what)
{
	fprintf(stderr, "plain_load: %s: %s\n", what, mysql_error(c));
	exit(1);
}

int
main(int argc, char **argv)
{
	MYSQL	   *c = mysql_init(NULL);
	FILE	   *f;
	static char line[1 << 16];
	char	  **cols = NULL;
	int			ncols = 0;
	char	 ***vals;
	char	  **ind;
	int			n = 0;
	long		total = 0;
	MYSQL_STMT *st;
	MYSQL_BIND *b;
	char		sql[1 << 14];
	size_t		k;

	if (argc != 6 || (f = fopen(argv[5], "r")) == NULL)
	{
		fprintf(stderr, "usage: plain_load SOCKET DATABASE USER TABLE FILE.tsv\n");
		return 2;
	}
	mysql_options(c, MYSQL_SET_CHARSET_NAME, "utf8mb4");
	if (!mysql_real_connect(c, NULL, argv[3], NULL, argv[2], 0, argv[1], 0))
		die(c, "connect");
	if (!fgets(line, sizeof(line), f))
		return 1;
	line[strcspn(line, "\n")] = '\0';
	for (char *p = strtok(line, "\t"); p; p = strtok(NULL, "\t"))
	{
		cols = realloc(cols, sizeof(char *) * (ncols + 1));
		cols[ncols++] = strdup(p);
	}
	k = (size_t) snprintf(sql, sizeof(sql), "INSERT INTO `%s` (", argv[4]);
	for (int i = 0; i < ncols; i++)
		k += (size_t) snprintf(sql + k, sizeof(sql) - k, "%s`%s`", i ? ", " : "", cols[i]);
	k += (size_t) snprintf(sql + k, sizeof(sql) - k, ") VALUES (");
	for (int i = 0; i < ncols; i++)
		k += (size_t) snprintf(sql + k, sizeof(sql) - k, i ? ", ?" : "?");
	snprintf(sql + k, sizeof(sql) - k, ")");
	if (mysql_query(c, "SET autocommit = 0") != 0)
		die(c, "autocommit");
	st = mysql_stmt_init(c);
	if (mysql_stmt_prepare(st, sql, strlen(sql)) != 0)
		die(c, mysql_stmt_error(st));
	vals = calloc(ncols, sizeof(char **));
	ind = calloc(ncols, sizeof(char *));
	b = calloc(ncols, sizeof(MYSQL_BIND));
	for (int i = 0; i < ncols; i++)
	{
		vals[i] = calloc(ROWS, sizeof(char *));
		ind[i] = calloc(ROWS, 1);
		b[i].buffer_type = MYSQL_TYPE_STRING;
		b[i].buffer = vals[i];
		b[i].u.indicator = ind[i];
	}
	for (;;)
	{
		bool		more = fgets(line, sizeof(line), f) != NULL;

		if (more)
		{
			char	   *p = line;

			line[strcspn(line, "\n")] = '\0';
			for (int i = 0; i < ncols; i++)
			{
				char	   *tab = strchr(p, '\t');

				if (tab)
					*tab = '\0';
				free(vals[i][n]);
				vals[i][n] = strdup(p);
				ind[i][n] = strcmp(p, "\\N") == 0 ? STMT_INDICATOR_NULL : STMT_INDICATOR_NTS;
				p = tab ? tab + 1 : p + strlen(p);
			}
			n++;
		}
		if (n == ROWS || (!more && n > 0))
		{
			unsigned int size = (unsigned int) n;

			if (mysql_stmt_attr_set(st, STMT_ATTR_ARRAY_SIZE, &size) != 0 || mysql_stmt_bind_param(st, b) != 0 ||
				mysql_stmt_execute(st) != 0)
			{
				fprintf(stderr, "plain_load: %s\n", mysql_stmt_error(st));
				return 1;
			}
			total += n;
			n = 0;
		}
		if (!more)
			break;
	}
	if (mysql_commit(c) != 0)
		die(c, "commit");
	printf("%ld\n", total);
	mysql_stmt_close(st);
	mysql_close(c);
	return 0;
}
