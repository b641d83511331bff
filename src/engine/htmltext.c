/*
 * htmltext.c
 *		An HTML cell as text (see htmltext.h).  One pass, linear in the
 *		input; an unclosed '<' ends the text there as a tag would.
 */
#include "engine/htmltext.h"
#include "engine/codec.h"

#include <ctype.h>
#include <stdint.h>
#include <string.h>
#include <strings.h>

bool
fi_html_looks_like(const char *s, size_t n)
{
	return memchr(s, '<', n) != NULL && memchr(s, '>', n) != NULL;
}

/* a character reference at s (s[0] == '&'): its bytes into out, or 0 */
static size_t
reference(const char *s, size_t n, size_t *used, char *out)
{
	static const struct
	{
		const char *name;
		const char *text;
	}			named[] = {
		{"amp;", "&"}, {"lt;", "<"}, {"gt;", ">"}, {"quot;", "\""}, {"apos;", "'"},
		{"nbsp;", " "}
	};

	if (n >= 3 && s[1] == '#')
	{
		size_t		i = 2;
		uint32_t	c = 0;
		bool		hex = (s[2] == 'x' || s[2] == 'X');
		size_t		digits = 0;

		if (hex)
			i++;
		for (; i < n && digits < 8; i++, digits++)
		{
			int			d;

			if (isdigit((unsigned char) s[i]))
				d = s[i] - '0';
			else if (hex && isxdigit((unsigned char) s[i]))
				d = (tolower((unsigned char) s[i]) - 'a') + 10;
			else
				break;
			c = c * (hex ? 16 : 10) + (uint32_t) d;
		}
		if (digits == 0 || i >= n || s[i] != ';' || c == 0 || c > 0x10FFFF ||
			(c >= 0xD800 && c <= 0xDFFF))
			return 0;
		*used = i + 1;
		return fi_utf8_encode(out, c);
	}
	for (size_t k = 0; k < sizeof(named) / sizeof(named[0]); k++)
	{
		size_t		l = strlen(named[k].name);

		if (n > l && strncmp(s + 1, named[k].name, l) == 0)
		{
			*used = l + 1;
			out[0] = named[k].text[0];
			return 1;
		}
	}
	return 0;
}

/* the tag's name at s (after '<' and an optional '/'), lower-cased into name */
static void
tag_name(const char *s, size_t n, char name[8])
{
	size_t		i = 0,
				k = 0;

	if (i < n && s[i] == '/')
		i++;
	for (; i < n && k < 7 && isalnum((unsigned char) s[i]); i++)
		name[k++] = (char) tolower((unsigned char) s[i]);
	name[k] = '\0';
	if (i < n && isalnum((unsigned char) s[i]))
		name[0] = '\0';			/* longer than any tag named below */
}

static bool
is_block(const char *name)
{
	static const char *const blocks[] = {
		"p", "div", "li", "tr", "td", "th", "ul", "ol", "table", "h1", "h2", "h3", "h4", "h5",
		"h6", "blockquote", "pre", "hr", "section", "article", "header", "footer"
	};

	for (size_t i = 0; i < sizeof(blocks) / sizeof(blocks[0]); i++)
		if (strcmp(name, blocks[i]) == 0)
			return true;
	return false;
}

size_t
fi_html_to_text(const char *s, size_t n, char *out)
{
	size_t		o = 0,
				i = 0;
	bool		blank = true;	/* the last byte written is a blank (or none yet) */

	while (i < n)
	{
		if (s[i] == '<')
		{
			const char *close = memchr(s + i, '>', n - i);
			char		name[8];
			const char *sep = NULL;

			if (close == NULL)
				break;
			tag_name(s + i + 1, (size_t) (close - s) - i - 1, name);
			if (strcmp(name, "br") == 0)
				sep = ", ";
			else if (is_block(name))
				sep = " ";
			if (sep != NULL && o > 0)
			{
				while (o > 0 && out[o - 1] == ' ')
					o--;
				/* (never longer than the input: a tag is at least 3 bytes) */
				if (sep[0] == ',' && !(o > 0 && out[o - 1] == ','))
					out[o++] = ',';
				out[o++] = ' ';
				blank = true;
			}
			i = (size_t) (close - s) + 1;
			continue;
		}
		if (s[i] == '&')
		{
			size_t		used = 0,
						len = reference(s + i, n - i, &used, out + o);

			if (len > 0)
			{
				bool		sp = (len == 1 && out[o] == ' ');

				if (!(sp && blank))
				{
					o += len;
					blank = sp;
				}
				i += used;
				continue;
			}
		}
		if (isspace((unsigned char) s[i]))
		{
			if (!blank)
				out[o++] = ' ';
			blank = true;
			i++;
			continue;
		}
		out[o++] = s[i++];
		blank = false;
	}
	while (o > 0 && (out[o - 1] == ' ' || out[o - 1] == ','))
		o--;
	out[o] = '\0';
	return o;
}
