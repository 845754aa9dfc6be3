-- luacheck (Debian lua-check); CI runs `luacheck .`
std = "lua54"
max_line_length = 110
self = false -- methods need not use self
exclude_files = { "build*/**", ".git/**" }
files["spec"] = { std = "+busted" }
