-- keep the SQL that this query returns: SELECT sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'items'
CREATE TABLE "_orm_new_items" ("code" TEXT NOT NULL, "version" INTEGER NOT NULL DEFAULT 1, PRIMARY KEY ("code", "version"));
INSERT INTO "_orm_new_items" ("code", "version") SELECT "code", "version" FROM "items";
DROP TABLE "items";
PRAGMA legacy_alter_table = ON;
ALTER TABLE "_orm_new_items" RENAME TO "items";
PRAGMA legacy_alter_table = OFF;
-- run the SQL kept above
