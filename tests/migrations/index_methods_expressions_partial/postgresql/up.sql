CREATE INDEX "ix_user_preferences_gin" ON "users" USING gin ("preferences" jsonb_path_ops);
CREATE UNIQUE INDEX "ux_users_lower_email" ON "users" ((lower(email)));
CREATE INDEX "ix_posts_fts" ON "posts" USING gin ((to_tsvector('english', content)));
CREATE INDEX "ix_posts_live" ON "posts" ("author_id", "status") WHERE status <> 'archived';
