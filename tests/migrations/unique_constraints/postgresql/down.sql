ALTER TABLE "contacts" DROP CONSTRAINT "uq_contacts_name_city";
ALTER TABLE "contacts" DROP CONSTRAINT "uq_contacts_email";
