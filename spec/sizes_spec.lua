-- Every size a caller passes is checked against a bound before anything is
-- allocated: data.make_blobs(5, {centers = 1e9}) used to ask for 24 GB. Each
-- call runs in a child process capped at 1 GiB of address space (but under
-- AddressSanitizer) and 60 s, so that a regression fails here instead of
-- taking the machine's memory.
require("micrograd.core") -- registers micrograd._system
local check = require("spec.helpers.check")
local system = require("micrograd._system")
local format = string.format

--- Runs `code` (which must raise) in a capped interpreter (check.lua); returns its error message.
local function refusal(code)
  local setup = format("package.path = %q; package.cpath = %q; ", package.path, package.cpath)
  local body = setup .. "local mg = require('micrograd'); local t0 = os.clock(); "
    .. "local ok, err = pcall(function() " .. code .. " end); "
    .. "io.write(tostring(ok), '|', string.format('%.3f', os.clock() - t0), '|', tostring(err))"
  -- (not under AddressSanitizer, which needs terabytes of address space)
  local asan = (os.getenv("LD_PRELOAD") or ""):find("asan", 1, true)
  local capped = (asan and "" or "ulimit -v 1048576; ") .. 'exec "$0" "$@"'
  local status, out, err = system.run({ "sh", "-c", capped, check.lua, "-e", body }, "", 60)
  assert(status == 0, format("%s: status %s, %s %s", code, tostring(status), tostring(out), tostring(err)))
  local ok, seconds, message = out:match("^(%a+)|([%d.]+)|(.*)$")
  assert(ok == "false", code .. " did not raise an error: " .. out)
  assert(tonumber(seconds) < 1, code .. " took " .. seconds .. " s before refusing")
  return message
end

--- Each case {code, message}: code raises an error that mentions message.
local function all_refused(cases)
  for _, case in ipairs(cases) do
    local message = refusal(case[1])
    assert.truthy(message:find(case[2], 1, true), case[1] .. ": " .. message)
  end
end

describe("sizes are bounded before allocation", function()
  it("data generators", function()
    all_refused({
      { "mg.data.make_blobs(5, { centers = 1e9 })", "option 'centers': at most 100000 centers" },
      { "mg.data.make_blobs(5, { centers = 2^53 })", "option 'centers': at most 100000 centers" },
      { "mg.data.make_blobs(5, { n_features = 1e9 })", "option 'n_features': at most 100000 features" },
      { "mg.data.make_blobs(1e7, { centers = 10, n_features = 1000 })", "more than 100000000 numbers" },
      { "mg.data.make_moons(1e12)", "bad argument #1 to 'make_moons' (at most 10000000 expected" },
      { "mg.data.make_circles(2^40)", "bad argument #1 to 'make_circles' (at most 10000000 expected" },
      { "mg.data.make_blobs(1e9)", "bad argument #1 to 'make_blobs' (at most 10000000 expected" },
    })
  end)

  it("models: no larger than a model file may hold", function()
    all_refused({
      { "mg.nn.Linear(2^24, 2^24)", "bad argument #2 to 'Linear' (281474993487872 parameters: at most" },
      { "mg.nn.Layer(5000, 5000)", "bad argument #2 to 'Layer' (25005000 parameters: at most 16777216)" },
      { "mg.nn.Neuron(1e9)", "bad argument #1 to 'Neuron' (nin is 1000000000: at most 16777216)" },
      { "mg.nn.MLP(2, { 4096, 4096, 4096 })", "bad argument #2 to 'MLP' (33574912 parameters: at most" },
    })
  end)

  it("the engine's buffers", function()
    all_refused({
      { "require('micrograd.core').Buffer(2^30)", "bad argument #1 to 'Buffer' (size out of range" },
    })
  end)
end)
