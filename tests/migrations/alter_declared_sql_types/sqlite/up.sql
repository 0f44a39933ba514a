-- keep the SQL that this query returns: SELECT sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'products'
CREATE TABLE "_orm_new_products" ("id" INTEGER NOT NULL, "price" NUMERIC(12, 2) NOT NULL, "country" char(2) NOT NULL, PRIMARY KEY ("id"));
-- check (not expressible in plain SQL on sqlite: run it and stop if it counts any row): rows of products.price have more than 2 decimal place(s): the change would lose or alter them
-- SELECT count(*) FROM "products" WHERE CAST("price" AS NUMERIC) <> round(CAST("price" AS NUMERIC), 2);
-- check (not expressible in plain SQL on sqlite: run it and stop if it counts any row): rows of products.price have more than 10 digit(s) before the decimal point: the change would lose or alter them
-- SELECT count(*) FROM "products" WHERE abs(round(CAST("price" AS NUMERIC), 2)) >= 10000000000;
INSERT INTO "_orm_new_products" ("id", "price", "country") SELECT "id", "price", "country" FROM "products";
DROP TABLE "products";
PRAGMA legacy_alter_table = ON;
ALTER TABLE "_orm_new_products" RENAME TO "products";
PRAGMA legacy_alter_table = OFF;
-- run the SQL kept above
