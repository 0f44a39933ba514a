-- keep the SQL that this query returns: SELECT sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'users'
CREATE TABLE "_orm_new_users" ("id" INTEGER NOT NULL, "name" VARCHAR(80) NOT NULL, "age" INTEGER NOT NULL DEFAULT 0, "level" INTEGER NOT NULL, "active" BOOLEAN NOT NULL DEFAULT TRUE, PRIMARY KEY ("id"));
-- check (not expressible in plain SQL on sqlite: run it and stop if it counts any row): rows of users.age are NULL, and the column becomes NOT NULL: the change would lose or alter them
-- SELECT count(*) FROM "users" WHERE "age" IS NULL;
INSERT INTO "_orm_new_users" ("id", "name", "age", "level", "active") SELECT "id", "name", "age", "level", "active" FROM "users";
DROP TABLE "users";
PRAGMA legacy_alter_table = ON;
ALTER TABLE "_orm_new_users" RENAME TO "users";
PRAGMA legacy_alter_table = OFF;
-- run the SQL kept above
