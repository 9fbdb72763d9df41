"""pytest plugin for apps that use modelmig: migrated test databases."""
