"""PostgreSQL driver for modelmig (psycopg 3)."""
