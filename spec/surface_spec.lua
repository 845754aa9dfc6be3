-- The public surface is what we document: every key of every public module
-- (micrograd with its lazily loaded submodules, nn, loss, optim, data, train,
-- viz) is in the API reference, and everything the reference names is there.
--
-- The source of truth is the LDoc reference itself: docs/core.luadoc for what
-- micrograd takes from the C module (`@function`, `@field` and `@table` names
-- before the first `@type`), and each Lua module's `---` comments: a
-- `function M.name` or `M.name = ...` is documented when an LDoc comment
-- stands right above it (or above the run of exports it opens, as nn's
-- `ReLU`, `Tanh`, `Sigmoid`). An export without one fails here.
local mg = require("micrograd")

local function read_lines(path)
  local lines = {}
  for line in io.lines(path) do lines[#lines + 1] = line end
  return lines
end

local function export_of(line)
  return line:match("^function M%.([%w_]+)%s*%(") or line:match("^M%.([%w_]+)%s*=")
end

--- The names a Lua module file exports, each true when LDoc documents it.
local function lua_exports(path)
  local lines, names = read_lines(path), {}
  for i, line in ipairs(lines) do
    local name = export_of(line)
    if name then
      local j = i - 1
      while j > 0 and (export_of(lines[j]) or (lines[j]:match("^%-%-") and not lines[j]:match("^%-%-%-"))) do
        j = j - 1
      end
      names[name] = j > 0 and lines[j]:match("^%-%-%-") ~= nil
    end
  end
  return names
end

--- The names docs/core.luadoc documents for the module table (not methods).
local function core_names()
  local names = {}
  for _, line in ipairs(read_lines("docs/core.luadoc")) do
    if line:match("^%-%- @type ") then break end
    local name = line:match("^%-%- @function ([%w_]+)%s*$") or line:match("^%-%- @field ([%w_]+)")
      or line:match("^%-%- @table ([%w_]+)")
    if name then names[name] = true end
  end
  return names
end

--- The keys of module t (raw: the modules refuse unknown names).
local function keys_of(t)
  local keys = {}
  for k in next, t do keys[k] = true end
  return keys
end

local function sorted(set)
  local list = {}
  for k in pairs(set) do list[#list + 1] = tostring(k) end
  table.sort(list)
  return list
end

--- Checks that the module's keys are exactly the documented names.
local function same_surface(module_name, keys, documented)
  local undocumented, missing = {}, {}
  for k in pairs(keys) do
    if not documented[k] then undocumented[k] = true end
  end
  for k in pairs(documented) do
    if not keys[k] then missing[k] = true end
  end
  assert.are.same({}, sorted(undocumented),
    module_name .. " exports names the API reference does not document")
  assert.are.same({}, sorted(missing), module_name .. " lacks names the API reference documents")
end

local SUBMODULES = { "nn", "loss", "optim", "data", "train", "viz" }
-- the files each public submodule is made of (viz joins two)
local FILES = { viz = { "viz_graph", "viz_plot" } }

describe("the public surface", function()
  for _, name in ipairs(SUBMODULES) do
    it("micrograd." .. name .. " exports exactly what its LDoc documents", function()
      local documented, undocumented = {}, {}
      for _, file in ipairs(FILES[name] or { name }) do
        for export, has_doc in pairs(lua_exports("lua/micrograd/" .. file .. ".lua")) do
          if has_doc then documented[export] = true else undocumented[export] = true end
        end
      end
      assert.are.same({}, sorted(undocumented), "micrograd." .. name .. ": exports without an LDoc comment")
      same_surface("micrograd." .. name, keys_of(require("micrograd." .. name)), documented)
    end)
  end

  it("micrograd exports exactly docs/core.luadoc, its own LDoc'd functions and the submodules", function()
    local documented = core_names()
    for export, has_doc in pairs(lua_exports("lua/micrograd/init.lua")) do
      assert.is_true(has_doc, "micrograd." .. export .. " has no LDoc comment")
      documented[export] = true
    end
    for _, name in ipairs(SUBMODULES) do
      assert.equal(require("micrograd." .. name), mg[name]) -- loads it, as a script would
      documented[name] = true
    end
    same_surface("micrograd", keys_of(mg), documented)
  end)

  it("keeps the operating-system helpers and the optimizers' internals out of micrograd", function()
    for _, name in ipairs({ "clock", "isatty", "terminal_width", "run", "ParamSet", "Buffer" }) do
      assert.is_nil(rawget(mg, name))
      assert.has_error(function() return mg[name] end) -- a misspelt or internal name is an error
    end
  end)

  it("finds an undocumented export (the check can fail)", function()
    local path = os.tmpname()
    local f = assert(io.open(path, "w"))
    f:write("local M = {}\n\n--- Documented.\nfunction M.a() end\n\nfunction M.b() end\n",
      "-- a plain comment\nM.c = 1\n--- Two under one comment.\nM.d = 1\nM.e = 2\nreturn M\n")
    f:close()
    local exports = lua_exports(path)
    os.remove(path)
    assert.are.same({ a = true, b = false, c = false, d = true, e = true }, exports)
    assert.has_error(function() same_surface("m", { a = true, b = true }, { a = true }) end)
    assert.has_error(function() same_surface("m", { a = true }, { a = true, z = true }) end)
  end)
end)
