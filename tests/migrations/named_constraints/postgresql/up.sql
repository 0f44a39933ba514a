ALTER TABLE "posts" DROP CONSTRAINT "fk_posts_author_id_users";
ALTER TABLE "users" ADD CONSTRAINT "users_email_key" UNIQUE ("email");
CREATE INDEX "posts_status_idx" ON "posts" ("status");
ALTER TABLE "posts" ADD CONSTRAINT "posts_author_id_fkey" FOREIGN KEY ("author_id") REFERENCES "users" ("id");
