#include "io/tensor_index.h"

#include "base/error.h"

namespace kiln::io {

// The readers (safetensors, torch zip) accept only shapes whose partial products stay below 2^63.
std::int64_t TensorEntry::numel() const {
  std::int64_t n = 1;
  for (std::int64_t d : shape) n *= d;
  return n;
}

std::string TensorEntry::shape_string() const {
  std::string s = "[";
  for (std::size_t i = 0; i < shape.size(); ++i) {
    if (i) s += ", ";
    s += std::to_string(shape[i]);
  }
  return s + "]";
}

void TensorIndex::add(TensorEntry entry) {
  if (by_name_.count(entry.name)) {
    throw FormatError("duplicate tensor name \"" + entry.name + "\"", entry.file);
  }
  by_name_.emplace(entry.name, entries_.size());
  entries_.push_back(std::move(entry));
}

const TensorEntry* TensorIndex::find(const std::string& name) const {
  auto it = by_name_.find(name);
  return it == by_name_.end() ? nullptr : &entries_[it->second];
}

std::int64_t TensorIndex::parameter_count() const {
  std::int64_t n = 0;
  for (const auto& e : entries_) n += e.numel();
  return n;
}

TensorIndex TensorIndex::with_prefix(const std::string& prefix, const std::string& new_prefix) const {
  TensorIndex out;
  for (const auto& e : entries_) {
    if (e.name.compare(0, prefix.size(), prefix) != 0) continue;
    TensorEntry copy = e;
    copy.name = new_prefix + e.name.substr(prefix.size());
    out.add(std::move(copy));
  }
  return out;
}

void TensorIndex::merge(const TensorIndex& other, const std::string& prefix) {
  for (const auto& e : other.entries()) {
    TensorEntry copy = e;
    copy.name = prefix + e.name;
    add(std::move(copy));
  }
}

}  // namespace kiln::io
