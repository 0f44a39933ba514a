ALTER TABLE "posts" ADD CONSTRAINT "ck_posts_status" CHECK (status IN ('draft', 'published', 'archived'));
ALTER TABLE "posts" ADD CONSTRAINT "ck_posts_content_not_empty" CHECK (length(content) > 0);
