--- Seeing inside: graph drawings and training pictures.
--
-- `viz.dot(root, opts)` and `viz.render(root, path, opts)` draw the graph under
-- a Value as micrograd's `draw_dot` does (viz_graph.lua);
-- `viz.decision_boundary`, `viz.loss_curve`, `viz.scatter` write SVG pictures
-- and `viz.ascii_boundary` a terminal one (viz_plot.lua).
-- @module micrograd.viz
local M = {}

for _, part in ipairs({ "micrograd.viz_graph", "micrograd.viz_plot" }) do
  for name, fn in pairs(require(part)) do M[name] = fn end
end

return require("micrograd._names").strict(M, "micrograd.viz")
