#pragma once

#include <algorithm>
#include <cstddef>
#include <map>
#include <mutex>
#include <string>

namespace ward::node {

/// The connections a stream listener holds at once, shared so that one host cannot take
/// them all: at most `total`, and a quarter of that (at least one) from one address.
/// Thread-safe: the acceptor admits, each connection's thread releases.
class connection_slots {
public:
  explicit connection_slots(std::size_t total) : total_(total) {}

  /// Takes a slot for a connection from `address`; false when none is free for it.
  bool admit(const std::string& address) {
    std::lock_guard lock(mutex_);
    auto& mine = per_address_[address];
    if (open_ >= total_ || mine >= std::max<std::size_t>(1, total_ / 4)) {
      if (mine == 0)
        per_address_.erase(address);
      return false;
    }
    ++open_;
    ++mine;
    return true;
  }

  /// Gives back a slot `admit` took for `address`.
  void release(const std::string& address) {
    std::lock_guard lock(mutex_);
    --open_;
    if (--per_address_[address] == 0)
      per_address_.erase(address);
  }

private:
  const std::size_t total_;
  std::mutex mutex_;
  std::size_t open_ = 0;
  std::map<std::string, std::size_t> per_address_;
};

} // namespace ward::node
