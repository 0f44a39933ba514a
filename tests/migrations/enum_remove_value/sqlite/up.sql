-- check (not expressible in plain SQL on sqlite: run it and stop if it counts any row): rows of posts.status hold labels that enum post_status no longer has: the change would lose or alter them
-- SELECT count(*) FROM "posts" WHERE CAST("status" AS TEXT) NOT IN ('draft', 'archived');
-- keep the SQL that this query returns: SELECT sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'posts'
CREATE TABLE "_orm_new_posts" ("id" INTEGER NOT NULL, "status" TEXT NOT NULL DEFAULT 'draft' CHECK ("status" IN ('draft', 'archived')), "visibility" TEXT CHECK ("visibility" IN ('public', 'private')), PRIMARY KEY ("id"));
INSERT INTO "_orm_new_posts" ("id", "status", "visibility") SELECT "id", "status", "visibility" FROM "posts";
DROP TABLE "posts";
PRAGMA legacy_alter_table = ON;
ALTER TABLE "_orm_new_posts" RENAME TO "posts";
PRAGMA legacy_alter_table = OFF;
-- run the SQL kept above
ALTER TABLE "posts" DROP COLUMN "visibility";
