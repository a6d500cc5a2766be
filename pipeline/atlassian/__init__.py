"""Atlassian Admin API client: paced, retrying, typed errors, never leaks the key.

``AdminClient`` (async transport: pacing, retries, counters) + ``AdminApi`` (each endpoint, once);
``SyncAdminApi`` calls any ``AdminApi`` method from synchronous code (dlt's resources, the reclaim commands).
"""

from pipeline.atlassian.blocking import SyncAdminApi
from pipeline.atlassian.client import AdminClient, ApiResponse, ApiStats, BucketStats
from pipeline.atlassian.endpoints import AdminApi, WriteReceipt
from pipeline.atlassian.errors import (
    ApiConnectionError,
    AtlassianApiError,
    AuthenticationError,
    BadRequestError,
    GroupNotFound,
    MembershipNotFound,
    NotFoundError,
    OrgNotFoundError,
    RetriesExhaustedError,
    UnexpectedResponseError,
    UnsafeLinkError,
    UserLimitReached,
    UserNotFoundError,
    WriteForbidden,
)
from pipeline.atlassian.pagination import Page

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
    "GroupNotFound",
    "MembershipNotFound",
    "NotFoundError",
    "OrgNotFoundError",
    "Page",
    "RetriesExhaustedError",
    "SyncAdminApi",
    "UnexpectedResponseError",
    "UnsafeLinkError",
    "UserLimitReached",
    "UserNotFoundError",
    "WriteForbidden",
    "WriteReceipt",
]
