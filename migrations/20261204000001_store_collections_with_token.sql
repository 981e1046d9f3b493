-- Each token's collections, also kept as JSON on the token's own row: a get or a list page then
-- reads one row per token, where gathering them from the child tables took two index searches
-- per token, about 60% of SQLite's time on a page of 100. The child tables stay the normalised
-- record (and what `roleScopeTagIds/any()` filters search). Only the writer writes either copy,
-- from the same in-memory token in the same transaction. Storage form, as src/store/rows.rs
-- reads it: action results are arrays [is_revoke_result, action_name, action_state,
-- start_date_time, last_updated_date_time, action_failure_reason, failed_licenses_count,
-- total_licenses_count]; scope tags are strings; both in ordinal order.
ALTER TABLE vpp_tokens ADD COLUMN action_results_json TEXT NOT NULL DEFAULT '[]';
ALTER TABLE vpp_tokens ADD COLUMN role_scope_tag_ids_json TEXT NOT NULL DEFAULT '[]';

UPDATE vpp_tokens SET
    action_results_json = (SELECT json_group_array(json_array(a.is_revoke_result, a.action_name,
            a.action_state, a.start_date_time, a.last_updated_date_time, a.action_failure_reason,
            a.failed_licenses_count, a.total_licenses_count) ORDER BY a.ordinal)
        FROM vpp_token_action_results a WHERE a.token_seq = vpp_tokens.seq),
    role_scope_tag_ids_json = (SELECT json_group_array(r.role_scope_tag_id ORDER BY r.ordinal)
        FROM vpp_token_role_scope_tag_ids r WHERE r.token_seq = vpp_tokens.seq);
