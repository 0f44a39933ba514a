DROP MATERIALIZED VIEW "user_names";
DROP FUNCTION "add_tax"(price numeric, rate numeric);
DROP FUNCTION "add_tax"(price integer);
DROP FUNCTION "user_label"(integer);
