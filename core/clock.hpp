#pragma once

#include <atomic>
#include <chrono>

namespace ward {

/// Wall-clock time, injected wherever a decision depends on it (lockout windows,
/// certificate validity, uptime) so tests can move time without sleeping.
class clock {
public:
  using time_point = std::chrono::system_clock::time_point;
  virtual ~clock() = default;
  virtual time_point now() const = 0;
};

/// The real wall clock.
class system_clock final : public clock {
public:
  time_point now() const override { return std::chrono::system_clock::now(); }
};

/// A clock that only moves when told to; for tests.
class manual_clock final : public clock {
public:
  explicit manual_clock(time_point start) : now_(start.time_since_epoch().count()) {}
  time_point now() const override { return time_point(time_point::duration(now_.load())); }
  void advance(std::chrono::system_clock::duration by) { now_ += by.count(); }
  void set(time_point to) { now_ = to.time_since_epoch().count(); }

private:
  std::atomic<time_point::rep> now_;
};

} // namespace ward
