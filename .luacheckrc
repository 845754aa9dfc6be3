-- luacheck (Debian lua-check); CI runs `luacheck .`
std = "lua54"
max_line_length = 110
exclude_files = { "build*/**", ".git/**" }
files["spec"] = { std = "+busted" }
