-- The class system (API.md, "Classes").

describe("classes", function()
  local Object = require("cthreads.class").Object

  it("extend, init, super, is, isinstance", function()
    local Animal = Object:extend("Animal")
    function Animal:init(name) self.name = name end
    function Animal:speak() return self.name .. " makes a sound" end
    local Dog = Animal:extend("Dog")
    function Dog:init(name) Dog.super.init(self, name); self.kind = "dog" end
    function Dog:speak() return Dog.super.speak(self) .. ": woof" end
    local d = Dog("rex")
    assert.equal("rex makes a sound: woof", d:speak())
    assert.equal("dog", d.kind)
    assert.is_true(Dog:is(d)); assert.is_true(Animal:is(d))
    assert.is_false(Dog:is(Animal("cat")))
    assert.is_true(d:isinstance(Animal))
    assert.is_false(Dog:is(42))
    assert.equal(Animal, Dog.super)
  end)

  it("class fields are shared by all instances", function()
    local Worker = threading.Thread:extend("Worker")
    Worker.count = 0
    Worker.lock = threading.Lock()
    function Worker:run()
      Worker.lock:with(function() Worker.count = Worker.count + 1 end)
    end
    local ws = {}
    for i = 1, 4 do ws[i] = Worker(); ws[i]:start() end
    for _, w in ipairs(ws) do w:join() end
    assert.equal(4, Worker.count)
    assert.equal(Worker.lock, ws[1].lock)
  end)

  it("metamethods are inherited by subclasses", function()
    local A = Object:extend("A")
    function A:__tostring() return "an A" end
    local B = A:extend("B")
    assert.equal("an A", tostring(B()))
    assert.matches("class 'B'", tostring(B))
  end)

  it("extend checks its argument", function()
    assert.has_error(function() Object:extend(42) end,
      "bad argument #1 to 'extend' (string expected, got number)")
  end)
end)
