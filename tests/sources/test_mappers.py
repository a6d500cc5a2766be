from datetime import UTC, date, datetime

from pipeline.sources.atlassian_admin import mappers

CTX = mappers.SnapshotContext("org-1", "run-1", datetime(2026, 3, 2, 6, 0, tzinfo=UTC))
SITE = "58d24034-e3ec-11ed-b5ea-0242ac120002"


def test_user_row_renames_known_fields_and_keeps_new_ones() -> None:
    item = {
        "accountId": "abc",
        "accountStatus": "active",
        "mfaEnabled": True,
        "addedToOrg": "2025-01-01T00:00:00Z",
        "productAccess": [{"key": "confluence"}],
        "groups": [{"id": "g"}],
        "links": {"self": "x"},
        "brandNewField": {"nested": 1},
    }
    row = mappers.user_row(item, CTX)
    assert row["account_id"] == "abc"
    assert row["is_mfa_enabled"] is True
    assert row["added_to_org_at"] == "2025-01-01T00:00:00Z"
    assert row["brandNewField"] == {"nested": 1}  # dlt snake-cases it into a new column
    assert "productAccess" not in row and "groups" not in row and "mfaEnabled" not in row
    assert row["org_id"] == "org-1" and row["snapshot_date"] == date(2026, 3, 2)


def test_missing_optional_user_fields_do_not_crash() -> None:
    row = mappers.user_row({"accountId": "abc"}, CTX)
    assert row["account_id"] == "abc"
    assert "email" not in row


def test_v1_and_v2_last_active_shapes_give_identical_rows() -> None:
    ari = f"ari:cloud:confluence::site/{SITE}"
    v1 = [
        {
            "id": ari,
            "key": "confluence",
            "last_active": "2026-02-27",
            "last_active_timestamp": "2026-02-27T14:05:11Z",
        }
    ]
    v2 = [{"id": ari, "key": "confluence", "lastActiveTimestamp": "2026-02-27T14:05:11Z"}]
    rows_v1 = list(mappers.last_active_rows_from_product_access("abc", v1, CTX))
    rows_v2 = list(mappers.last_active_rows_from_product_access("abc", v2, CTX))
    assert rows_v1 == rows_v2
    assert rows_v1[0]["site_id"] == SITE
    assert rows_v1[0]["last_active_date"] == "2026-02-27"


def test_never_used_products_yield_no_last_active_rows() -> None:
    product_access = [{"id": f"ari:cloud:jira-software::site/{SITE}", "key": "jira-software"}]
    assert list(mappers.last_active_rows_from_product_access("abc", product_access, CTX)) == []
    access = list(mappers.access_rows_from_product_access("abc", product_access, CTX))
    assert access[0]["product_key"] == "jira-software" and access[0]["site_id"] == SITE


def test_resource_ids_tolerate_bare_cloud_ids() -> None:
    assert mappers.site_id_from_resource(SITE) == SITE
    assert mappers.product_key_from_resource(SITE) is None
    assert (
        mappers.product_key_from_resource(f"ari:cloud:jira-service-desk::site/{SITE}") == "jira-service-desk"
    )


def test_grant_rows_accept_role_assignments_and_legacy_roles() -> None:
    assignments = [
        {
            "resourceId": f"ari:cloud:jira-software::site/{SITE}",
            "roleAssignments": [{"role": "atlassian/user", "roleAssignmentMethods": ["direct"]}],
            "roles": ["atlassian/user", "atlassian/admin"],
        }
    ]
    rows = list(mappers.grant_rows("org-1", "g1", assignments))
    assert [(r["product_key"], r["site_id"], r["role_id"]) for r in rows] == [
        ("jira-software", SITE, "atlassian/user"),
        ("jira-software", SITE, "atlassian/admin"),
    ]


def test_audit_event_finds_subject_and_site_and_survives_missing_parts() -> None:
    item = {
        "id": "e1",
        "attributes": {
            "time": "2026-03-01T10:00:00Z",
            "processedAt": "2026-03-01T10:00:03Z",
            "action": "user_invited",
            "actor": {"id": "admin", "name": "Ada"},
            "context": [{"id": "abc", "type": "users", "attributes": {"email": "a@x.io"}}],
            "container": [
                {"id": SITE, "type": "sites", "attributes": {"siteHostName": "https://x.atlassian.net"}}
            ],
        },
    }
    row = mappers.audit_event_row(item, "org-1")
    assert row["subject_account_id"] == "abc" and row["subject_email"] == "a@x.io"
    assert row["site_id"] == SITE and row["site_host"] == "https://x.atlassian.net"
    assert row["ip"] is None and row["message"] is None
    bare = mappers.audit_event_row({"id": "e2", "attributes": {"action": "x", "context": []}}, "org-1")
    assert bare["subject_account_id"] is None and bare["event_at"] is None
