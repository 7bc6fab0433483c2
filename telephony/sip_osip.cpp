#include "telephony/sip_message_internal.hpp"

#if defined(__SANITIZE_ADDRESS__)
#include <sanitizer/asan_interface.h>
#endif

#include <algorithm>
#include <cstdarg>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <mutex>
#include <new>
#include <vector>

namespace ward::telephony::detail {
namespace {

// Under AddressSanitizer the arena fences every block with poisoned bytes, so an overflow
// inside osip is still caught although the memory no longer comes from malloc.
#if defined(__SANITIZE_ADDRESS__)
constexpr std::size_t arena_redzone = 16;
void poison(const void* start, std::size_t size) {
  ASAN_POISON_MEMORY_REGION(start, size);
}
void unpoison(const void* start, std::size_t size) {
  ASAN_UNPOISON_MEMORY_REGION(start, size);
}
#else
constexpr std::size_t arena_redzone = 0;
void poison(const void*, std::size_t) {}
void unpoison(const void*, std::size_t) {}
#endif

/// Bump allocator for everything osip allocates while one message is parsed; the whole
/// arena is released when the parse ends. osip frees what it allocates, except where it
/// does not: a multipart body whose part repeats Content-Type leaks the first one (found by
/// fuzzing), so every such message would cost the node memory for good. With the arena no
/// osip leak outlives a parse, and one parse costs a few bump allocations instead of ~130
/// malloc calls. Outside a parse the hooks defer to malloc, so other osip users are unaffected.
class osip_arena {
public:
  osip_arena() = default;
  osip_arena(const osip_arena&) = delete;
  osip_arena& operator=(const osip_arena&) = delete;
  ~osip_arena() {
    for (const auto& c : chunks_)
      unpoison(c.memory.get(), c.size);
  }

  bool active() const { return depth_ > 0; }
  void begin() { ++depth_; }
  void end() {
    if (--depth_ > 0)
      return;
    // Keep one standard chunk for the next parse on this thread; drop any overflow chunks.
    for (const auto& c : chunks_)
      unpoison(c.memory.get(), c.size);
    if (!chunks_.empty() && chunks_.front().size == chunk_size)
      chunks_.resize(1);
    else
      chunks_.clear();
    if (!chunks_.empty())
      poison(chunks_.front().memory.get(), chunks_.front().size);
    used_ = 0;
  }

  void* allocate(std::size_t size) {
    // osip never needs more than a few copies of a message; a larger request is a bug, and
    // refusing it keeps the size arithmetic below from overflowing.
    if (size > max_sip_message_size * 64)
      return nullptr;
    std::size_t need = header + (size + alignment - 1) / alignment * alignment + arena_redzone;
    if (chunks_.empty() || used_ + need > chunks_.back().size) {
      auto length = std::max(chunk_size, need);
      // No exception may cross osip's C frames: out of memory is a null osip copes with.
      std::unique_ptr<std::byte[]> memory(new (std::nothrow) std::byte[length]);
      if (!memory)
        return nullptr;
      poison(memory.get(), length);
      chunks_.push_back({std::move(memory), length});
      used_ = 0;
    }
    std::byte* block = chunks_.back().memory.get() + used_;
    used_ += need;
    unpoison(block, header + size);
    std::memcpy(block, &size, sizeof size);
    return block + header;
  }

  void* reallocate(void* old, std::size_t size) {
    std::size_t old_size = 0;
    std::memcpy(&old_size, static_cast<std::byte*>(old) - header, sizeof old_size);
    if (size <= old_size)
      return old;
    void* fresh = allocate(size);
    if (fresh != nullptr)
      std::memcpy(fresh, old, old_size);
    return fresh;
  }

  bool owns(const void* pointer) const {
    auto address = reinterpret_cast<std::uintptr_t>(pointer);
    for (const auto& c : chunks_) {
      auto start = reinterpret_cast<std::uintptr_t>(c.memory.get());
      if (address >= start && address < start + c.size)
        return true;
    }
    return false;
  }

private:
  struct chunk {
    std::unique_ptr<std::byte[]> memory;
    std::size_t size = 0;
  };
  /// Several times the largest message: osip copies the input and then every header.
  static constexpr std::size_t chunk_size = 256 * 1024;
  /// operator new[] aligns to 16; blocks keep that alignment and carry their size in front.
  static constexpr std::size_t alignment = 16;
  static constexpr std::size_t header = 16;

  std::vector<chunk> chunks_;
  std::size_t used_ = 0;
  int depth_ = 0;
};

thread_local osip_arena arena;

void* arena_malloc(std::size_t size) {
  return arena.active() ? arena.allocate(size) : std::malloc(size);
}

void* arena_realloc(void* pointer, std::size_t size) {
  if (pointer != nullptr && arena.owns(pointer))
    return arena.reallocate(pointer, size);
  if (pointer == nullptr && arena.active())
    return arena.allocate(size);
  return std::realloc(pointer, size);
}

void arena_free(void* pointer) {
  if (pointer != nullptr && !arena.owns(pointer))
    std::free(pointer);
}

void discard_trace(const char*, int, osip_trace_level_t, const char*, va_list) {}

} // namespace

arena_scope::arena_scope() {
  arena.begin();
}

arena_scope::~arena_scope() {
  arena.end();
}

void init_osip_once() {
  static std::once_flag once;
  std::call_once(once, [] {
    osip_set_allocators(&arena_malloc, &arena_realloc, &arena_free);
    parser_init();
    osip_trace_initialize_func(OSIP_FATAL, &discard_trace);
    for (int level = TRACE_LEVEL0; level < END_TRACE_LEVEL; ++level)
      osip_trace_disable_level(static_cast<osip_trace_level_t>(level));
  });
}

param_lookup find_param(const osip_list_t& params, std::string_view name) {
  param_lookup out;
  for_each<osip_generic_param_t>(params, [&](osip_generic_param_t* param) {
    if (out.present || param->gname == nullptr)
      return;
    std::string_view gname(param->gname);
    if (gname.size() == name.size() &&
        std::equal(gname.begin(), gname.end(), name.begin(),
                   [](char a, char b) { return (a | 0x20) == (b | 0x20); })) {
      out.present = true;
      out.value = view(param->gvalue);
    }
  });
  return out;
}

} // namespace ward::telephony::detail
