#include "io/atomic_file.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <random>

#include "base/error.h"

namespace kiln::io {

namespace fs = std::filesystem;

AtomicFileWriter::AtomicFileWriter(fs::path target) : target_(std::move(target)) {
  const fs::path dir = target_.has_parent_path() ? target_.parent_path() : fs::path(".");
  std::random_device rd;
  for (int attempt = 0; attempt < 16 && fd_ < 0; ++attempt) {
    temp_ = dir / ("." + target_.filename().string() + ".kiln-tmp-" + std::to_string(rd() % 1000000));
    fd_ = ::open(temp_.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (fd_ < 0 && errno != EEXIST) break;
  }
  if (fd_ < 0) throw FileError("cannot create a temporary file for writing: " + system_error_text(errno), target_);
}

AtomicFileWriter::~AtomicFileWriter() {
  if (fd_ >= 0) ::close(fd_);
  if (!committed_) {
    std::error_code ec;
    fs::remove(temp_, ec);
  }
}

void AtomicFileWriter::write(std::span<const std::byte> bytes) {
  if (fd_ < 0) throw FileError("write after commit", target_);
  const std::byte* p = bytes.data();
  std::size_t left = bytes.size();
  while (left > 0) {
    const ssize_t n = ::write(fd_, p, left);
    if (n < 0) {
      if (errno == EINTR) continue;
      throw FileError("cannot write: " + system_error_text(errno), target_,
                      errno == ENOSPC ? "the disk is full; the previous file is unchanged" : "");
    }
    p += n;
    left -= static_cast<std::size_t>(n);
  }
}

void AtomicFileWriter::write(std::string_view text) {
  write(std::as_bytes(std::span<const char>(text.data(), text.size())));
}

void AtomicFileWriter::commit() {
  if (::fsync(fd_) != 0) throw FileError("cannot flush to disk: " + system_error_text(errno), target_);
  const int fd = fd_;
  fd_ = -1;
  if (::close(fd) != 0) throw FileError("cannot close: " + system_error_text(errno), target_);
  if (::rename(temp_.c_str(), target_.c_str()) != 0) {
    throw FileError("cannot replace the file: " + system_error_text(errno), target_);
  }
  committed_ = true;
  const fs::path dir = target_.has_parent_path() ? target_.parent_path() : fs::path(".");
  const int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd >= 0) {
    ::fsync(dfd);  // make the rename itself durable; best effort on file systems without it
    ::close(dfd);
  }
}

void write_file_atomically(const fs::path& path, std::string_view content) {
  AtomicFileWriter writer(path);
  writer.write(content);
  writer.commit();
}

}  // namespace kiln::io
