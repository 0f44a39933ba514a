-- keep the SQL that this query returns: SELECT sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'posts'
CREATE TABLE "_orm_new_posts" ("id" INTEGER NOT NULL, "title" VARCHAR(200) NOT NULL, "summary" VARCHAR(50), PRIMARY KEY ("id"));
-- check (not expressible in plain SQL on sqlite: run it and stop if it counts any row): rows of posts.summary are longer than 50 characters: the change would lose or alter them
-- SELECT count(*) FROM "posts" WHERE length("summary") > 50;
INSERT INTO "_orm_new_posts" ("id", "title", "summary") SELECT "id", "title", "summary" FROM "posts";
DROP TABLE "posts";
PRAGMA legacy_alter_table = ON;
ALTER TABLE "_orm_new_posts" RENAME TO "posts";
PRAGMA legacy_alter_table = OFF;
-- run the SQL kept above
