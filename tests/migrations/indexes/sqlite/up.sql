CREATE INDEX "ix_contacts_name" ON "contacts" ("name");
CREATE UNIQUE INDEX "ix_contacts_email" ON "contacts" ("email");
CREATE INDEX "ix_contacts_city_name" ON "contacts" ("city", "name");
CREATE UNIQUE INDEX "ux_contacts_email_city" ON "contacts" ("email", "city");
