#include "io/torch_checkpoint.h"

#include <ATen/ATen.h>

#include <algorithm>
#include <array>
#include <bit>
#include <cstring>
#include <functional>
#include <optional>
#include <span>
#include <string_view>
#include <unordered_map>

#include "base/error.h"
#include "io/pickle.h"
#include "io/zip_reader.h"

static_assert(std::endian::native == std::endian::little, "torch.save stores little-endian storages");

namespace kiln::io {

namespace fs = std::filesystem;
using pickle::Kind;
using pickle::Value;

namespace {

constexpr std::string_view kRebuildTensorV2 = "torch._utils._rebuild_tensor_v2";
constexpr std::string_view kRebuildTensor = "torch._utils._rebuild_tensor";
constexpr std::string_view kRebuildParameter = "torch._utils._rebuild_parameter";
constexpr std::string_view kRebuildParameterWithState = "torch._utils._rebuild_parameter_with_state";
constexpr std::string_view kRebuildFromType = "torch._tensor._rebuild_from_type_v2";

struct StorageType {
  std::string_view name;
  DType dtype;
};
// The typed storage classes torch.save names in persistent ids (UntypedStorage: raw bytes).
constexpr std::array<StorageType, 12> kStorageTypes{{
    {"torch.DoubleStorage", DType::F64},
    {"torch.FloatStorage", DType::F32},
    {"torch.HalfStorage", DType::F16},
    {"torch.BFloat16Storage", DType::BF16},
    {"torch.LongStorage", DType::I64},
    {"torch.IntStorage", DType::I32},
    {"torch.ShortStorage", DType::I16},
    {"torch.CharStorage", DType::I8},
    {"torch.ByteStorage", DType::U8},
    {"torch.BoolStorage", DType::Bool},
    {"torch.UntypedStorage", DType::U8},
    {"torch.storage.UntypedStorage", DType::U8},
}};

// Names interpreted here or harmless to keep as plain calls; anything else is reported.
bool is_known_global(std::string_view name) {
  static constexpr std::string_view kOthers[] = {kRebuildTensorV2,
                                                 kRebuildTensor,
                                                 kRebuildParameter,
                                                 kRebuildParameterWithState,
                                                 kRebuildFromType,
                                                 "torch.Tensor",
                                                 "torch.nn.parameter.Parameter",
                                                 "torch.Size",
                                                 "torch.device",
                                                 "torch.float64",
                                                 "torch.float32",
                                                 "torch.float16",
                                                 "torch.bfloat16",
                                                 "torch.int64",
                                                 "torch.int32",
                                                 "torch.int16",
                                                 "torch.int8",
                                                 "torch.uint8",
                                                 "torch.bool"};
  for (const auto& s : kStorageTypes)
    if (s.name == name) return true;
  return std::find(std::begin(kOthers), std::end(kOthers), name) != std::end(kOthers);
}

std::string quoted(const std::string& s) { return "\"" + s + "\""; }

// "a, b, c and 4 more"
std::string name_list(const std::vector<std::string>& names, std::size_t shown = 10) {
  std::string out;
  for (std::size_t i = 0; i < names.size() && i < shown; ++i) out += (i ? ", " : "") + names[i];
  if (names.size() > shown) out += " and " + std::to_string(names.size() - shown) + " more";
  return out;
}

constexpr const char* kLegacyMessage =
    "legacy (pre-1.6) PyTorch format is not supported; re-save it with torch.save in a current PyTorch, or convert it "
    "to safetensors";

bool starts_with_legacy_magic(std::span<const std::byte> bytes) {
  // PROTO n, LONG1 of 10 bytes: 0x1950a86a20f9469cfc6c, the magic number of the pre-1.6 format.
  static constexpr std::uint8_t kMagic[] = {0x8a, 0x0a, 0x6c, 0xfc, 0x9c, 0x46, 0xf9, 0x20, 0x6a, 0xa8, 0x50, 0x19};
  if (bytes.size() < 2 + sizeof kMagic || bytes[0] != std::byte{0x80}) return false;
  return std::memcmp(bytes.data() + 2, kMagic, sizeof kMagic) == 0;
}

// Reads the state dict of an unpickled data.pkl into tensor entries.
class StateDictReader {
 public:
  StateDictReader(const ZipArchive& zip, std::string prefix, const fs::path& path, int nested_levels)
      : zip_(zip), prefix_(std::move(prefix)), path_(path), nested_levels_(nested_levels) {}

  // The tensors of `state`, in dict order; non-tensor values go to `skipped`.
  std::vector<TensorEntry> read(const Value& state, std::vector<std::string>& skipped) {
    std::vector<TensorEntry> out;
    std::unordered_map<std::string, std::size_t> position;
    read_into(state, "", 0, out, position, skipped);
    return out;
  }

