-- keep the SQL that this query returns: SELECT sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'posts'
CREATE TABLE "_orm_new_posts" ("id" INTEGER NOT NULL, "content" TEXT NOT NULL, "status" TEXT NOT NULL, "author_id" INTEGER NOT NULL, PRIMARY KEY ("id"));
INSERT INTO "_orm_new_posts" ("id", "content", "status", "author_id") SELECT "id", "content", "status", "author_id" FROM "posts";
DROP TABLE "posts";
PRAGMA legacy_alter_table = ON;
ALTER TABLE "_orm_new_posts" RENAME TO "posts";
PRAGMA legacy_alter_table = OFF;
CREATE INDEX "posts_status_idx" ON "posts" ("status");
-- run the SQL kept above
DROP INDEX "posts_status_idx";
-- keep the SQL that this query returns: SELECT sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'users'
CREATE TABLE "_orm_new_users" ("id" INTEGER NOT NULL, "email" TEXT NOT NULL, "preferences" JSON_TEXT NOT NULL, PRIMARY KEY ("id"));
INSERT INTO "_orm_new_users" ("id", "email", "preferences") SELECT "id", "email", "preferences" FROM "users";
DROP TABLE "users";
PRAGMA legacy_alter_table = ON;
ALTER TABLE "_orm_new_users" RENAME TO "users";
PRAGMA legacy_alter_table = OFF;
-- run the SQL kept above
-- keep the SQL that this query returns: SELECT sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'posts'
CREATE TABLE "_orm_new_posts" ("id" INTEGER NOT NULL, "content" TEXT NOT NULL, "status" TEXT NOT NULL, "author_id" INTEGER NOT NULL, PRIMARY KEY ("id"), CONSTRAINT "fk_posts_author_id_users" FOREIGN KEY ("author_id") REFERENCES "users" ("id"));
INSERT INTO "_orm_new_posts" ("id", "content", "status", "author_id") SELECT "id", "content", "status", "author_id" FROM "posts";
DROP TABLE "posts";
PRAGMA legacy_alter_table = ON;
ALTER TABLE "_orm_new_posts" RENAME TO "posts";
PRAGMA legacy_alter_table = OFF;
-- run the SQL kept above
