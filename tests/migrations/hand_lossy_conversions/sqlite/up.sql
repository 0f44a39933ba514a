CREATE TABLE "measures" ("id" INTEGER NOT NULL, "amount" NUMERIC(10, 2) NOT NULL, "qty" INTEGER NOT NULL, "ratio" REAL NOT NULL, "code" TEXT NOT NULL, "flag" INTEGER NOT NULL, "label" VARCHAR(50), "note" TEXT NOT NULL, PRIMARY KEY ("id"));
-- keep the SQL that this query returns: SELECT sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'measures'
CREATE TABLE "_orm_new_measures" ("id" INTEGER NOT NULL, "amount" NUMERIC(6, 3) NOT NULL, "qty" INTEGER NOT NULL, "ratio" INTEGER NOT NULL, "code" INTEGER NOT NULL, "flag" BOOLEAN NOT NULL, "label" VARCHAR(20) NOT NULL, "note" VARCHAR(10) NOT NULL, PRIMARY KEY ("id"));
-- check (not expressible in plain SQL on sqlite: run it and stop if it counts any row): rows of measures.amount have more than 3 digit(s) before the decimal point: the change would lose or alter them
-- SELECT count(*) FROM "measures" WHERE abs(round(CAST("amount" AS NUMERIC), 3)) >= 1000;
-- check (not expressible in plain SQL on sqlite: run it and stop if it counts any row): rows of measures.qty are out of the range of integer (-2147483648 to 2147483647): the change would lose or alter them
-- SELECT count(*) FROM "measures" WHERE CAST("qty" AS NUMERIC) NOT BETWEEN -2147483648 AND 2147483647;
-- check (not expressible in plain SQL on sqlite: run it and stop if it counts any row): rows of measures.ratio have a fractional part (the new type is integer): the change would lose or alter them
-- SELECT count(*) FROM "measures" WHERE CAST("ratio" AS NUMERIC) <> round(CAST("ratio" AS NUMERIC));
-- check (not expressible in plain SQL on sqlite: run it and stop if it counts any row): rows of measures.ratio are out of the range of integer (-2147483648 to 2147483647): the change would lose or alter them
-- SELECT count(*) FROM "measures" WHERE CAST("ratio" AS NUMERIC) NOT BETWEEN -2147483648 AND 2147483647;
-- check (not expressible in plain SQL on sqlite: run it and stop if it counts any row): rows of measures.code are out of the range of bigint (-9223372036854775808 to 9223372036854775807): the change would lose or alter them
-- SELECT count(*) FROM "measures" WHERE CAST("code" AS NUMERIC) NOT BETWEEN -9223372036854775808 AND 9223372036854775807;
-- check (not expressible in plain SQL on sqlite: run it and stop if it counts any row): rows of measures.flag are neither 0 nor 1: the change would lose or alter them
-- SELECT count(*) FROM "measures" WHERE CAST("flag" AS NUMERIC) NOT IN (0, 1);
-- check (not expressible in plain SQL on sqlite: run it and stop if it counts any row): rows of measures.label are NULL, and the column becomes NOT NULL: the change would lose or alter them
-- SELECT count(*) FROM "measures" WHERE "label" IS NULL;
-- check (not expressible in plain SQL on sqlite: run it and stop if it counts any row): rows of measures.label are longer than 20 characters: the change would lose or alter them
-- SELECT count(*) FROM "measures" WHERE length("label") > 20;
INSERT INTO "_orm_new_measures" ("id", "amount", "qty", "ratio", "code", "flag", "label", "note") SELECT "id", "amount", "qty", "ratio", "code", "flag", "label", substr("note", 1, 10) FROM "measures";
-- check (not expressible in plain SQL on sqlite: run it and stop if it counts any row): rows of measures.code are not integers: the change would lose or alter them
-- SELECT count(*) FROM "_orm_new_measures" WHERE "code" IS NOT NULL AND typeof("code") NOT IN ('integer');
DROP TABLE "measures";
PRAGMA legacy_alter_table = ON;
ALTER TABLE "_orm_new_measures" RENAME TO "measures";
PRAGMA legacy_alter_table = OFF;
-- run the SQL kept above
