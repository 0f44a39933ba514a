ALTER TABLE "posts" DROP CONSTRAINT "fk_posts_editor_id_users";
ALTER TABLE "posts" DROP CONSTRAINT "fk_posts_author_id_users";
