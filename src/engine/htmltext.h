/*
 * htmltext.h
 *		An HTML cell as text, for Report Builder's CSV export (Frappe's
 *		handle_html): tags dropped, a line break or block as a separator,
 *		character references decoded.  Pure: no server state.
 */
#ifndef FI_HTMLTEXT_H
#define FI_HTMLTEXT_H

#include <stdbool.h>
#include <stddef.h>

/* does Frappe treat s as HTML?  (a '<' and a '>' in it) */
extern bool fi_html_looks_like(const char *s, size_t n);

/*
 * The text of s into out (n + 1 bytes at least: the text is never longer);
 * returns its length.  <br> becomes ", ", the end of a block (p, div, li,
 * tr, h1-h6, ...) a blank, runs of blanks one blank; &amp; &lt; &gt;
 * &quot; &apos; &#39; &nbsp; and numeric references are decoded (others
 * are kept as they are).
 */
extern size_t fi_html_to_text(const char *s, size_t n, char *out);

#endif							/* FI_HTMLTEXT_H */
