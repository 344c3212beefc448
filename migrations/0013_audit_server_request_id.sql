-- fleetd schema, version 13 (issue #10): every audit row also carries the id fleetd generated for the request.
-- request_id is the client's X-Request-Id when it sent a valid one (useful to tie a row to the client's own logs,
-- but chosen by the client: two requests may share it); server_request_id is fleetd's own, unique per request and
-- written in fleetd's access log line for the request. Rows written before this version, and rows of fleetd's own
-- actions (loops, the token CLI), have ''.
ALTER TABLE audit_log ADD COLUMN server_request_id text NOT NULL DEFAULT '';