 private:
  void read_into(const Value& state, const std::string& key_prefix, int level, std::vector<TensorEntry>& out,
                 std::unordered_map<std::string, std::size_t>& position, std::vector<std::string>& skipped) {
    for (const auto& [key, value] : state.entries) {
      if (key->kind != Kind::String) {
        skipped.push_back("a non-string key (" + pickle::describe(*key) + ")");
        continue;
      }
      const std::string name = key_prefix + key->text;
      if (value->kind == Kind::Dict && level < nested_levels_) {
        read_into(*value, name + ".", level + 1, out, position, skipped);
        continue;
      }
      std::optional<TensorEntry> entry = tensor(*value, name);
      if (!entry) {
        skipped.push_back(name + " (" + pickle::describe(*value) + ")");
        continue;
      }
      // A key given twice keeps its first place and its last value, as a Python dict does.
      auto [it, inserted] = position.try_emplace(name, out.size());
      if (inserted)
        out.push_back(std::move(*entry));
      else
        out[it->second] = std::move(*entry);
    }
  }

 private:
  [[noreturn]] void fail(const std::string& name, const std::string& what) const {
    throw FormatError("tensor " + quoted(name) + ": " + what, path_);
  }

  // nullopt when the value is not a tensor at all; throws when it is one but broken.
  std::optional<TensorEntry> tensor(const Value& value, const std::string& name) const {
    std::string_view func = value.call_name();
    std::span<const Value* const> args = value.call_args();
    // Parameters and tensor subclasses wrap the plain rebuild call; a few levels suffice.
    for (int depth = 0; depth < 4; ++depth) {
      if (func == kRebuildTensorV2 || func == kRebuildTensor) return rebuild(args, name);
      if (func == kRebuildParameter || func == kRebuildParameterWithState) {
        if (args.empty()) fail(name, std::string(func) + " has no arguments");
        func = args[0]->call_name();
        args = args[0]->call_args();
      } else if (func == kRebuildFromType) {
        // _rebuild_from_type_v2(func, new_type, args, state)
        if (args.size() < 3 || args[0]->kind != Kind::Global || args[2]->kind != Kind::Tuple)
          fail(name, std::string(kRebuildFromType) + " with arguments Kiln does not understand");
        func = args[0]->text;
        args = args[2]->items;
      } else {
        return std::nullopt;
      }
    }
    fail(name, "tensor rebuild calls nested too deeply");
  }

  static std::optional<std::int64_t> as_int(const Value* v) {
    if (v->kind != Kind::Int) return std::nullopt;
    return v->integer;
  }

  // Sizes or strides: a tuple (or list) of non-negative ints.
  std::vector<std::int64_t> int_list(const Value* v, const std::string& name, const char* what) const {
    if (!v->is_sequence()) fail(name, std::string(what) + " is " + pickle::describe(*v) + ", not a tuple of ints");
    std::vector<std::int64_t> out;
    for (const Value* item : v->items) {
      const auto i = as_int(item);
      if (!i || *i < 0)
        fail(name, std::string(what) + " holds " + pickle::describe(*item) + ", not a non-negative int");
      out.push_back(*i);
    }
    return out;
  }

  struct Storage {
    DType dtype;
    const ZipEntry* entry;
    std::uint64_t numel;
  };

  // The persistent id ('storage', StorageClass, key, location, numel) of a tensor's storage.
  Storage storage(const Value* ref, const std::string& name) const {
    const Value* pid = ref->kind == Kind::PersistentId && ref->items.size() == 1 ? ref->items[0] : nullptr;
    if (!pid || pid->kind != Kind::Tuple || pid->items.size() < 5 || !pid->items[0]->is_string("storage"))
      fail(name, "storage is " + pickle::describe(pid ? *pid : *ref) +
                     ", not a persistent id ('storage', class, key, location, numel)");
    const Value* cls = pid->items[1];
    const Value* key = pid->items[2];
    const auto numel = as_int(pid->items[4]);
    auto type = std::find_if(kStorageTypes.begin(), kStorageTypes.end(),
                             [&](const StorageType& s) { return s.name == cls->text; });
    if ((cls->kind != Kind::Global && cls->kind != Kind::Object) || type == kStorageTypes.end()) {
      std::string dtypes;
      for (DType d : kAllDTypes) dtypes += (dtypes.empty() ? "" : ", ") + std::string(to_string(d));
      fail(name, "storage type " + pickle::describe(*cls) + " is not supported (Kiln reads " + dtypes + ")");
    }
    if (key->kind != Kind::String) fail(name, "storage key is " + pickle::describe(*key) + ", not a string");
    if (!numel || *numel < 0)
      fail(name, "storage size is " + pickle::describe(*pid->items[4]) + ", not a non-negative int");

    const std::string entry_name = prefix_ + "data/" + key->text;
    const ZipEntry* entry = zip_.find(entry_name);
    if (!entry) fail(name, "storage entry " + entry_name + " is missing from the archive");
    zip_.data(*entry);  // throws for compressed or encrypted entries
    const std::uint64_t size = element_size(type->dtype);
    const auto count = static_cast<std::uint64_t>(*numel);
    if (count > entry->size / size || count * size != entry->size)
      fail(name, "storage entry " + entry_name + " holds " + std::to_string(entry->size) + " bytes but its " +
                     std::to_string(count) + " " + std::string(to_string(type->dtype)) + " elements need " +
                     (count > UINT64_MAX / size ? std::string("more than 2^64") : std::to_string(count * size)));
    return Storage{type->dtype, entry, count};
  }

