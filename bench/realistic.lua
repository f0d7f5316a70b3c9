-- realistic.lua - wrk script for bench/http_realistic.sh: browser-like
-- requests (a ~600-byte head: Cookie, Accept*, Referer, a long
-- User-Agent) for a fixed mix of static files. The requests are built once
-- in init(); each connection walks the same cycle from its own offset, so
-- the mix is the same for every tool.
--
-- The cycle of 20 requests: 6 x 300 B, 6 x 2 KB, 5 x 8 KB, 3 x 48 KB
-- (about 9.4 KB per response on average).

local cycle = {
	"/s300.bin", "/s2k.bin", "/s8k.bin", "/s300.bin", "/s2k.bin",
	"/s48k.bin", "/s300.bin", "/s8k.bin", "/s2k.bin", "/s300.bin",
	"/s8k.bin", "/s2k.bin", "/s48k.bin", "/s300.bin", "/s8k.bin",
	"/s2k.bin", "/s300.bin", "/s8k.bin", "/s2k.bin", "/s48k.bin",
}
local reqs = {}
local pos = 0

function init(args)
	local extra = args[1] -- "close": every request carries Connection: close
	for i, path in ipairs(cycle) do
		local h = {
			["Host"] = "www.example.test",
			["User-Agent"] = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 " ..
				"(KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36 Edg/120.0.2210.91",
			["Accept"] = "text/html,application/xhtml+xml,application/xml;q=0.9," ..
				"image/avif,image/webp,image/apng,*/*;q=0.8",
			["Accept-Language"] = "en-GB,en;q=0.9,de;q=0.8,fr;q=0.7",
			["Accept-Encoding"] = "gzip, deflate, br",
			["Referer"] = "http://www.example.test/articles/2026/12/a-long-article-name.html",
			["Cookie"] = "session=8f14e45fceea167a5a36dedd4bea2543b6a6f1e2; " ..
				"prefs=lang%3Den%26theme%3Ddark%26tz%3DEurope%2FBerlin; " ..
				"_ga=GA1.2.1234567890.1700000000; _gid=GA1.2.987654321.1701000000; " ..
				"cart=" .. i,
			["Sec-Fetch-Mode"] = "no-cors",
		}
		if extra == "close" then
			h["Connection"] = "close"
		end
		reqs[i] = wrk.format("GET", path, h)
	end
	pos = math.random(#reqs) - 1
end

function request()
	pos = pos % #reqs + 1
	return reqs[pos]
end
