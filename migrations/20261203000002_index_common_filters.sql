-- Indexes for the common filters and orders, chosen from EXPLAIN QUERY PLAN of the list
-- queries the store builds (src/store/query_plans.rs asserts they are used). Each ends with seq,
-- the default order and keyset tie-breaker, so a filtered page in that order is read straight
-- off the index and stops after one page.
CREATE INDEX vpp_tokens_by_state ON vpp_tokens (tenant_id, state, seq);
CREATE INDEX vpp_tokens_by_display_name ON vpp_tokens (tenant_id, display_name, seq);
CREATE INDEX vpp_tokens_by_last_modified ON vpp_tokens (tenant_id, last_modified_date_time, seq);
