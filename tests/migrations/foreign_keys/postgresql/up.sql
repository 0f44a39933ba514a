ALTER TABLE "posts" ADD CONSTRAINT "fk_posts_author_id_users" FOREIGN KEY ("author_id") REFERENCES "users" ("id") ON DELETE CASCADE ON UPDATE CASCADE;
ALTER TABLE "posts" ADD CONSTRAINT "fk_posts_editor_id_users" FOREIGN KEY ("editor_id") REFERENCES "users" ("id") ON DELETE SET NULL;
