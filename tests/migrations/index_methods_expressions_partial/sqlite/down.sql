DROP INDEX "ix_posts_live";
-- SQLite has no gin index method: index ix_posts_fts on posts is skipped
DROP INDEX "ux_users_lower_email";
-- SQLite has no gin index method: index ix_user_preferences_gin on users is skipped
