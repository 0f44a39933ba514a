-- keep the SQL that this query returns: SELECT sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'posts'
CREATE TABLE "_orm_new_posts" ("id" INTEGER NOT NULL, "title" VARCHAR(100) NOT NULL, "summary" VARCHAR(200), PRIMARY KEY ("id"));
-- check (not expressible in plain SQL on sqlite: run it and stop if it counts any row): rows of posts.title are longer than 100 characters: the change would lose or alter them
-- SELECT count(*) FROM "posts" WHERE length("title") > 100;
INSERT INTO "_orm_new_posts" ("id", "title", "summary") SELECT "id", "title", "summary" FROM "posts";
DROP TABLE "posts";
PRAGMA legacy_alter_table = ON;
ALTER TABLE "_orm_new_posts" RENAME TO "posts";
PRAGMA legacy_alter_table = OFF;
-- run the SQL kept above
