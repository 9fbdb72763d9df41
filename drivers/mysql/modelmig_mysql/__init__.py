"""MySQL 8 / MariaDB 10.11+ driver for modelmig (PyMySQL)."""
