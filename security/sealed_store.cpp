#include "security/sealed_store.hpp"

#include "pki/identity_store.hpp"

#include <openssl/evp.h>

#include <fstream>
#include <memory>

namespace ward::security {
namespace {

constexpr std::string_view magic = "W1";
constexpr std::size_t nonce_size = 12;
constexpr std::size_t tag_size = 16;

using cipher_ctx = std::unique_ptr<EVP_CIPHER_CTX, decltype(&EVP_CIPHER_CTX_free)>;

cipher_ctx new_ctx() {
  return cipher_ctx(EVP_CIPHER_CTX_new(), EVP_CIPHER_CTX_free);
}

const unsigned char* bytes(std::string_view text) {
  return reinterpret_cast<const unsigned char*>(text.data());
}

} // namespace

std::expected<node_key, error> node_key::load_or_create(const std::filesystem::path& file,
                                                        const random_source& random) {
  std::array<unsigned char, 32> key{};
  if (std::ifstream in{file, std::ios::binary}) {
    in.read(reinterpret_cast<char*>(key.data()), key.size());
    if (in.gcount() != static_cast<std::streamsize>(key.size()) || in.peek() != EOF)
      return std::unexpected(error{errc::damaged_key, "node key " + file.string() +
                                                          " is damaged (expected 32 bytes)"});
    return node_key(key);
  }
  std::error_code ec;
  std::filesystem::create_directories(file.parent_path(), ec);
  random(std::as_writable_bytes(std::span(key)));
  auto written = pki::write_file_atomically(
      file, std::string_view(reinterpret_cast<const char*>(key.data()), key.size()), 0600);
  if (!written)
    return std::unexpected(error{errc::storage_failure, written.error().detail});
  return node_key(key);
}

std::string node_key::seal(std::string_view associated, std::string_view plaintext,
                           const random_source& random) const {
  std::string out(magic);
  std::array<unsigned char, nonce_size> nonce{};
  random(std::as_writable_bytes(std::span(nonce)));
  out.append(reinterpret_cast<const char*>(nonce.data()), nonce.size());
  std::string cipher(plaintext.size(), '\0');
  std::array<unsigned char, tag_size> tag{};
  auto ctx = new_ctx();
  int length = 0;
  EVP_EncryptInit_ex(ctx.get(), EVP_aes_256_gcm(), nullptr, key_.data(), nonce.data());
  EVP_EncryptUpdate(ctx.get(), nullptr, &length, bytes(associated),
                    static_cast<int>(associated.size()));
  EVP_EncryptUpdate(ctx.get(), reinterpret_cast<unsigned char*>(cipher.data()), &length,
                    bytes(plaintext), static_cast<int>(plaintext.size()));
  EVP_EncryptFinal_ex(ctx.get(), nullptr, &length);
  EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_GET_TAG, tag_size, tag.data());
  out += cipher;
  out.append(reinterpret_cast<const char*>(tag.data()), tag.size());
  return out;
}

std::expected<std::string, error> node_key::open(std::string_view associated,
                                                 std::string_view sealed) const {
  if (sealed.size() < magic.size() + nonce_size + tag_size || !sealed.starts_with(magic))
    return std::unexpected(
        error{errc::unsealing_failed, "sealed record is truncated or not sealed by Ward"});
  auto nonce = sealed.substr(magic.size(), nonce_size);
  auto cipher = sealed.substr(magic.size() + nonce_size,
                              sealed.size() - magic.size() - nonce_size - tag_size);
  std::string tag(sealed.substr(sealed.size() - tag_size));
  std::string plain(cipher.size(), '\0');
  auto ctx = new_ctx();
  int length = 0;
  EVP_DecryptInit_ex(ctx.get(), EVP_aes_256_gcm(), nullptr, key_.data(), bytes(nonce));
  EVP_DecryptUpdate(ctx.get(), nullptr, &length, bytes(associated),
                    static_cast<int>(associated.size()));
  EVP_DecryptUpdate(ctx.get(), reinterpret_cast<unsigned char*>(plain.data()), &length,
                    bytes(cipher), static_cast<int>(cipher.size()));
  EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_TAG, tag_size, tag.data());
  if (EVP_DecryptFinal_ex(ctx.get(), nullptr, &length) != 1)
    return std::unexpected(error{errc::unsealing_failed,
                                 "sealed record failed authentication (tampered, or another key)"});
  return plain;
}

std::expected<void, error> sealed_store::put(std::string_view name, std::string_view plaintext) {
  auto written = store_->put(name, key_.seal(name, plaintext, random_));
  if (!written)
    return std::unexpected(error{errc::storage_failure, written.error().detail});
  return {};
}

std::expected<void, error>
sealed_store::put_all(const std::vector<std::pair<std::string, std::string>>& records) {
  std::vector<std::pair<std::string, std::string>> sealed;
  sealed.reserve(records.size());
  for (const auto& [name, plaintext] : records)
    sealed.emplace_back(name, key_.seal(name, plaintext, random_));
  auto written = store_->put_all(sealed);
  if (!written)
    return std::unexpected(error{errc::storage_failure, written.error().detail});
  return {};
}

std::expected<std::optional<std::string>, error> sealed_store::get(std::string_view name) const {
  auto stored = store_->get(name);
  if (!stored)
    return std::unexpected(error{errc::storage_failure, stored.error().detail});
  if (!*stored)
    return std::optional<std::string>{};
  auto opened = key_.open(name, **stored);
  if (!opened)
    return std::unexpected(
        error{opened.error().code, std::string(name) + ": " + opened.error().detail});
  return std::optional<std::string>{std::move(*opened)};
}

std::expected<void, error> sealed_store::flush() {
  auto flushed = store_->flush();
  if (!flushed)
    return std::unexpected(error{errc::storage_failure, flushed.error().detail});
  return {};
}

} // namespace ward::security
