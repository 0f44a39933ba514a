ALTER TABLE "posts" ADD COLUMN "reviewed" "post_status" DEFAULT 'published'::"post_status";
ALTER TABLE "posts" ADD COLUMN "state" "post_status" NOT NULL DEFAULT 'draft'::"post_status";
ALTER TABLE "posts" ALTER COLUMN "status" SET DEFAULT 'draft'::"post_status";
