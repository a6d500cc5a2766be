{%- set columns = {
    'action_id': 'varchar',
    'plan_hash': 'varchar',
    'apply_run_id': 'varchar',
    'action': 'varchar',
    'org_id': 'varchar',
    'directory_id': 'varchar',
    'group_id': 'varchar',
    'group_name': 'varchar',
    'account_id': 'varchar',
    'product_key': 'varchar',
    'site_id': 'varchar',
    'reclaim_reason': 'varchar',
    'monthly_seat_price': 'decimal(10, 2)',
    'state': 'varchar',
    'reason': 'varchar',
    'request_id': 'varchar',
    'planned_at': 'timestamp with time zone',
    'intent_at': 'timestamp with time zone',
    'done_at': 'timestamp with time zone',
    'undoes_action_id': 'varchar',
    'undone_by_run_id': 'varchar',
} -%}

-- The reclaim journal as written by seatwatch reclaim apply / undo, typed.
with

source as (
    select * from {{ journal_table('actions', columns) }}
),

renamed as (
    select {{ typed_columns(columns) }}
    from source
)

select * from renamed
