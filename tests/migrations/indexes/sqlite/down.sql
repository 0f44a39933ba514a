DROP INDEX "ux_contacts_email_city";
DROP INDEX "ix_contacts_city_name";
DROP INDEX "ix_contacts_email";
DROP INDEX "ix_contacts_name";
