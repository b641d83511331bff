/*
 * xlsx_fuzz.c
 *		libFuzzer target for the XLSX reader (src/engine/xlsx.c): the input's
 *		first byte picks a part of a small workbook (the sheet, the shared
 *		strings, the styles or the workbook), the rest is that part's XML;
 *		the package is made in memory by libzip (stored, so the XML reaches
 *		expat as it is).  Every row read must have the sheet's width, and a
 *		second reading after a rewind the same rows.  Or, with the first
 *		byte's high bit set, the input is the whole file.
 *
 *		make fuzz-xlsx   (clang with -fsanitize=fuzzer,address,undefined)
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <zip.h>

#include "engine/xlsx.h"

int			LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const NS = "xmlns=\"http://schemas.openxmlformats.org/spreadsheetml/2006/main\" "
"xmlns:r=\"http://schemas.openxmlformats.org/officeDocument/2006/relationships\"";

/* a stored ZIP of the parts, in memory; the caller frees *out */
static size_t
make_zip(const char *const *names, const char *const *texts, const size_t *lens, int n, void **out)
{
	zip_error_t ze;
	zip_source_t *src;
	zip_t	   *za;
	zip_stat_t	st;
	size_t		len = 0;

	*out = NULL;
	zip_error_init(&ze);
	src = zip_source_buffer_create(NULL, 0, 0, &ze);
	zip_source_keep(src);
	za = zip_open_from_source(src, ZIP_TRUNCATE, &ze);
	for (int i = 0; i < n; i++)
	{
		zip_source_t *part = zip_source_buffer(za, texts[i], lens[i], 0);
		zip_int64_t idx = zip_file_add(za, names[i], part, ZIP_FL_OVERWRITE);

		zip_set_file_compression(za, (zip_uint64_t) idx, ZIP_CM_STORE, 0);
	}
	zip_close(za);
	if (zip_source_stat(src, &st) == 0 && zip_source_open(src) == 0)
	{
		*out = malloc(st.size + 1);
		len = (size_t) zip_source_read(src, *out, st.size);
		zip_source_close(src);
	}
	zip_source_free(src);
	zip_error_fini(&ze);
	return len;
}

/* the opening pass shows each cell: a text, or NULL with 0 or 1; counted */
static bool
hook(void *arg, long row, int col, const char *text, size_t len)
{
	long	   *last = arg;

	if (row < 1 || col < 1 || (text == NULL && len > 1))
		abort();
	/* (stopping after 10,000 cells exercises the stop path) */
	return ++(*last) < 10000;
}

static void
read_all(const void *file, size_t n)
{
	long		last = 0;
	FiXlsxLimits lim;
	FiXlsx	   *x;
	FiCsvReader rec;
	bool		done = false;
	long		rows[2] = {0, 0};

	fi_xlsx_default_limits(&lim);
	lim.max_part = 1 << 20;
	lim.max_strings = 1 << 20;
	lim.max_columns = 512;
	if (fi_xlsx_open(file, n, &lim, hook, &last, &x, NULL, 0) != FI_XLSX_OK)
		return;
	memset(&rec, 0, sizeof(rec));
	for (int pass = 0; pass < 2; pass++)
	{
		if (pass == 1 && fi_xlsx_rewind(x, NULL, 0) != FI_XLSX_OK)
			break;
		while (fi_xlsx_next(x, &rec, &done, NULL, 0) == FI_XLSX_OK && !done)
		{
			if (rec.nfields != fi_xlsx_columns(x) || rec.record_no != rows[pass] + 1)
				abort();
			rows[pass]++;
		}
	}
	if (rows[0] != rows[1] && rows[1] != 0)
		abort();
	fi_csv_free(&rec);
	fi_xlsx_close(x);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *names[] = {"[Content_Types].xml", "_rels/.rels", "xl/workbook.xml",
	"xl/_rels/workbook.xml.rels", "xl/worksheets/sheet1.xml", "xl/sharedStrings.xml", "xl/styles.xml"};
	char		rels[1024],
				wb[512],
				sheet[512],
				sst[512],
				sty[512];
	const char *texts[7];
	size_t		lens[7];
	void	   *zipped;
	size_t		zn;

	if (size < 1)
		return 0;
	if (data[0] & 0x80)
	{
		read_all(data + 1, size - 1);
		return 0;
	}
	snprintf(rels, sizeof(rels), "<Relationships xmlns=\"http://schemas.openxmlformats.org/package/2006/relationships\">"
			 "<Relationship Id=\"rId1\" Type=\"x/worksheet\" Target=\"worksheets/sheet1.xml\"/>"
			 "<Relationship Id=\"rId2\" Type=\"x/sharedStrings\" Target=\"sharedStrings.xml\"/>"
			 "<Relationship Id=\"rId3\" Type=\"x/styles\" Target=\"styles.xml\"/></Relationships>");
	snprintf(wb, sizeof(wb), "<workbook %s><sheets><sheet name=\"S\" sheetId=\"1\" r:id=\"rId1\"/></sheets></workbook>", NS);
	snprintf(sheet, sizeof(sheet), "<worksheet %s><sheetData><row r=\"1\"><c t=\"s\"><v>0</v></c><c s=\"1\"><v>45000.5</v></c>"
			 "</row></sheetData></worksheet>", NS);
	snprintf(sst, sizeof(sst), "<sst %s><si><t>a</t></si><si><r><t>b</t></r></si></sst>", NS);
	snprintf(sty, sizeof(sty), "<styleSheet %s><numFmts><numFmt numFmtId=\"164\" formatCode=\"dd/mm/yyyy\"/></numFmts>"
			 "<cellXfs><xf numFmtId=\"0\"/><xf numFmtId=\"164\"/></cellXfs></styleSheet>", NS);
	texts[0] = "<Types/>";
	texts[1] = "<Relationships xmlns=\"http://schemas.openxmlformats.org/package/2006/relationships\">"
		"<Relationship Id=\"rId1\" Type=\"x/officeDocument\" Target=\"xl/workbook.xml\"/></Relationships>";
	texts[2] = wb;
	texts[3] = rels;
	texts[4] = sheet;
	texts[5] = sst;
	texts[6] = sty;
	for (int i = 0; i < 7; i++)
		lens[i] = strlen(texts[i]);
	/* the input replaces one part: 0 the sheet, 1 the strings, 2 the styles, 3 the workbook */
	{
		int			which = (int[]) {4, 5, 6, 2}[data[0] % 4];

		texts[which] = (const char *) data + 1;
		lens[which] = size - 1;
	}
	zn = make_zip(names, texts, lens, 7, &zipped);
	if (zipped)
		read_all(zipped, zn);
	free(zipped);
	return 0;
}
