-- site.lua - wrk walks a list of request paths in order.
-- wrk -s site.lua URL -- LIST OFFSET: LIST has one path per line; the
-- first request is line OFFSET + 1; at the end the walk starts again.
local paths, n, i = {}, 0, 0

init = function(args)
	for line in io.lines(args[1]) do
		n = n + 1
		paths[n] = line
	end
	i = (tonumber(args[2]) or 0) % n
end

request = function()
	i = i % n + 1
	return wrk.format("GET", paths[i])
end

done = function(summary, latency, requests)
	local e = summary.errors
	io.write(string.format(
		"AB-RESULT requests=%d bytes=%d duration_us=%d p50_us=%d p99_us=%d " ..
		"connect=%d read=%d write=%d status=%d timeout=%d\n",
		summary.requests, summary.bytes, summary.duration,
		latency:percentile(50), latency:percentile(99),
		e.connect, e.read, e.write, e.status, e.timeout))
end
