DROP INDEX "ix_posts_live";
DROP INDEX "ix_posts_fts";
DROP INDEX "ux_users_lower_email";
DROP INDEX "ix_user_preferences_gin";
