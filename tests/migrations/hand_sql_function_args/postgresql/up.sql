CREATE FUNCTION add_tax(price numeric, rate numeric DEFAULT 0.2) RETURNS numeric
AS $$ SELECT price * (1 + rate) $$ LANGUAGE sql;
CREATE FUNCTION add_tax(price integer) RETURNS numeric
AS $$ SELECT price * 1.2 $$ LANGUAGE sql;
CREATE FUNCTION user_label(id integer) RETURNS text
AS $$ SELECT name FROM users WHERE users.id = $1 $$ LANGUAGE sql;
CREATE MATERIALIZED VIEW user_names AS SELECT id, user_label(CAST(id AS integer)) AS label FROM users;
