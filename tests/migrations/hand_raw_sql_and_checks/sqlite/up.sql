-- keep the SQL that this query returns: SELECT sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'users'
CREATE TABLE "_orm_new_users" ("id" INTEGER NOT NULL, "name" VARCHAR(40) NOT NULL, PRIMARY KEY ("id"), CONSTRAINT "ck_users_name_not_empty" CHECK (name <> ''));
INSERT INTO "_orm_new_users" ("id", "name") SELECT "id", "name" FROM "users";
DROP TABLE "users";
PRAGMA legacy_alter_table = ON;
ALTER TABLE "_orm_new_users" RENAME TO "users";
PRAGMA legacy_alter_table = OFF;
-- run the SQL kept above
CREATE VIEW named_users AS SELECT id, name FROM users WHERE name <> '';
CREATE TRIGGER users_upper_name AFTER INSERT ON users BEGIN
  UPDATE users SET name = upper(NEW.name) WHERE id = NEW.id;
END;
ALTER TABLE "users" ADD COLUMN "nickname" TEXT;
-- keep the SQL that this query returns: SELECT sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'users'
CREATE TABLE "_orm_new_users" ("id" INTEGER NOT NULL, "name" VARCHAR(40) NOT NULL, "nickname" TEXT, PRIMARY KEY ("id"));
INSERT INTO "_orm_new_users" ("id", "name", "nickname") SELECT "id", "name", "nickname" FROM "users";
DROP TABLE "users";
PRAGMA legacy_alter_table = ON;
ALTER TABLE "_orm_new_users" RENAME TO "users";
PRAGMA legacy_alter_table = OFF;
-- run the SQL kept above
