-- LÖVE's configuration: one 800x600 window, and none of the modules the game
-- does not use (no sound: it also starts where there is no audio device).
-- luacheck: globals love
function love.conf(t)
  t.identity = "micrograd-love"
  t.version = "11.4"
  t.window.title = "micrograd: a network learns where you click"
  t.window.width = 800
  t.window.height = 600
  t.window.vsync = 1
  t.modules.audio = false
  t.modules.sound = false
  t.modules.joystick = false
  t.modules.physics = false
  t.modules.video = false
end
