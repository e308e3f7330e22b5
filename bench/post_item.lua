-- wrk script: POST one item to the URL's collection (the Authorization header comes from -H).
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = '{"title":"Bench item","description":"posted by wrk"}'
