-- keep the SQL that this query returns: SELECT sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'products'
CREATE TABLE "_orm_new_products" ("id" INTEGER NOT NULL, "price" DECIMAL_TEXT COLLATE orm_decimal NOT NULL, "country" VARCHAR(2) NOT NULL, PRIMARY KEY ("id"));
INSERT INTO "_orm_new_products" ("id", "price", "country") SELECT "id", "price", "country" FROM "products";
DROP TABLE "products";
PRAGMA legacy_alter_table = ON;
ALTER TABLE "_orm_new_products" RENAME TO "products";
PRAGMA legacy_alter_table = OFF;
-- run the SQL kept above
