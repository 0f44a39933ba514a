-- SQLite has no gin index method: index ix_user_preferences_gin on users is skipped
CREATE UNIQUE INDEX "ux_users_lower_email" ON "users" ((lower(email)));
-- SQLite has no gin index method: index ix_posts_fts on posts is skipped
CREATE INDEX "ix_posts_live" ON "posts" ("author_id", "status") WHERE status <> 'archived';
