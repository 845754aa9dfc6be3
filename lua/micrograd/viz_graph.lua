--- Drawing the graph under a Value, as micrograd's `draw_dot`: Graphviz DOT
-- text (`dot`) and SVG/PNG files made by Graphviz's `dot` program (`render`).
--
-- Each Value is a record `label | data 1.2346 | grad -0.5000` (the label part
-- only when the Value has a `.label`), each op its own small node, and the
-- edges go operand -> op -> result. The root, the leaves (inputs), the
-- parameters (`opts.params`) and the number constants (`2 * x`) are drawn in
-- their own colours and shapes, explained by a legend.
--
-- The walk is breadth-first from the root and iterative (any depth works);
-- it draws at most `opts.max_nodes` Values, the nearest to the root, and a
-- note says how many it left out. Counting those stops after
-- `opts.count_limit` of them (the note then says "more than"), so a huge
-- graph costs at most `max_nodes + count_limit` visits, never its full size.
--
-- `micrograd.viz` re-exports `dot` and `render`.
-- @module micrograd.viz_graph
local check = require("micrograd._check")
local mg = require("micrograd")
local file = require("micrograd._file")
local compat = require("micrograd._compat")
local system = require("micrograd._system")
local arg_error, quoted = check.arg_error, check.quoted

local is_value = mg.is_value
local idiv, tointeger, utf8_valid = compat.idiv, compat.tointeger, compat.utf8_valid
local type, tostring, pcall = type, tostring, pcall
local format, concat = string.format, table.concat

local M = {}

-- ---- helpers -------------------------------------------------------------

--- Text safe in DOT: valid UTF-8 (other bytes become "?"), no control characters
-- but newlines, which become `\n` (the caller escapes the rest first).
local function clean(s)
  -- utf8 may be missing (Lua 5.1 and LuaJIT: _compat decides; a sandbox with only
  -- base, package, table, string, math: every non-ASCII byte is replaced)
  if s:find("[\128-\255]") then
    local utf8_lib = rawget(_G, "utf8")
    local valid
    if utf8_lib then valid = utf8_lib.len(s) elseif utf8_valid then valid = utf8_valid(s) end
    if not valid then s = s:gsub("[\128-\255]", "?") end
  end
  return (s:gsub("\r\n?", "\n"):gsub("[%z\1-\9\11-\31\127]", " "):gsub("\n", "\\n"))
end

--- Escapes a string for a plain quoted DOT label.
local function escape_text(s)
  return clean((s:gsub('[\\"]', "\\%0")))
end

--- Escapes a string for one field of a record label: `{ } | < > "` and backslash.
local function escape_field(s)
  if not s:find('[\\{}|<>"%c\128-\255]') then return s end -- the common case, fast
  return clean((s:gsub('[\\{}|<>"]', "\\%0")))
end

-- ---- options -------------------------------------------------------------

local RANKDIRS = { LR = true, TB = true, RL = true, BT = true }

--- A count option: a positive integer (at least min), or math.huge for no limit.
local function count(min)
  return {
    must = format("an integer >= %d", min),
    test = function(n)
      local k = type(n) == "number" and tointeger(n)
      return n == math.huge or (k and k >= min)
    end,
    shown = tostring,
    convert = function(n) return n == math.huge and n or tointeger(n) end,
  }
end

-- dot's and render's options (micrograd._check's schema format).
-- Whether fmt has an integer directive (%d, %x, %c, ...), which 5.3 and 5.4 refuse
-- for 1.5 and 5.1 and LuaJIT truncate: a format for one number has none.
local function integer_directive(fmt)
  return fmt:gsub("%%%%", ""):find("%%[-+ #0]*%d*%.?%d*[diouxXc]") ~= nil
end

local DOT_OPTIONS = {
  { "rankdir", { must = '"LR" or "TB" (or "RL", "BT")', test = function(v) return RANKDIRS[v] end,
    shown = quoted }, "LR" },
  { "legend", { must = "a boolean", test = function(v) return type(v) == "boolean" end, shown = type },
    true },
  { "max_nodes", count(1), 500 },
  { "count_limit", count(0), 100000 },
  { "format", { must = 'a format for one number such as "%.4f"', shown = quoted,
    test = function(v)
      return type(v) == "string" and pcall(format, v, 1.5) and not integer_directive(v)
    end }, "%.4f" },
  { "width", count(72), 900 },
  { "params", true },
}
local RENDER_OPTIONS = { { "program", true }, { "timeout", true } }
for i, entry in ipairs(DOT_OPTIONS) do RENDER_OPTIONS[2 + i] = entry end

--- The set of parameters (keyed by Value) from an array of Values or a module;
-- a module's parameter names (nn's `w1`, `b`) are the values, else true.
local function check_params(fname, arg, params)
  local names = {}
  if type(params) == "table" and type(params.parameters) == "function" then
    if type(params.parameter_names) == "function" then names = params:parameter_names() end
    params = params:parameters()
  end
  if type(params) ~= "table" then
    arg_error(fname, arg, "option 'params' must be an array of Values, got " .. type(params), 4)
  end
  local set = {}
  for i = 1, #params do
    local p = params[i]
    if not is_value(p) then
      arg_error(fname, arg, format("option 'params': Value expected at index %d, got %s", i, type(p)), 4)
    end
    set[p] = type(names[i]) == "string" and names[i] or true
  end
  return set
