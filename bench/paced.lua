-- Paces each wrk connection: after each response, wait DELAY_MS milliseconds (environment) before the next request,
-- so the offered rate is about connections × 1000 / DELAY_MS per second whatever the proxy's speed.
local pause = tonumber(os.getenv("DELAY_MS"))

function delay()
  return pause
end
