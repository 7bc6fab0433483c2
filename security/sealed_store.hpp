#pragma once

#include "core/random.hpp"
#include "security/error.hpp"
#include "storage/kv_store.hpp"

#include <array>
#include <expected>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

namespace ward::security {

/// The node-local key that encrypts the security and configuration stores at rest
/// (SPEC SEC-1): 32 random bytes in a 0600 file, created at first start.
class node_key {
public:
  static std::expected<node_key, error> load_or_create(const std::filesystem::path& file,
                                                       const random_source& random);
  static node_key from_bytes(const std::array<unsigned char, 32>& bytes) { return node_key(bytes); }

  /// AES-256-GCM with a random 96-bit nonce; `associated` (the record name) is
  /// authenticated, so a sealed value cannot be moved to another record.
  std::string seal(std::string_view associated, std::string_view plaintext,
                   const random_source& random) const;
  /// Opens what `seal` made; any change to the bytes, name or key is an error.
  std::expected<std::string, error> open(std::string_view associated,
                                         std::string_view sealed) const;

private:
  explicit node_key(const std::array<unsigned char, 32>& bytes) : key_(bytes) {}
  std::array<unsigned char, 32> key_;
};

/// Named records in a kv_store, each sealed under the node key.
class sealed_store {
public:
  sealed_store(std::unique_ptr<storage::kv_store> store, node_key key, random_source random)
      : store_(std::move(store)), key_(key), random_(std::move(random)) {}

  std::expected<void, error> put(std::string_view name, std::string_view plaintext);
  /// Seals and writes every (name, plaintext) pair or none.
  std::expected<void, error>
  put_all(const std::vector<std::pair<std::string, std::string>>& records);
  std::expected<std::optional<std::string>, error> get(std::string_view name) const;
  std::expected<void, error> flush();

private:
  std::unique_ptr<storage::kv_store> store_;
  node_key key_;
  random_source random_;
};

} // namespace ward::security
