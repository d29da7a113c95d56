"""Cypher for the Neo4j backend, as named constants and small builders."""
