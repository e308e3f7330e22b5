-- wrk script: every request signs up a new user (unique email and username per run).
local counter = 0
local prefix = os.getenv("BENCH_SIGNUP_PREFIX") or ("f" .. tostring(os.time()))

request = function()
  counter = counter + 1
  local name = prefix .. "_" .. counter
  local body = '{"email":"' .. name .. '@example.com","username":"' .. name
    .. '","password":"correct horse battery staple"}'
  return wrk.format("POST", "/users", { ["Content-Type"] = "application/json" }, body)
end
