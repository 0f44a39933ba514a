DROP TRIGGER "trg_posts_modified";
ALTER TABLE "posts" DROP COLUMN "modified_at";
