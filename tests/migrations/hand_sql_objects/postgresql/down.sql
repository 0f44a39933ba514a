DROP TRIGGER "trg_posts_modified" ON "posts";
DROP FUNCTION "update_modified_column"();
ALTER TABLE "posts" DROP COLUMN "modified_at";
