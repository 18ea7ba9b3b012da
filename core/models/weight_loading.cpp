#include "models/weight_loading.h"

#include <sstream>
#include <unordered_map>
#include <unordered_set>

#include "base/error.h"
#include "io/mapped_file.h"

namespace kiln::models {

namespace {

bool matches_any(const std::string& key, const std::vector<std::string>& entries) {
  for (const std::string& e : entries) {
    if (key == e) return true;
    if (key.size() > e.size() && key.compare(key.size() - e.size(), e.size(), e) == 0 &&
        key[key.size() - e.size() - 1] == '.') {
      return true;
    }
  }
  return false;
}

std::string shape_string(c10::IntArrayRef sizes) {
  std::string s = "[";
  for (std::size_t i = 0; i < sizes.size(); ++i) {
    if (i) s += ", ";
    s += std::to_string(sizes[i]);
  }
  return s + "]";
}

std::string describe(const torch::Tensor& t) {
  return shape_string(t.sizes()) + " " + std::string(c10::toString(t.scalar_type()));
}

bool dtype_compatible(const torch::Tensor& target, const torch::Tensor& source) {
  if (target.is_floating_point()) return source.is_floating_point();
  return target.scalar_type() == source.scalar_type();
}

// Parameters and buffers by name, in registration order.
std::vector<std::pair<std::string, torch::Tensor>> module_tensors(torch::nn::Module& module) {
  std::vector<std::pair<std::string, torch::Tensor>> out;
  for (const auto& p : module.named_parameters(true)) out.emplace_back(p.key(), p.value());
  for (const auto& b : module.named_buffers(true)) out.emplace_back(b.key(), b.value());
  return out;
}

void append_section(std::ostringstream& out, const char* title, const std::vector<std::string>& keys,
                    std::size_t limit) {
  if (keys.empty()) return;
  out << "\n  " << title << " (" << keys.size() << "):";
  const std::size_t shown = std::min(keys.size(), limit);
  for (std::size_t i = 0; i < shown; ++i) out << "\n    " << keys[i];
  if (keys.size() > shown) out << "\n    ... and " << keys.size() - shown << " more";
}

}  // namespace

std::string WeightMismatch::report(const std::string& model_name, std::size_t limit) const {
  std::ostringstream out;
  out << "weights do not fit " << model_name << ": " << missing.size() << " missing, " << unexpected.size()
      << " unexpected, " << mismatched.size() << " mis-shaped";
  append_section(out, "missing", missing, limit);
  append_section(out, "unexpected", unexpected, limit);
  append_section(out, "mis-shaped", mismatched, limit);
  return out.str();
}

WeightMismatch check_weights(torch::nn::Module& module, const NamedTensorList& tensors,
                             const WeightLoadOptions& options) {
  const auto targets = module_tensors(module);
  std::unordered_map<std::string, const torch::Tensor*> by_name;
  by_name.reserve(targets.size());
  for (const auto& [name, t] : targets) by_name.emplace(name, &t);

  WeightMismatch result;
  std::unordered_set<std::string> given;
  given.reserve(tensors.size());
  for (const auto& [name, source] : tensors) {
    if (!given.insert(name).second) {
      result.mismatched.push_back(name + ": given twice");
      continue;
    }
    const auto it = by_name.find(name);
    if (it == by_name.end()) {
      if (!matches_any(name, options.ignored_keys)) result.unexpected.push_back(name);
      continue;
    }
    const torch::Tensor& target = *it->second;
    if (!source.defined()) {
      result.mismatched.push_back(name + ": no data");
    } else if (source.sizes() != target.sizes() || !dtype_compatible(target, source)) {
      result.mismatched.push_back(name + ": expected " + describe(target) + ", got " + describe(source));
    }
  }
  for (const auto& [name, t] : targets) {
    if (!given.count(name) && !matches_any(name, options.optional_keys)) result.missing.push_back(name);
  }
  return result;
}

void load_weights(torch::nn::Module& module, const NamedTensorList& tensors, const WeightLoadOptions& options) {
  const WeightMismatch mismatch = check_weights(module, tensors, options);
  if (!mismatch.empty()) {
    throw WeightMismatchError(mismatch.report(options.model_name, options.report_limit), options.source,
                              "the weights are probably of another model family or size");
  }
  std::unordered_map<std::string, torch::Tensor> targets;
  for (auto& [name, t] : module_tensors(module)) targets.emplace(name, t);
  torch::NoGradGuard no_grad;
  for (const auto& [name, source] : tensors) {
    const auto it = targets.find(name);
    if (it == targets.end()) continue;  // an ignored key
    try {
      it->second.copy_(source);
      // A view of a mapped file: its pages are not needed any more (nobody writes through them).
      if (source.device().is_cpu() && source.is_contiguous()) {
        io::release_mapped_pages(source.const_data_ptr(), source.nbytes());
      }
    } catch (const c10::Error& e) {
      throw WeightMismatchError("cannot copy " + name + " (" + describe(source) + ") into " + options.model_name +
                                    ": " + e.what_without_backtrace(),
                                options.source);
    }
  }
}

}  // namespace kiln::models
