-- Ports: course 000 (Day 3 / 第三天), 协程 > asyncio (hello_world with
--        loop.run_until_complete).
-- Teaches: asyncio runs tasks (coroutines) on an event loop (事件循环):
-- run_until_complete runs one task until it ends; close() frees the loop.
-- In Lua a task is a plain function run as a coroutine; there is no
-- `async`/`await` keyword.
-- Run: cthreads --gil coroutines/03_asyncio_hello.lua

local function hello_world()
  print("Hello World!")
end

local loop = asyncio.get_event_loop()
loop:run_until_complete(hello_world)
loop:close()