  // _rebuild_tensor_v2(storage, storage_offset, size, stride, ...) and _rebuild_tensor (the
  // same first four arguments).
  TensorEntry rebuild(std::span<const Value* const> args, const std::string& name) const {
    if (args.size() < 4)
      fail(name, "tensor rebuild call has " + std::to_string(args.size()) + " arguments, expected at least 4");
    const Storage st = storage(args[0], name);
    const auto offset = as_int(args[1]);
    if (!offset || *offset < 0)
      fail(name, "storage offset is " + pickle::describe(*args[1]) + ", not a non-negative int");
    TensorEntry e;
    e.name = name;
    e.dtype = st.dtype;
    e.file = path_;
    e.shape = int_list(args[2], name, "size");
    std::vector<std::int64_t> strides = int_list(args[3], name, "stride");
    if (strides.size() != e.shape.size())
      fail(name, "size " + e.shape_string() + " has " + std::to_string(e.shape.size()) + " dimensions but stride has " +
                     std::to_string(strides.size()));

    // Element count and index of the last element reached, every product and sum checked:
    // a wrapped value could otherwise pass the bounds check.
    const auto storage_offset = static_cast<std::uint64_t>(*offset);
    std::uint64_t numel = 1;
    std::uint64_t last = storage_offset;
    bool wraps = false;
    for (std::size_t d = 0; d < e.shape.size(); ++d) {
      const auto n = static_cast<std::uint64_t>(e.shape[d]);
      if (__builtin_mul_overflow(numel, n, &numel) || numel > static_cast<std::uint64_t>(INT64_MAX))
        fail(name, "size " + e.shape_string() + " has more than 2^63 elements");
      std::uint64_t reach = 0;
      if (n > 0)
        wraps = wraps || __builtin_mul_overflow(n - 1, static_cast<std::uint64_t>(strides[d]), &reach) ||
                __builtin_add_overflow(last, reach, &last);
    }
    const std::string range = "view (offset " + std::to_string(storage_offset) + ", size " + e.shape_string() + ") ";
    if (numel == 0) {
      if (storage_offset > st.numel)
        fail(name,
             range + "starts beyond its storage of " + std::to_string(st.numel) + " elements in " + st.entry->name);
    } else if (wraps || last >= st.numel) {
      fail(name,
           range + "reaches beyond its storage of " + std::to_string(st.numel) + " elements in " + st.entry->name);
    }

    const std::uint64_t size = element_size(st.dtype);
    e.offset = st.entry->data_offset + storage_offset * size;
    e.nbytes = numel == 0 ? 0 : (last - storage_offset + 1) * size;
    // Contiguous as torch defines it: row-major strides, ignoring dimensions of size 1.
    bool contiguous = true;
    std::int64_t expected = 1;  // never overflows: the product of the sizes is below 2^63 here
    for (std::size_t d = e.shape.size(); numel != 0 && d-- > 0;) {
      if (e.shape[d] == 1) continue;
      contiguous = contiguous && strides[d] == expected;
      expected *= e.shape[d];
    }
    if (!contiguous && numel != 0) e.strides = std::move(strides);
    return e;
  }

