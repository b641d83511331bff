-- frappe_integrations 0.9.0 -> 0.10.0: Data Export to Excel (.xlsx), in the
-- layouts of export_csv, with typed cells (src/engine/xlsxwrite.c over
-- libxlsxwriter, in constant memory).
\echo Use "ALTER EXTENSION frappe_integrations UPDATE TO '0.10.0'" to load this file. \quit

-- The workbook as bytea.  The caller's own privileges on the site's tables
-- apply; the rows are staged in the server's temporary directory.
CREATE FUNCTION integrations.export_xlsx(doctype text, options jsonb DEFAULT '{}')
RETURNS bytea
AS 'MODULE_PATHNAME', 'fi_export_xlsx'
LANGUAGE C VOLATILE;
COMMENT ON FUNCTION integrations.export_xlsx(text, jsonb) IS
'Export a DocType as an Excel workbook (.xlsx) in Frappe''s Data Import layout or Report Builder''s (options as export_csv''s, and zip64)';

-- The same into a file on the server: superuser or pg_write_server_files only.
CREATE FUNCTION integrations.export_xlsx_file(doctype text, path text, options jsonb DEFAULT '{}')
RETURNS bigint
AS 'MODULE_PATHNAME', 'fi_export_xlsx_file'
LANGUAGE C VOLATILE;
COMMENT ON FUNCTION integrations.export_xlsx_file(text, text, jsonb) IS
'Export a DocType as an Excel workbook (.xlsx) into a file on the database server (superuser or pg_write_server_files); returns the lines written';
REVOKE ALL ON FUNCTION integrations.export_xlsx_file(text, text, jsonb) FROM PUBLIC;
