ALTER TABLE "posts" DROP CONSTRAINT "posts_author_id_fkey";
DROP INDEX "posts_status_idx";
ALTER TABLE "users" DROP CONSTRAINT "users_email_key";
ALTER TABLE "posts" ADD CONSTRAINT "fk_posts_author_id_users" FOREIGN KEY ("author_id") REFERENCES "users" ("id");