  const ZipArchive& zip_;
  std::string prefix_;
  const fs::path& path_;
  int nested_levels_;
};

// The one "<folder>/data.pkl" entry; its folder prefix ("archive/") names the others.
const ZipEntry& find_data_pkl(const ZipArchive& zip, const fs::path& path) {
  const ZipEntry* found = nullptr;
  for (const ZipEntry& e : zip.entries()) {
    const auto slash = e.name.find('/');
    if (slash == 0 || slash == std::string::npos || e.name.substr(slash + 1) != "data.pkl") continue;
    if (found) throw FormatError("two pickles in one checkpoint: " + found->name + " and " + e.name, path);
    found = &e;
  }
  if (!found) throw FormatError("not a PyTorch zip checkpoint: the zip has no <folder>/data.pkl entry", path);
  return *found;
}

}  // namespace

std::unique_ptr<TorchCheckpointFile> TorchCheckpointFile::open(const fs::path& path,
                                                               const TorchCheckpointOptions& options) {
  std::unique_ptr<TorchCheckpointFile> file(new TorchCheckpointFile());
  file->map_ = MappedFile::open(path);
  const std::span<const std::byte> bytes = file->map_->bytes();

  static constexpr std::uint8_t kZipMagic[] = {'P', 'K', 3, 4};
  if (bytes.size() < sizeof kZipMagic || std::memcmp(bytes.data(), kZipMagic, sizeof kZipMagic) != 0) {
    if (starts_with_legacy_magic(bytes)) throw FormatError(kLegacyMessage, path);
    throw FormatError("not a PyTorch zip checkpoint (no zip header at the start of the file)", path);
  }

  const ZipArchive zip = ZipArchive::open(bytes, path);
  const ZipEntry& pkl = find_data_pkl(zip, path);
  const std::string prefix = pkl.name.substr(0, pkl.name.size() - std::string_view("data.pkl").size());
  if (const ZipEntry* order = zip.find(prefix + "byteorder")) {
    const auto data = zip.data(*order);
    const std::string_view text(reinterpret_cast<const char*>(data.data()), data.size());
    if (text != "little")
      throw FormatError(
          "byte order is \"" + std::string(text.substr(0, 16)) + "\"; Kiln reads only little-endian checkpoints", path);
  }

  const pickle::Pickle pk = pickle::unpickle(zip.data(pkl), pickle::Options{is_known_global, pkl.name}, path);
  const Value& root = pk.root();
  if (root.kind != Kind::Dict) {
    std::string hint =
        zip.find(prefix + "constants.pkl") ? " (this looks like a TorchScript archive, which Kiln does not read)" : "";
    throw FormatError(pkl.name + " holds " + pickle::describe(root) + ", not a state dict of tensors" + hint +
                          "; nothing in it was run",
                      path);
  }
  const Value* state = pickle::dict_get(root, "state_dict");
  // BasicSR / Real-ESRGAN save {"params_ema": ..., "params": ...}; the EMA weights are the ones used.
  for (const char* key : {"params_ema", "params"}) {
    if (state && state->kind == Kind::Dict) break;
    state = pickle::dict_get(root, key);
  }
  const bool nested = state && state->kind == Kind::Dict;
  if (!nested) state = &root;

  std::vector<std::string> skipped;
  StateDictReader reader(zip, prefix, path, options.nested_dicts ? 4 : 0);
  for (TensorEntry& e : reader.read(*state, skipped)) file->index_.add(std::move(e));

  // At the top level (no "state_dict"), other values are expected only when there are no
  // tensors at all; inside a state dict every value should be a tensor.
  if (!skipped.empty() && (nested || !file->index_.empty()))
    file->warnings_.push_back("skipped " + std::to_string(skipped.size()) + " values of the " +
                              (nested ? std::string("\"state_dict\"") : std::string("top-level dict")) +
                              " that are not tensors: " + name_list(skipped));
  if (file->index_.empty())
    file->warnings_.push_back(std::string(nested ? "the \"state_dict\" holds no tensors"
                                                 : "the checkpoint holds no tensors at its top level") +
                              (skipped.empty() ? std::string() : ", only " + name_list(skipped)));
  if (!pk.unknown_globals().empty())
    file->warnings_.push_back("skipped objects the reader does not know: " + name_list(pk.unknown_globals()));
  return file;
}

at::Tensor TorchCheckpointFile::tensor(const std::string& name) const {
  const TensorEntry* e = index_.find(name);
  if (!e) throw FormatError("no tensor named " + quoted(name), path());
  const auto options = at::TensorOptions().dtype(to_scalar_type(e->dtype)).device(at::kCPU);
  if (e->nbytes == 0) return at::empty(e->shape, options);
  const auto size = static_cast<std::int64_t>(element_size(e->dtype));
  // The mapping is private and writable (copy-on-write), so handing out a mutable view is safe.
  void* data = const_cast<std::byte*>(map_->data() + e->offset);
  if (e->offset % static_cast<std::uint64_t>(size) != 0) {
    // Unaligned for its dtype (not something torch.save writes): copy the spanned bytes.
    at::Tensor span = at::empty({static_cast<std::int64_t>(e->nbytes) / size}, options);
    std::memcpy(span.data_ptr(), data, e->nbytes);
    return e->strides.empty() ? span.view(e->shape) : span.as_strided(e->shape, e->strides, 0);
  }
  // The deleter owns a reference to the mapping: it lives as long as any view of it.
  std::function<void(void*)> release = [keep_alive = map_](void*) {};
  if (e->strides.empty()) return at::from_blob(data, e->shape, release, options);
  return at::from_blob(data, e->shape, e->strides, release, options);
}

}  // namespace kiln::io
