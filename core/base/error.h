#pragma once
// The one error hierarchy of the engine. A message says what went wrong, where (file,
// tensor, field), expected vs got, and a hint when there is one. Only app/bridge turns
// these into translated user messages.

#include <filesystem>
#include <stdexcept>
#include <string>

namespace kiln {

enum class ErrorKind {
  File,            // cannot open/read/write a file (I/O, permissions, missing)
  Format,          // the file is readable but its content is broken, hostile or unsupported
  WeightMismatch,  // weights do not fit a model: missing, unexpected or mis-shaped keys
  InvalidRequest,  // a request or setting is impossible (names the field and allowed values)
  OutOfMemory,
  Compute,         // a computation failed inside LibTorch (names the stage: "VAE decode, 1024x1024, fp16")
};

const char* to_string(ErrorKind kind);

class Error : public std::runtime_error {
 public:
  Error(ErrorKind kind, std::string message, std::filesystem::path path = {}, std::string hint = {});

  ErrorKind kind() const { return kind_; }
  const std::filesystem::path& path() const { return path_; }
  // The message without the path prefix and hint.
  const std::string& message() const { return message_; }
  const std::string& hint() const { return hint_; }

 private:
  ErrorKind kind_;
  std::filesystem::path path_;
  std::string message_;
  std::string hint_;
};

struct FileError : Error {
  explicit FileError(std::string message, std::filesystem::path path = {}, std::string hint = {})
      : Error(ErrorKind::File, std::move(message), std::move(path), std::move(hint)) {}
};
struct FormatError : Error {
  explicit FormatError(std::string message, std::filesystem::path path = {}, std::string hint = {})
      : Error(ErrorKind::Format, std::move(message), std::move(path), std::move(hint)) {}
};
struct WeightMismatchError : Error {
  explicit WeightMismatchError(std::string message, std::filesystem::path path = {}, std::string hint = {})
      : Error(ErrorKind::WeightMismatch, std::move(message), std::move(path), std::move(hint)) {}
};
struct InvalidRequestError : Error {
  explicit InvalidRequestError(std::string message, std::string hint = {})
      : Error(ErrorKind::InvalidRequest, std::move(message), {}, std::move(hint)) {}
};
struct OutOfMemoryError : Error {
  explicit OutOfMemoryError(std::string message, std::string hint = {})
      : Error(ErrorKind::OutOfMemory, std::move(message), {}, std::move(hint)) {}
};

struct ComputeError : Error {
  explicit ComputeError(std::string message, std::string hint = {})
      : Error(ErrorKind::Compute, std::move(message), {}, std::move(hint)) {}
};

// "errno text" for the last failed system call.
std::string system_error_text(int err);

}  // namespace kiln
