"""modelmig's MongoDB driver: models with ``store = "mongo"`` become collections
with a ``$jsonSchema`` validator and indexes; migrations apply them through pymongo."""
