-- frappe_integrations 0.4.0 -> 0.5.0: Data Import and Export from SQL.
\echo Use "ALTER EXTENSION frappe_integrations UPDATE TO '0.5.0'" to load this file. \quit

-- Frappe's Data Import: CSV text into a DocType, with its children.  The
-- caller's own privileges on the site's tables apply (checked per table).
CREATE FUNCTION integrations.import_csv(doctype text, data text,
                                        import_type text DEFAULT 'Insert New Records',
                                        options jsonb DEFAULT '{}')
RETURNS jsonb
AS 'MODULE_PATHNAME', 'fi_import_csv'
LANGUAGE C VOLATILE;
COMMENT ON FUNCTION integrations.import_csv(text, text, text, jsonb) IS
'Import CSV into a DocType with Frappe''s Data Import rules; a bad document fails alone (options: user, atomic, dry_run, webhooks, data_import, submit_after_import, column_to_field_map, batch_size, progress_seconds)';

-- The same from a file on the server: superuser or pg_read_server_files only.
CREATE FUNCTION integrations.import_csv_file(doctype text, path text,
                                             import_type text DEFAULT 'Insert New Records',
                                             options jsonb DEFAULT '{}')
RETURNS jsonb
AS 'MODULE_PATHNAME', 'fi_import_csv_file'
LANGUAGE C VOLATILE;
COMMENT ON FUNCTION integrations.import_csv_file(text, text, text, jsonb) IS
'Import a CSV file on the database server into a DocType (superuser or pg_read_server_files)';
REVOKE ALL ON FUNCTION integrations.import_csv_file(text, text, text, jsonb) FROM PUBLIC;

-- Frappe's Data Import template: the header row to fill in.
CREATE FUNCTION integrations.import_template(doctype text, options jsonb DEFAULT '{}')
RETURNS text
AS 'MODULE_PATHNAME', 'fi_import_template'
LANGUAGE C STABLE;
COMMENT ON FUNCTION integrations.import_template(text, jsonb) IS
'The Data Import template header of a DocType (options: children, mandatory_only)';

-- Data Export in the Data Import template layout (it imports back unchanged).
-- The caller's own privileges on the site's tables apply.
CREATE FUNCTION integrations.export_csv(doctype text, options jsonb DEFAULT '{}')
RETURNS text
AS 'MODULE_PATHNAME', 'fi_export_csv'
LANGUAGE C STABLE;
COMMENT ON FUNCTION integrations.export_csv(text, jsonb) IS
'Export a DocType as CSV in Frappe''s Data Import layout (options: fields, filters, order_by, limit, children, header, escape_formulas)';

-- The same into a file on the server, streamed: superuser or pg_write_server_files only.
CREATE FUNCTION integrations.export_csv_file(doctype text, path text, options jsonb DEFAULT '{}')
RETURNS bigint
AS 'MODULE_PATHNAME', 'fi_export_csv_file'
LANGUAGE C VOLATILE;
COMMENT ON FUNCTION integrations.export_csv_file(text, text, jsonb) IS
'Export a DocType as CSV into a file on the database server (superuser or pg_write_server_files); returns the lines written';
REVOKE ALL ON FUNCTION integrations.export_csv_file(text, text, jsonb) FROM PUBLIC;

-- What bench export-json and bench export-doc write, as jsonb.
CREATE FUNCTION integrations.export_json(doctype text, options jsonb DEFAULT '{}')
RETURNS jsonb
AS 'MODULE_PATHNAME', 'fi_export_json'
LANGUAGE C STABLE;
COMMENT ON FUNCTION integrations.export_json(text, jsonb) IS
'Documents as bench export-json writes them (options: name, filters, order_by, limit)';
CREATE FUNCTION integrations.export_doc(doctype text, name text)
RETURNS jsonb
AS 'MODULE_PATHNAME', 'fi_export_doc'
LANGUAGE C STABLE;
COMMENT ON FUNCTION integrations.export_doc(text, text) IS
'A document as bench export-doc writes it';
