-- template: Frappe's Jinja templates and webhook conditions from SQL
\set inv '{"doc": {"name": "ACC-SINV-2024-00001", "doctype": "Sales Invoice", "customer_name": "Café Ünïcode", "posting_date": "2024-05-06", "due_date": "2024-06-05", "grand_total": 1180.0, "status": "Paid", "docstatus": 1, "remarks": null, "items": [{"item_code": "X", "qty": 2.0, "rate": 250.0}, {"item_code": "Y", "qty": 3, "rate": 166.66666666666666}]}, "event": "on_submit"}'

-- the payload a webhook user writes
SELECT integrations.render_template(
  '{"name": "{{ doc.name }}", "total": {{ doc.grand_total }}, "event": "{{ event }}", "items": {{ doc.items | tojson }}}',
  :'inv');

-- doc.items is the child table (not dict.items); loops, filters, numbers
SELECT integrations.render_template(
  '{% for it in doc.items %}{{ loop.index }}:{{ it.item_code | lower }} x{{ it.qty }} @{{ it.rate | round(2) }}{{ ", " if not loop.last }}{% endfor %}',
  :'inv');
SELECT integrations.render_template('{{ doc.items | sum(attribute="qty") }} {{ doc.grand_total / 3 }} {{ 1e16 }} {{ 0.00001 }}', :'inv');

-- Frappe's json filter (indent 1, sorted keys) and Python's text of values
SELECT integrations.render_template('{{ doc.items[0] | json }}', :'inv');
SELECT integrations.render_template('{{ doc.items[0] }} {{ [1, none, true, "it''s"] }}', :'inv');

-- unicode: as is in text, \u escapes in JSON
SELECT integrations.render_template('{{ doc.customer_name }} {{ doc.customer_name | upper }} {{ doc.customer_name | tojson }}', :'inv');

-- missing things: a missing field reads as None (frappe._dict), a missing
-- name renders as its own source (DebugUndefined)
SELECT integrations.render_template('[{{ doc.nope }}] [{{ nope }}] [{{ doc.remarks | default("-", true) }}] [{{ nope | default("d") }}]', :'inv');

-- utils / frappe.utils, on the site's clock (System Settings: Asia/Kolkata)
SELECT integrations.render_template('{{ utils.add_days(doc.posting_date, 30) }} {{ utils.date_diff(doc.due_date, doc.posting_date) }} {{ frappe.utils.flt("1,234.565", 2) }} {{ utils.getdate(doc.posting_date).strftime("%d %B %Y") }}', :'inv');
SELECT integrations.render_template('{{ utils.nowdate() }}') = to_char(now() AT TIME ZONE 'Asia/Kolkata', 'YYYY-MM-DD') AS nowdate_is_site_date;
SELECT integrations.render_template('{{ utils.now() }}') = to_char(now() AT TIME ZONE 'Asia/Kolkata', 'YYYY-MM-DD HH24:MI:SS.US') AS now_is_site_time;

-- an empty template, a context that is not an object
SELECT integrations.render_template('') = '' AS empty;
SELECT err($$SELECT integrations.render_template('x', '[1]')$$);

-- conditions: Python over doc, utils, int, float, long, round
SELECT integrations.eval_condition('doc.status == "Paid" and doc.grand_total > 1000', :'inv') AS paid_big;
SELECT integrations.eval_condition('doc.docstatus == 1 and not doc.remarks', :'inv') AS submitted;
SELECT integrations.eval_condition('utils.getdate(doc.posting_date) >= utils.getdate("2024-06-01")', :'inv') AS june;
SELECT integrations.eval_condition('doc.items[1].qty * doc.items[1].rate == 500 and round(doc.grand_total) == 1180', :'inv') AS arithmetic;
SELECT integrations.eval_condition('doc.get("nope") is None', :'inv') AS get_missing;
SELECT integrations.eval_condition('', :'inv') AS empty_is_true, integrations.eval_condition('  ', :'inv') AS blank_is_true;