end

--- Checks an options table against schema; returns a full options table.
local function check_opts(fname, arg, opts, schema)
  local o = check.options(fname, arg, opts, schema, 3)
  o.params = o.params ~= nil and check_params(fname, arg, o.params) or {}
  return o
end

-- ---- the walk ------------------------------------------------------------

--- Walks the graph breadth-first from root. Returns:
-- `nodes` (the Values drawn, root first, at most max_nodes),
-- `const` (`const[i]` true when nodes[i] is a number constant),
-- `operands` (`operands[i][k]` the index of nodes[i]'s k-th operand, or false when not drawn),
-- `hidden` (how many Values were left out, counted up to count_limit) and
-- `more` (true when counting stopped: more than `hidden` were left out).
local function walk(root, max_nodes, count_limit)
  local nodes, const, operands = { root }, {}, {}
  local index = { [root] = 1 }
  local pending = {} -- Values found but not drawn, still to be counted and walked
  local seen = {}    -- Values in pending
  local head = 1
  while head <= #nodes do
    local v = nodes[head]
    local ops = {}
    operands[head] = ops
    if not const[head] and v.op ~= "" then
      local cs, constants = v:children() -- constants[k]: operand k is a number
      for k = 1, #cs do
        local c = cs[k]
        local is_const = constants[k]
        local j = not is_const and index[c]
        if not j and not seen[c] then
          if #nodes < max_nodes then
            j = #nodes + 1
            nodes[j] = c
            if is_const then const[j] = true else index[c] = j end
          else
            pending[#pending + 1] = c
            seen[c] = true
          end
        end
        ops[k] = j or false
      end
    end
    head = head + 1
  end
  -- Count what was left out, walking on from it, until count_limit is passed.
  head = 1
  while head <= #pending and #pending <= count_limit do
    local cs = pending[head]:children()
    for k = 1, #cs do
      local c = cs[k]
      if not index[c] and not seen[c] then
        pending[#pending + 1] = c
        seen[c] = true
      end
    end
    head = head + 1
  end
  if #pending > count_limit then return nodes, const, operands, count_limit, true end
  return nodes, const, operands, #pending, false
end

-- ---- DOT text ------------------------------------------------------------

-- Colours (ColorBrewer pastels) and shapes of each kind of node.
local STYLES = {
  root = 'shape=Mrecord, style="filled,bold", fillcolor="#fdae61", penwidth=2',
  param = 'shape=record, style="filled,bold", fillcolor="#abd9e9"',
  leaf = 'shape=record, style=filled, fillcolor="#d9ef8b"',
  value = 'shape=record, style=filled, fillcolor="#ffffff"',
  const = 'shape=box, style="filled,rounded,dashed", fillcolor="#e0e0e0"',
  op = 'shape=ellipse, style=filled, fillcolor="#f7f7f7"',
  cut = 'shape=ellipse, style="filled,dashed", fillcolor="#f7f7f7"',
  note = 'shape=note, style=filled, fillcolor="#ffffbf"',
}

local LEGEND = {
  { "root", "root (the Value drawn)" },
  { "param", "parameter" },
  { "leaf", "input (a leaf)" },
  { "value", "result of an op" },
  { "const", "number constant" },
  { "op", "op" },
  { "cut", "op with operands not drawn" },
}

--- Edge labels for ops whose operand order matters; `dot`'s operands are
-- `bias, w1, x1, w2, x2, ...` (bias only when given).
local function operand_name(op, k, n)
  if op == "-" or op == "/" or op == "^" then return tostring(k) end
  if op == "dot" then
    if n % 2 == 1 then
      if k == 1 then return "b" end
      k = k - 1
    end
    return (k % 2 == 1 and "w" or "x") .. idiv(k + 1, 2)
  end
  return nil
end

-- Adds the Values and their op nodes, in walk order; marks the kinds used (for the legend).
local function add_nodes(add, w, o, used, lr)
  local nodes, const, operands, fmt, params = w.nodes, w.const, w.operands, o.format, o.params
  for i, v in ipairs(nodes) do
    local data = escape_field(file.number(fmt, v.data))
    if const[i] then
      used.const = true
      add(format('  v%d [%s, label="%s"];', i, STYLES.const, data))
    else
      local op = v.op
      local kind = i == 1 and "root" or params[v] and "param" or op == "" and "leaf" or "value"
      used[kind] = true
      local fields = { "data " .. data, "grad " .. escape_field(file.number(fmt, v.grad)) }
      local label = v.label or params[v] ~= true and params[v] -- a parameter's name, as a label
      if label then table.insert(fields, 1, escape_field(label)) end
      local record = concat(fields, " | ")
      if lr then record = "{ " .. record .. " }" end -- a row of fields in either direction
      add(format('  v%d [%s, label="%s"];', i, STYLES[kind], record))
      if op ~= "" then
        local complete = true
        for _, j in ipairs(operands[i]) do complete = complete and j ~= false end
        local kind_op = complete and "op" or "cut"
        used[kind_op] = true
        add(format('  op%d [%s, label="%s"];', i, STYLES[kind_op], escape_text(op)))
      end
    end
  end
end

-- Adds the edges: operand -> op (in operand order) -> result.
local function add_edges(add, w)
  local nodes, const, operands = w.nodes, w.const, w.operands
  for i, v in ipairs(nodes) do
    if not const[i] and v.op ~= "" then
      local ops = operands[i]
      for k, j in ipairs(ops) do
        if j then
          local name = operand_name(v.op, k, #ops)
          add(format("  v%d -> op%d%s;", j, i, name and format(' [label="%s"]', name) or ""))
        end
      end
      add(format("  op%d -> v%d;", i, i))
    end
  end
end

-- Adds the note that says how many Values were left out, if any.
local function add_note(add, w, o)
  local hidden, more = w.hidden, w.more
  if hidden > 0 or more then
    local text
    if not more then
      text = format("… %d more value%s not drawn", hidden, hidden == 1 and "" or "s")
    elseif hidden > 0 then
      text = format("… over %d more values not drawn", hidden)
    else
      text = "… more values not drawn"
    end
    add(format('  note [%s, label="%s\\n(max_nodes = %d)"];', STYLES.note, text, o.max_nodes))
  end
end

-- Adds the legend: the kinds of node used, in one row (across the ranks, by
-- invisible edges, when the graph runs sideways; in one rank otherwise).
local function add_legend(add, used, lr)
  add("  subgraph cluster_legend {")
  add('    label="legend"; fontname="Helvetica"; fontsize=11; style=rounded; color="#999999";')
  if not lr then add("    rank=same;") end
  local previous
  for _, entry in ipairs(LEGEND) do
    local kind, text = entry[1], entry[2]
    if used[kind] then
      add(format('    legend_%s [%s, label="%s"];', kind, STYLES[kind], text))
      if lr and previous then add(format("    legend_%s -> legend_%s [style=invis];", previous, kind)) end
      previous = kind
    end
  end
  add("  }")
end

--- The DOT text for the graph under root (arguments already checked).
local function build(root, o)
  local w = {}
  w.nodes, w.const, w.operands, w.hidden, w.more = walk(root, o.max_nodes, o.count_limit)
  local lr = o.rankdir == "LR" or o.rankdir == "RL"
  local used = { root = true }
  local out = {
    "digraph micrograd {",
    format("  graph [rankdir=%s];", o.rankdir),
    '  node [fontname="Helvetica", fontsize=11];',
    '  edge [fontname="Helvetica", fontsize=9];',
  }
  local function add(s) out[#out + 1] = s end
  if o.width < math.huge then
    -- a wider drawing is scaled down to width points (size is in inches, written
    -- with integer arithmetic: no locale changes its decimal point)
    add(format('  graph [size="%d.%04d,1000"];', idiv(o.width, 72), idiv(o.width % 72 * 10000, 72)))
  end

  add_nodes(add, w, o, used, lr)
  add_edges(add, w)
  add_note(add, w, o)
  if o.legend then add_legend(add, used, lr) end
  add("}")
  return concat(out, "\n") .. "\n"
end

-- ---- public functions ----------------------------------------------------

--- Graphviz DOT text of the graph under root, as micrograd's `draw_dot`.
--
-- Only the `max_nodes` Values nearest the root are drawn (breadth-first); a
-- note counts the others, up to `count_limit` (then it says "more than"), so
-- the walk of a huge graph stops early. The same graph gives the same text.
-- @param root a Value
-- @tparam[opt] table opts
--   `rankdir` ("LR", the default as micrograd, "TB", "RL" or "BT");
--   `legend` (boolean, default true: a key to the colours);
--   `params` (an array of Values, or a module: drawn as parameters);
--   `max_nodes` (default 500: Values drawn, constants included; `math.huge` for all);
--   `count_limit` (default 100000: left-out Values counted for the note);
--   `format` (default "%.4f": for data, grad and constants);
--   `width` (default 900: a drawing wider than this many points is scaled
--   down to it, an SVG staying sharp when zoomed; `math.huge` keeps the
--   natural size; `rankdir = "TB"` draws a long chain downwards instead)
-- @treturn string the DOT text
function M.dot(root, opts)
  if not is_value(root) then arg_error("dot", 1, "Value expected, got " .. type(root)) end
  return build(root, check_opts("dot", 2, opts, DOT_OPTIONS))
end

local FORMATS = { svg = "svg", png = "png" }

--- Draws the graph under root into an SVG or PNG file (by the path's
-- extension) with Graphviz's `dot` program, run without a shell: any path is safe.
-- The file is written atomically (dot's output is collected, then written to
-- a temporary file renamed over `path`), and only when the calling script
-- could run a program and write the file itself (`io` within its reach).
-- Raises an error saying how to install Graphviz when `dot` cannot be run,
-- one with dot's messages when it fails, and one when it runs longer than
-- `opts.timeout` (it is then killed).
-- @param root a Value
-- @tparam string path ending in ".svg" or ".png"
-- @tparam[opt] table opts as `dot`'s, and `program` (default "dot") and
--   `timeout` (seconds, default 60; `math.huge` for none)
-- @treturn string path
function M.render(root, path, opts)
  if not is_value(root) then arg_error("render", 1, "Value expected, got " .. type(root)) end
  if type(path) ~= "string" then arg_error("render", 2, "string expected, got " .. type(path)) end
  if path:find("\0", 1, true) then arg_error("render", 2, "path with a NUL byte") end
  local ext = path:match("%.(%w+)$")
  local kind = ext and FORMATS[ext:lower()]
  if not kind then arg_error("render", 2, "path ending in .svg or .png expected, got " .. quoted(path)) end
  local o = check_opts("render", 3, opts, RENDER_OPTIONS)
  if not file.has_io() then -- looked up at each call: a sandboxed host may have removed it
    error(format("viz.render needs the io library to write %s (call viz.dot to get the text)", path), 2)
  end
  local program = o.program or "dot"
  if type(program) ~= "string" or program == "" or program:find("\0", 1, true) then
    arg_error("render", 3, "option 'program' must be a program name, got " .. quoted(program))
  end
  local timeout = o.timeout or 60
  if type(timeout) ~= "number" or timeout ~= timeout or timeout <= 0 then
    arg_error("render", 3, "option 'timeout' must be a number of seconds > 0, got " .. quoted(timeout))
  end
  for _, what in ipairs({ "run", "write" }) do
    local can, why = system.can(what)
    if not can then error(format("viz.render needs the io library to write %s: %s", path, why), 2) end
  end
  local status, out, stderr = system.run({ program, "-T" .. kind }, build(root, o),
    timeout < math.huge and timeout or nil)
  if status == nil then
    error(format("viz.render needs Graphviz's dot program: sudo apt-get install graphviz"
      .. " (macOS: brew install graphviz); %s", out), 2)
  end
  if status == false then
    error(format("viz.render: %s did not finish within %s seconds (option 'timeout') and was killed;"
      .. " %s was not written", program, file.tostring(timeout), path), 2)
  end
  if status ~= 0 then
    error(format("viz.render: %s failed (exit status %d) writing %s: %s", program, status, path,
      stderr ~= "" and stderr:gsub("%s+$", "") or "no message"), 2)
  end
  local ok, err = file.write(path, out)
  if not ok then error("viz.render cannot write " .. err, 2) end
  return path
end

return require("micrograd._names").strict(M, "micrograd.viz_graph")
