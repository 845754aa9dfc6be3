-- fuzz/parse_driver.lua - what fuzz_parse runs on each input (see lua_harness.h).
--
-- The first byte chooses the parser and its options, the rest is the text:
--   bit 0   0: nn.parse(text [, name]) (a model document), 1: data.parse_csv(text, opts)
--   nn.parse: bit 1 passes a name
--   parse_csv: bits 1-2 the label option (default, false, a column number,
--   a column name), bits 3-4 header (default, true, false), bit 5 a sep (the
--   second byte; the text starts after it), bit 6 a name
-- Every error must be a string. What a parser accepts must also be usable: a
-- parsed model dumps, parses back to the same document, and takes an input
-- of its size; a parsed CSV is rows of finite numbers, all as wide as the
-- names, with one label per row (classes 1..k when the labels are names).
-- FUZZ_VERBOSE=1 prints what the parser returned.
return function(bytes, _, _, verbose)
  local mg = require("micrograd")
  local function show(...)
    if verbose then print(...) end
  end
  local mode = bytes:byte(1) or 0
  local text = bytes:sub(2)

  local function parse_model()
    local name = mode & 2 ~= 0 and "fuzz.json" or nil
    local ok, model = pcall(mg.nn.parse, text, name)
    show("nn.parse:", ok, model)
    if not ok then
      if type(model) ~= "string" then return "nn.parse raised a " .. type(model) end
      return nil
    end
    local checked, problem = pcall(function()
      local doc = mg.nn.dump(model)
      local again = mg.nn.dump(mg.nn.parse(doc))
      if again ~= doc then return "nn.parse(nn.dump(m)) dumps differently" end
      local spec = model:spec()
      if math.type(spec.nin) == "integer" and spec.nin <= 1000 then
        local x = {}
        for i = 1, spec.nin do x[i] = 0.5 end
        local y = model(x)
        if not (mg.is_value(y) or type(y) == "table") then return "the model returned a " .. type(y) end
      end
    end)
    if checked then return problem end
    -- running out of memory or instructions is no fault of the model
    local msg = tostring(problem)
    if msg == "not enough memory" or msg:find("instruction budget", 1, true) then return nil end
    return "a parsed model does not work: " .. tostring(problem)
  end

  local function parse_csv()
    local opts = {}
    local label = (mode >> 1) & 3
    if label == 1 then opts.label = false end
    if label == 2 then opts.label = (bytes:byte(2) or 0) % 5 + 1 end
    if label == 3 then opts.label = "label" end
    local header = (mode >> 3) & 3
    if header == 1 then opts.header = true end
    if header == 2 then opts.header = false end
    if mode & 32 ~= 0 then opts.sep, text = text:sub(1, 1), text:sub(2) end
    if mode & 64 ~= 0 then opts.name = "fuzz.csv" end
    local ok, X, y, names = pcall(mg.data.parse_csv, text, opts)
    show("parse_csv:", ok, ok and #X .. " rows, " .. #names .. " columns" or X)
    if not ok then
      if type(X) ~= "string" then return "parse_csv raised a " .. type(X) end
      return nil
    end
    if type(X) ~= "table" or #X == 0 or type(names) ~= "table" then return "parse_csv: bad X or names" end
    for _, name in ipairs(names) do
      if type(name) ~= "string" then return "parse_csv: a column name is a " .. type(name) end
    end
    for i, row in ipairs(X) do
      if #row ~= #names then
        return ("parse_csv: row %d has %d numbers for %d names"):format(i, #row, #names)
      end
      for _, v in ipairs(row) do
        if type(v) ~= "number" or v ~= v or v == math.huge or v == -math.huge then
          return ("parse_csv: row %d holds %s"):format(i, tostring(v))
        end
      end
    end
    if opts.label == false then
      if y ~= nil then return "parse_csv: labels with label = false" end
      return nil
    end
    if type(y) ~= "table" or #y ~= #X then return "parse_csv: not one label per row" end
    local classes = names.classes
    for i, v in ipairs(y) do
      if type(v) ~= "number" or v ~= v or v == math.huge or v == -math.huge then
        return ("parse_csv: label %d is %s"):format(i, tostring(v))
      end
      if classes and (math.type(v) ~= "integer" or v < 1 or v > #classes) then
        return ("parse_csv: label %d is %s with %d classes"):format(i, tostring(v), #classes)
      end
    end
    return nil
  end

  if mode & 1 == 0 then return parse_model() end
  return parse_csv()
end
