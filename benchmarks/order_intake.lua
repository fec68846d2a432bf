-- wrk script of benchmarks/order_intake.py: one new order per request to POST /api/v1/orders.
--
--   wrk -t 2 -c 16 -d 15s -s order_intake.lua URL/api/v1/orders -- DATA RUN SEED
--
-- DATA is the Lua file order_intake.py writes: the body as a string.format template, the number
-- of lines, the unit price and shipping fee, the partners' API keys and SKUs. Each order: a
-- partner chosen at random, that many distinct products of its catalogue chosen uniformly, 1-3
-- units each; its external id RUN-THREAD-N is unique. done() prints one line: "RESULT " and the
-- figures as JSON, latencies in microseconds. "sent" counts the requests built: wrk 4.1 builds
-- one in thread 1 before the run to check the script, and never sends it.

local threads = {}

function setup(thread)
   table.insert(threads, thread)
   thread:set("id", #threads)
end

function init(args)
   local data = dofile(args[1])
   run = args[2]
   math.randomseed(tonumber(args[3]) + id)
   template, lines, unit_price, shipping_fee = data.body, data.lines, data.unit_price, data.shipping_fee
   partners = {}
   for _, partner in ipairs(data.partners) do
      -- the request line and headers, built once (cheaper than wrk.format for every request)
      local head = string.format(
         "POST %s HTTP/1.1\r\nHost: %s\r\nAuthorization: Bearer %s\r\nContent-Type: application/json\r\n"
            .. "Content-Length: ",
         wrk.path, wrk.headers["Host"], partner.key
      )
      table.insert(partners, {head = head, skus = partner.skus})
   end
   sent, not_201, sample_error = 0, 0, ""
end

function request()
   sent = sent + 1
   local partner = partners[math.random(#partners)]
   local skus = partner.skus
   local values, picked, units = {run .. "-" .. id .. "-" .. sent}, {}, 0
   while #values < 1 + 2 * lines do
      local index = math.random(#skus)
      if not picked[index] then
         picked[index] = true
         local quantity = math.random(3)
         units = units + quantity
         values[#values + 1] = skus[index]
         values[#values + 1] = quantity
      end
   end
   values[#values + 1] = units * unit_price + shipping_fee
   local body = string.format(template, unpack(values))
   return partner.head .. #body .. "\r\n\r\n" .. body
end

function response(status, headers, answer)
   if status ~= 201 then
      not_201 = not_201 + 1
      if sample_error == "" then
         sample_error = status .. ": " .. string.sub(answer, 1, 300)
      end
   end
end

local function json_string(text)
   return '"' .. string.gsub(text, '[%c"\\]', function(c) return string.format("\\u%04x", string.byte(c)) end) .. '"'
end

function done(summary, latency, requests)
   local sent_all, not_201_all, sample = 0, 0, ""
   for _, thread in ipairs(threads) do
      sent_all = sent_all + thread:get("sent")
      not_201_all = not_201_all + thread:get("not_201")
      if sample == "" then
         sample = thread:get("sample_error")
      end
   end
   local errors = summary.errors
   io.write(string.format(
      'RESULT {"requests": %d, "duration_us": %d, "sent": %d, "not_201": %d, "p50_us": %d, "p99_us": %d,'
         .. ' "connect_errors": %d, "read_errors": %d, "write_errors": %d, "timeouts": %d, "sample_error": %s}\n',
      summary.requests, summary.duration, sent_all, not_201_all, latency:percentile(50), latency:percentile(99),
      errors.connect, errors.read, errors.write, errors.timeout, json_string(sample)
   ))
end
