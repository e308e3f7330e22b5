-- wrk script: POST one item whose title the events bench's control trigger burns PostgreSQL CPU
-- for (bench/events_bench.py, "the machine's own share"); otherwise as post_item.lua.
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = '{"title":"PostgreSQL burns","description":"posted by wrk"}'
