-- keep the SQL that this query returns: SELECT sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'posts'
CREATE TABLE "_orm_new_posts" ("id" INTEGER NOT NULL, "author_id" INTEGER NOT NULL, "editor_id" INTEGER, PRIMARY KEY ("id"));
INSERT INTO "_orm_new_posts" ("id", "author_id", "editor_id") SELECT "id", "author_id", "editor_id" FROM "posts";
DROP TABLE "posts";
PRAGMA legacy_alter_table = ON;
ALTER TABLE "_orm_new_posts" RENAME TO "posts";
PRAGMA legacy_alter_table = OFF;
-- run the SQL kept above
