"""Atlassian Admin API client: paced, retrying, typed errors, never leaks the key.

``AdminClient`` (async transport) + ``AdminApi`` (endpoints) for async code; ``SyncAdminApi`` runs both on a
background event loop for dlt's synchronous resources.
"""

from pipeline.atlassian.client import AdminClient, ApiResponse, ApiStats, BucketStats
from pipeline.atlassian.endpoints import AdminApi
from pipeline.atlassian.errors import (
    ApiConnectionError,
    AtlassianApiError,
    AuthenticationError,
    BadRequestError,
    NotFoundError,
    OrgNotFoundError,
    RetriesExhaustedError,
    UnexpectedResponseError,
    UnsafeLinkError,
    UserNotFoundError,
)
from pipeline.atlassian.pagination import Page
from pipeline.atlassian.portal import SyncAdminApi

__all__ = [
    "AdminApi",
    "AdminClient",
    "ApiConnectionError",
    "ApiResponse",
    "ApiStats",
    "AtlassianApiError",
    "AuthenticationError",
    "BadRequestError",
    "BucketStats",
    "NotFoundError",
    "OrgNotFoundError",
    "Page",
    "RetriesExhaustedError",
    "SyncAdminApi",
    "UnexpectedResponseError",
    "UnsafeLinkError",
    "UserNotFoundError",
]
