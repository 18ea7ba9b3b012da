#include "base/error.h"

#include <cstring>

namespace kiln {

const char* to_string(ErrorKind kind) {
  switch (kind) {
    case ErrorKind::File: return "file";
    case ErrorKind::Format: return "format";
    case ErrorKind::WeightMismatch: return "weight mismatch";
    case ErrorKind::InvalidRequest: return "invalid request";
    case ErrorKind::OutOfMemory: return "out of memory";
    case ErrorKind::Compute: return "computation failed";
  }
  return "error";
}

namespace {
std::string compose(const std::filesystem::path& path, const std::string& message, const std::string& hint) {
  std::string out;
  if (!path.empty()) out = path.string() + ": ";
  out += message;
  if (!hint.empty()) out += " (" + hint + ")";
  return out;
}
}  // namespace

Error::Error(ErrorKind kind, std::string message, std::filesystem::path path, std::string hint)
    : std::runtime_error(compose(path, message, hint)),
      kind_(kind),
      path_(std::move(path)),
      message_(std::move(message)),
      hint_(std::move(hint)) {}

std::string system_error_text(int err) { return std::strerror(err); }

}  // namespace kiln
