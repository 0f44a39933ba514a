DO $orm$ BEGIN IF EXISTS (SELECT 1 FROM "products" WHERE CAST("price" AS NUMERIC) <> round(CAST("price" AS NUMERIC), 2)) THEN RAISE EXCEPTION '%', 'rows of products.price have more than 2 decimal place(s): the change would lose or alter them'; END IF; END $orm$;
DO $orm$ BEGIN IF EXISTS (SELECT 1 FROM "products" WHERE abs(round(CAST("price" AS NUMERIC), 2)) >= 10000000000) THEN RAISE EXCEPTION '%', 'rows of products.price have more than 10 digit(s) before the decimal point: the change would lose or alter them'; END IF; END $orm$;
ALTER TABLE "products" ALTER COLUMN "price" TYPE NUMERIC(12, 2);
ALTER TABLE "products" ALTER COLUMN "country" TYPE char(2);