-- errors: syntax 42601 with the place, values 22023, bounds 54000
SELECT err($$SELECT integrations.render_template(E'line one\n{{ doc.name | }}', '{}')$$);
SELECT err($$SELECT integrations.render_template('{% for x in doc.items %}{{ x }}', '{}')$$);
SELECT err($$SELECT integrations.render_template('{{ x | no_such_filter }}', '{}')$$);
SELECT err($$SELECT integrations.render_template('{{ doc.__class__ }}', '{}')$$);
SELECT err($$SELECT integrations.render_template('{{ 1 / 0 }}', '{}')$$);
SELECT err($$SELECT integrations.render_template('{{ "a" + 1 }}', '{}')$$);
SELECT err($$SELECT integrations.render_template('{{ utils.getdate("6 May 2024") }}', '{}')$$);
SELECT err($$SELECT integrations.render_template('{{ utils.fmt_money(5) }}', '{}')$$);
SELECT err($$SELECT integrations.render_template('{{ "x" * 100000000 }}', '{}')$$);
SELECT err($$SELECT integrations.render_template(repeat('{% if true %}', 300) || repeat('{% endif %}', 300), '{}')$$);
SELECT err($$SELECT integrations.render_template('{{ ' || repeat('(', 500) || '1' || repeat(')', 500) || ' }}', '{}')$$);
SELECT err($$SELECT integrations.render_template('{% set l = range(100000) %}{% for i in l %}{% for j in l %}{% endfor %}{% endfor %}', '{}')$$);
SELECT err($$SELECT integrations.render_template('{% set l = range(100000) %}{% for i in l %}{{ l }}{% endfor %}', '{}')$$);
SELECT err($$SELECT integrations.eval_condition('doc.status ==', '{"doc": {}}')$$);
SELECT err($$SELECT integrations.eval_condition('len(doc.items) > 0', '{"doc": {"items": []}}')$$);
SELECT err($$SELECT integrations.eval_condition('doc.no_field == 1', '{"doc": {"name": "x"}}')$$);
SELECT err($$SELECT integrations.eval_condition('doc["name"] == "x"', '{"doc": {"name": "x"}}')$$);
SELECT err($$SELECT integrations.eval_condition('doc.grand_total > "5"', '{"doc": {"grand_total": 1.0}}')$$);

-- the body Frappe sends: json.dumps(json.loads(rendered))
SELECT integrations.normalize_json('{"a":1,"b":[1.0,1E16,0.00001,-0.0],"c":"café 🚀","a":2}');
SELECT integrations.normalize_json(integrations.render_template(
  '{"name": "{{ doc.name }}", "grand_total": {{ doc.grand_total }}, "customer": "{{ doc.customer_name }}", "posting_date": "{{ doc.posting_date }}", "items": [{"item_code": "X", "qty": 2.0}]}',
  :'inv'));
-- ... whose HMAC is facts §1.9's test vector
SELECT integrations.hmac_sha256('s3cr3t', integrations.normalize_json(integrations.render_template(
  '{"name": "{{ doc.name }}", "grand_total": {{ doc.grand_total }}, "customer": "{{ doc.customer_name }}", "posting_date": "{{ doc.posting_date }}", "items": [{"item_code": "X", "qty": 2.0}]}',
  :'inv'))) = 'wZuZTVDmXMQGIXoQbYFinj9NaSIT0lZ1dm0/Ng6+bms=' AS frappe_signature;
SELECT err($$SELECT integrations.normalize_json('{"a": 1,}')$$);
SELECT err($$SELECT integrations.normalize_json(E'{"a":\n 01}')$$);

-- anyone may render; nothing here reads secrets
SELECT p.proname, has_function_privilege('public', p.oid, 'EXECUTE') AS public_can_execute
  FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
 WHERE n.nspname = 'integrations' AND p.proname IN ('render_template', 'eval_condition', 'normalize_json')
 ORDER BY 1;

-- a long render can be cancelled
SET statement_timeout = '200ms';
SELECT err($$SELECT integrations.render_template('{% set l = range(100000) %}{% for i in l %}{% for j in l %}{% endfor %}{% endfor %}', '{}')$$);
RESET statement_timeout;
