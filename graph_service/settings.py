"""All configuration in one place, read from the environment (or a .env file)."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path

from pydantic import AliasChoices, Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class StoreKind(StrEnum):
    EMBEDDED = "embedded"
    NEO4J = "neo4j"


def default_db_path() -> Path:
    """``$XDG_DATA_HOME/graph-service/graph.sqlite3`` (``~/.local/share`` by default)."""
    import os

    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "graph-service" / "graph.sqlite3"


class Settings(BaseSettings):
    """Service settings; each field names the environment variable that sets it."""

    model_config = SettingsConfigDict(env_file=".env", extra="ignore", populate_by_name=True)

    store: StoreKind = Field(
        default=StoreKind.EMBEDDED,
        validation_alias=AliasChoices("GRAPH_SERVICE_STORE", "store"),
        description="Backend: embedded (SQLite file, no server) or neo4j.",
    )
    db_path: Path = Field(
        default_factory=default_db_path,
        validation_alias=AliasChoices("GRAPH_SERVICE_DB", "db_path"),
        description="File of the embedded store.",
    )
    neo4j_uri: str = Field(
        default="bolt://127.0.0.1:7687",
        validation_alias=AliasChoices("NEO4J_URI", "neo4j_uri"),
        description="Bolt URI of the Neo4j server.",
    )
    neo4j_user: str = Field(default="neo4j", validation_alias=AliasChoices("NEO4J_USER", "neo4j_user"))
    neo4j_password: str = Field(default="", validation_alias=AliasChoices("NEO4J_PASSWORD", "neo4j_password"))
    neo4j_database: str = Field(default="neo4j", validation_alias=AliasChoices("NEO4J_DATABASE", "neo4j_database"))
    neo4j_in_memory: bool = Field(
        default=True,
        validation_alias=AliasChoices("GRAPH_SERVICE_NEO4J_IN_MEMORY", "neo4j_in_memory"),
        description="Neo4j: answer the questions, organisation lookups, ties and neighbourhoods on the whole graph "
        "kept in memory (checked against the database's version on every request); false narrows each question "
        "down in Cypher and reads lookups from the database (less memory, slower).",
    )
    max_page_size: int = Field(
        default=500, validation_alias=AliasChoices("GRAPH_SERVICE_MAX_PAGE_SIZE", "max_page_size")
    )
    max_hops: int = Field(default=4, validation_alias=AliasChoices("GRAPH_SERVICE_MAX_HOPS", "max_hops"))
    max_export_items: int = Field(
        default=200_000,
        validation_alias=AliasChoices("GRAPH_SERVICE_MAX_EXPORT_ITEMS", "max_export_items"),
        description="Most organisations plus ties one /export may hold (whole England is about 125,000).",
    )
    busy_timeout: float = Field(
        default=10.0,
        gt=0,
        le=600,
        validation_alias=AliasChoices("GRAPH_SERVICE_BUSY_TIMEOUT", "busy_timeout"),
        description="Seconds a write to the embedded store waits while another process (a load) writes, "
        "before it gives up with 'busy' (the API answers 503).",
    )
    max_viz_nodes: int = Field(
        default=10_000,
        ge=1,
        validation_alias=AliasChoices("GRAPH_SERVICE_MAX_VIZ_NODES", "max_viz_nodes"),
        description="Most organisations one served /viz picture may hold (Birmingham is about 700, whole England "
        "about 31,000); `graph-service render` has no limit.",
    )
    tiles_url: str | None = Field(
        default=None,
        validation_alias=AliasChoices("GRAPH_SERVICE_TILES_URL", "tiles_url"),
        description="An online tile layer under the maps (a Leaflet URL template, {z}/{x}/{y}); off by default,"
        " so that no page fetches anything from elsewhere.",
    )
    api_keys: str = Field(
        default="",
        validation_alias=AliasChoices("GRAPH_SERVICE_API_KEYS", "api_keys"),
        description="Comma-separated name:role:key entries (roles: reader, editor, admin).",
    )
    keys_file: Path | None = Field(
        default=None,
        validation_alias=AliasChoices("GRAPH_SERVICE_KEYS_FILE", "keys_file"),
        description="File of name:role:key or name:role:sha256:<hex> lines.",
    )
    public_read: bool = Field(
        default=True,
        validation_alias=AliasChoices("GRAPH_SERVICE_PUBLIC_READ", "public_read"),
        description="Reads need no key (a public read-only deployment); false requires a reader key.",
    )
    max_body_bytes: int = Field(
        default=1_048_576,
        validation_alias=AliasChoices("GRAPH_SERVICE_MAX_BODY_BYTES", "max_body_bytes"),
        description="Largest request body, except file loads.",
    )
    max_upload_bytes: int = Field(
        default=200 * 1_048_576,
        validation_alias=AliasChoices("GRAPH_SERVICE_MAX_UPLOAD_BYTES", "max_upload_bytes"),
        description="Largest file an admin may load through the API.",
    )
    max_expanded_bytes: int = Field(
        default=268_435_456,
        ge=1,
        validation_alias=AliasChoices("GRAPH_SERVICE_MAX_EXPANDED_BYTES", "max_expanded_bytes"),
        description="Largest a loaded file may be once decompressed (whole England is 49 MB); "
        "a gzip bomb is refused when it passes this, before it fills the memory.",
    )
    max_concurrent_questions: int = Field(
        default=2,
        ge=1,
        validation_alias=AliasChoices("GRAPH_SERVICE_MAX_CONCURRENT_QUESTIONS", "max_concurrent_questions"),
        description="Questions (/questions/...) one server process answers at once; the rest wait their turn.",
    )
    question_wait_seconds: float = Field(
        default=30.0,
        gt=0,
        validation_alias=AliasChoices("GRAPH_SERVICE_QUESTION_WAIT", "question_wait_seconds"),
        description="Seconds a question waits for its turn before the API answers 503 (busy).",
    )
    body_timeout_seconds: float = Field(
        default=30.0,
        gt=0,
        validation_alias=AliasChoices("GRAPH_SERVICE_BODY_TIMEOUT", "body_timeout_seconds"),
        description="Seconds the server waits for the next part of a request body before it answers 408.",
    )
    header_timeout_seconds: float = Field(
        default=10.0,
        gt=0,
        validation_alias=AliasChoices("GRAPH_SERVICE_HEADER_TIMEOUT", "header_timeout_seconds"),
        description="Seconds a connection may take to send a request's headers before it is closed.",
    )
    max_connections: int = Field(
        default=200,
        ge=1,
        validation_alias=AliasChoices("GRAPH_SERVICE_MAX_CONNECTIONS", "max_connections"),
        description="Connections and requests one server process holds at once; beyond it, 503.",
    )
    cors_origins: str = Field(
        default="",
        validation_alias=AliasChoices("GRAPH_SERVICE_CORS_ORIGINS", "cors_origins"),
        description="Comma-separated origins allowed by CORS; empty turns CORS off.",
    )
