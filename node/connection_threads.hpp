#pragma once

#include <atomic>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

namespace ward::node {

/// The threads a stream listener runs, one per connection: started by its acceptor, joined
/// as they end (so a busy node does not keep them) and all at once when the listener stops.
class connection_threads {
public:
  connection_threads() = default;
  connection_threads(const connection_threads&) = delete;
  connection_threads& operator=(const connection_threads&) = delete;
  ~connection_threads() { join_all(); }

  /// Runs `work` on a thread of its own.
  void spawn(std::move_only_function<void()> work) {
    auto done = std::make_shared<std::atomic<bool>>(false);
    std::lock_guard lock(mutex_);
    threads_.push_back({std::thread([work = std::move(work), done]() mutable {
                          work();
                          *done = true;
                        }),
                        done});
  }

  /// Joins the threads whose work has ended.
  void reap() { join(false); }

  /// Waits for every thread; their work must be ending (the listener is stopping).
  void join_all() { join(true); }

private:
  struct entry {
    std::thread thread;
    std::shared_ptr<std::atomic<bool>> done;
  };

  void join(bool all) {
    std::vector<entry> ended;
    {
      std::lock_guard lock(mutex_);
      for (auto it = threads_.begin(); it != threads_.end();)
        if (all || *it->done) {
          ended.push_back(std::move(*it));
          it = threads_.erase(it);
        } else {
          ++it;
        }
    }
    for (auto& finished : ended)
      if (finished.thread.joinable())
        finished.thread.join();
  }

  std::mutex mutex_;
  std::vector<entry> threads_;
};

} // namespace ward::node
