"""API routes: viz."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter()
