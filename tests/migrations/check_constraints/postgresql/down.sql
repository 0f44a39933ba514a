ALTER TABLE "posts" DROP CONSTRAINT "ck_posts_content_not_empty";
ALTER TABLE "posts" DROP CONSTRAINT "ck_posts_status";
