-- keep the SQL that this query returns: SELECT sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'posts'
CREATE TABLE "_orm_new_posts" ("id" INTEGER NOT NULL, "author_id" INTEGER NOT NULL, "editor_id" INTEGER, PRIMARY KEY ("id"), CONSTRAINT "fk_posts_author_id_users" FOREIGN KEY ("author_id") REFERENCES "users" ("id") ON DELETE CASCADE ON UPDATE CASCADE, CONSTRAINT "fk_posts_editor_id_users" FOREIGN KEY ("editor_id") REFERENCES "users" ("id") ON DELETE SET NULL);
INSERT INTO "_orm_new_posts" ("id", "author_id", "editor_id") SELECT "id", "author_id", "editor_id" FROM "posts";
DROP TABLE "posts";
PRAGMA legacy_alter_table = ON;
ALTER TABLE "_orm_new_posts" RENAME TO "posts";
PRAGMA legacy_alter_table = OFF;
-- run the SQL kept above
