#pragma once

#include <string>

namespace ward {

/// A failure as Ward's libraries report it: `code` is what callers decide on, `detail` is
/// for people (logs, status, an administrator's message) and never decides anything. Each
/// library names its own instantiation (`using error = typed_error<errc>;`), so the codes of
/// different libraries stay different types and cannot be mixed up.
template <class Errc> struct typed_error {
  Errc code;
  std::string detail;
};

} // namespace ward
