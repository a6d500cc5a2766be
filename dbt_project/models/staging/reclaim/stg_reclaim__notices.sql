{%- set columns = {
    'notice_id': 'varchar',
    'org_id': 'varchar',
    'account_id': 'varchar',
    'email': 'varchar',
    'display_name': 'varchar',
    'action_key': 'varchar',
    'seats': 'varchar',
    'reclaim_reason': 'varchar',
    'state': 'varchar',
    'reason': 'varchar',
    'message_id': 'varchar',
    'policy_run_id': 'varchar',
    'planned_at': 'timestamp with time zone',
    'sent_at': 'timestamp with time zone',
    'removal_date': 'date',
    'send_attempts': 'integer',
    'apply_run_id': 'varchar',
    'closed_at': 'timestamp with time zone',
} -%}

-- The reclaim policy's notices as written by the reclaim_policy step, typed.
with

source as (
    select * from {{ journal_table('notices', columns) }}
),

renamed as (
    select {{ typed_columns(columns) }}
    from source
)

select * from renamed
