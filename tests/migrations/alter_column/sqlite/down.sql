-- keep the SQL that this query returns: SELECT sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'users'
CREATE TABLE "_orm_new_users" ("id" INTEGER NOT NULL, "name" VARCHAR(40) NOT NULL, "age" INTEGER, "level" INTEGER NOT NULL, "active" BOOLEAN NOT NULL, PRIMARY KEY ("id"));
-- check (not expressible in plain SQL on sqlite: run it and stop if it counts any row): rows of users.name are longer than 40 characters: the change would lose or alter them
-- SELECT count(*) FROM "users" WHERE length("name") > 40;
-- check (not expressible in plain SQL on sqlite: run it and stop if it counts any row): rows of users.level are out of the range of integer (-2147483648 to 2147483647): the change would lose or alter them
-- SELECT count(*) FROM "users" WHERE CAST("level" AS NUMERIC) NOT BETWEEN -2147483648 AND 2147483647;
INSERT INTO "_orm_new_users" ("id", "name", "age", "level", "active") SELECT "id", "name", "age", "level", "active" FROM "users";
DROP TABLE "users";
PRAGMA legacy_alter_table = ON;
ALTER TABLE "_orm_new_users" RENAME TO "users";
PRAGMA legacy_alter_table = OFF;
-- run the SQL kept above
