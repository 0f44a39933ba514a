ALTER TABLE "posts" ADD COLUMN "reviewed" TEXT DEFAULT 'published' CHECK ("reviewed" IN ('draft', 'published'));
ALTER TABLE "posts" ADD COLUMN "state" TEXT NOT NULL DEFAULT 'draft' CHECK ("state" IN ('draft', 'published'));
-- keep the SQL that this query returns: SELECT sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'posts'
CREATE TABLE "_orm_new_posts" ("id" INTEGER NOT NULL, "status" TEXT NOT NULL DEFAULT 'draft' CHECK ("status" IN ('draft', 'published')), "reviewed" TEXT DEFAULT 'published' CHECK ("reviewed" IN ('draft', 'published')), "state" TEXT NOT NULL DEFAULT 'draft' CHECK ("state" IN ('draft', 'published')), PRIMARY KEY ("id"));
INSERT INTO "_orm_new_posts" ("id", "status", "reviewed", "state") SELECT "id", "status", "reviewed", "state" FROM "posts";
DROP TABLE "posts";
PRAGMA legacy_alter_table = ON;
ALTER TABLE "_orm_new_posts" RENAME TO "posts";
PRAGMA legacy_alter_table = OFF;
-- run the SQL kept above
