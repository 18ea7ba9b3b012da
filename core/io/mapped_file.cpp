#include "io/mapped_file.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <map>
#include <mutex>

#include "base/error.h"

namespace kiln::io {

namespace {

// Live mappings by start address -> size: release_mapped_pages only touches memory found here.
std::mutex registry_mutex;
std::map<std::uintptr_t, std::size_t>& registry() {
  static std::map<std::uintptr_t, std::size_t> live;
  return live;
}

}  // namespace

std::shared_ptr<const MappedFile> MappedFile::open(const std::filesystem::path& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) throw FileError("cannot open: " + system_error_text(errno), path);
  struct stat st {};
  if (::fstat(fd, &st) != 0) {
    const int err = errno;
    ::close(fd);
    throw FileError("cannot stat: " + system_error_text(err), path);
  }
  if (!S_ISREG(st.st_mode)) {
    ::close(fd);
    throw FileError("not a regular file", path);
  }
  std::shared_ptr<MappedFile> file(new MappedFile());
  file->path_ = path;
  file->size_ = static_cast<std::uint64_t>(st.st_size);
  if (file->size_ > 0) {
    void* map = ::mmap(nullptr, file->size_, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
    if (map == MAP_FAILED) {
      const int err = errno;
      ::close(fd);
      throw FileError("cannot map into memory: " + system_error_text(err), path);
    }
    file->map_ = map;
    file->data_ = static_cast<const std::byte*>(map);
    std::lock_guard lock(registry_mutex);
    registry()[reinterpret_cast<std::uintptr_t>(map)] = static_cast<std::size_t>(file->size_);
  }
  ::close(fd);  // the mapping stays valid after close
  return file;
}

MappedFile::~MappedFile() {
  if (!map_) return;
  {
    std::lock_guard lock(registry_mutex);
    registry().erase(reinterpret_cast<std::uintptr_t>(map_));
  }
  ::munmap(map_, size_);
}

std::size_t release_mapped_pages(const void* data, std::size_t size) {
  static const auto page = static_cast<std::uintptr_t>(::sysconf(_SC_PAGESIZE));
  const auto begin = reinterpret_cast<std::uintptr_t>(data);
  const std::uintptr_t end = begin + size;
  const std::uintptr_t first = (begin + page - 1) / page * page, last = end / page * page;
  if (size == 0 || last <= first) return 0;
  std::lock_guard lock(registry_mutex);  // held so that no mapping goes away meanwhile
  const auto& live = registry();
  auto it = live.upper_bound(begin);
  if (it == live.begin()) return 0;
  --it;
  if (end > it->first + it->second) return 0;  // not (wholly) inside this mapping
  if (::madvise(reinterpret_cast<void*>(first), last - first, MADV_DONTNEED) != 0) return 0;
  return last - first;
}

}  // namespace kiln::io
