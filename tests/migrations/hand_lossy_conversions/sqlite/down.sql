-- keep the SQL that this query returns: SELECT sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'measures'
CREATE TABLE "_orm_new_measures" ("id" INTEGER NOT NULL, "amount" NUMERIC(10, 2) NOT NULL, "qty" INTEGER NOT NULL, "ratio" REAL NOT NULL, "code" TEXT NOT NULL, "flag" INTEGER NOT NULL, "label" VARCHAR(50), "note" TEXT NOT NULL, PRIMARY KEY ("id"));
-- check (not expressible in plain SQL on sqlite: run it and stop if it counts any row): rows of measures.amount have more than 2 decimal place(s): the change would lose or alter them
-- SELECT count(*) FROM "measures" WHERE CAST("amount" AS NUMERIC) <> round(CAST("amount" AS NUMERIC), 2);
INSERT INTO "_orm_new_measures" ("id", "amount", "qty", "ratio", "code", "flag", "label", "note") SELECT "id", "amount", "qty", "ratio", "code", "flag", "label", "note" FROM "measures";
DROP TABLE "measures";
PRAGMA legacy_alter_table = ON;
ALTER TABLE "_orm_new_measures" RENAME TO "measures";
PRAGMA legacy_alter_table = OFF;
-- run the SQL kept above
DROP TABLE "measures";
