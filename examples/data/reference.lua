--- Reads micrograd_moons_h16.txt: the data set and initial weights of
-- micrograd's demo.ipynb, with 17 significant digits (format in
-- ../shared/data/README.md), or a file in the same format with other sizes
-- (bench/make_widths.lua writes them for other hidden widths). Returns a
-- function(path) giving
-- `{X = {{x1, x2}, ...}, y = {-1 or 1, ...}, sizes = {2, 16, 16, 1}, weights = {...}}`,
-- sizes being the layer sizes of the header (after N; each X[i] has sizes[1]
-- numbers), the weights in parameters() order (per neuron: its weights, then
-- its bias).
return function(path)
  local f = assert(io.open(path, "r"))
  local text = f:read("*a")
  f:close()
  local numbers = text:gmatch("%S+")
  local function number()
    return tonumber(numbers()) or error(path .. ": not a reference data file")
  end
  local n = number()
  local sizes = { number(), number(), number(), number() }
  local X, y = {}, {}
  for i = 1, n do
    X[i] = {}
    for k = 1, sizes[1] do X[i][k] = number() end
    y[i] = number()
  end
  local weights = {}
  for l = 1, #sizes - 1 do
    for _ = 1, sizes[l + 1] * (sizes[l] + 1) do weights[#weights + 1] = number() end
  end
  return { X = X, y = y, sizes = sizes, weights = weights }
end
