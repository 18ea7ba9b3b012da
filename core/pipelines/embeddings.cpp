#include "pipelines/embeddings.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <cstring>
#include <fstream>

#include "base/error.h"
#include "io/sha256.h"
#include "io/torch_checkpoint.h"
#include "io/weight_file.h"
#include "pipelines/model_loading.h"

namespace kiln::pipelines {

namespace fs = std::filesystem;

namespace {

constexpr std::int64_t kMaxVectors = 75;  // one prompt chunk

std::string quoted(const std::string& s) { return "\"" + s + "\""; }

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

std::string shape_string(const torch::Tensor& t) {
  std::string out = "[";
  for (std::int64_t d = 0; d < t.dim(); ++d) out += (d ? ", " : "") + std::to_string(t.size(d));
  return out + "]";
}

bool is_zip(const fs::path& file) {
  std::ifstream in(file, std::ios::binary);
  std::array<char, 4> magic{};
  return in.read(magic.data(), 4) && std::memcmp(magic.data(), "PK\x03\x04", 4) == 0;
}

std::unique_ptr<io::WeightFile> open_embedding_file(const fs::path& file) {
  if (!fs::is_regular_file(file)) throw FileError("no such embedding file", file);
  // torch.save zips: A1111's layout nests the tensor in "string_to_param".
  if (is_zip(file)) return io::TorchCheckpointFile::open(file, io::TorchCheckpointOptions{.nested_dicts = true});
  return io::open_weight_file(file);
}

// A [n, dim] float32 CPU copy of `name`; a 1-D tensor is one vector (diffusers' format).
torch::Tensor read_vectors(const io::WeightFile& f, const std::string& name) {
  torch::Tensor t = f.tensor(name);
  if (!t.is_floating_point())
    throw FormatError("tensor " + quoted(name) + " is " + std::string(c10::toString(t.scalar_type())) +
                          ", not floating point: not a textual inversion embedding",
                      f.path());
  if (t.dim() == 1) t = t.unsqueeze(0);
  if (t.dim() != 2 || t.size(0) < 1 || t.size(1) < 1)
    throw FormatError("tensor " + quoted(name) + " has shape " + shape_string(t) +
                          "; a textual inversion embedding is [vectors, width]",
                      f.path());
  if (t.size(0) > kMaxVectors)
    throw FormatError("the embedding has " + std::to_string(t.size(0)) + " vectors; at most " +
                          std::to_string(kMaxVectors) + " fit in a prompt chunk",
                      f.path());
  return t.to(torch::kFloat32).contiguous().clone();
}

std::string names_of(const io::TensorIndex& index) {
  std::string out;
  std::size_t shown = 0;
  for (const io::TensorEntry& e : index.entries()) {
    if (shown == 5) {
      out += " and " + std::to_string(index.size() - shown) + " more";
      break;
    }
    out += (shown++ ? ", " : "") + e.name;
  }
  return out;
}

// "768-wide vectors (SD 1.x)": the width, and the text encoder it belongs to when it is a known one.
std::string vectors_of_width(std::int64_t width) {
  const std::string w = std::to_string(width) + "-wide vectors";
  if (width == 768) return w + " (SD 1.x)";
  if (width == 1024) return w + " (SD 2.x)";
  return w;
}

std::string model_name(const StableDiffusionModel& model) {
  if (model.is_sdxl()) return "SDXL";
  switch (model.text_encoder->config().hidden_size) {
    case 768: return "SD 1.x";
    case 1024: return "SD 2.x";
    default: return "SD 1.x/2.x";
  }
}

void check_fits(const TextualInversion& e, const StableDiffusionModel& model) {
  const std::string what = "embedding " + quoted(e.name) + " (" + e.file.string() + ")";
  if (model.is_sdxl()) {
    const std::int64_t l = model.text_encoder->config().hidden_size, g = model.text_encoder_2->config().hidden_size;
    if (!e.is_sdxl())
      throw InvalidRequestError(what + " has " + vectors_of_width(e.vectors.size(1)) +
                                    ", for SD 1.x/2.x; the model is SDXL, which needs an SDXL embedding (clip_l " +
                                    std::to_string(l) + " and clip_g " + std::to_string(g) + " wide)",
                                "use an embedding trained for SDXL, or a model of the embedding's family");
    if (e.clip_l.size(1) != l || e.clip_g.size(1) != g)
      throw InvalidRequestError(what + " has clip_l " + std::to_string(e.clip_l.size(1)) + " and clip_g " +
                                std::to_string(e.clip_g.size(1)) + " wide; the model's text encoders take " +
                                std::to_string(l) + " and " + std::to_string(g));
    return;
  }
  const std::int64_t width = model.text_encoder->config().hidden_size;
  if (e.is_sdxl())
    throw InvalidRequestError(what + " is an SDXL embedding (clip_l + clip_g); the model is " + model_name(model) +
                                  ", its text encoder takes " + vectors_of_width(width),
                              "use an embedding trained for the model's family, or an SDXL model");
  if (e.vectors.size(1) != width)
    throw InvalidRequestError(what + " has " + vectors_of_width(e.vectors.size(1)) + "; the model is " +
                                  model_name(model) + ", its text encoder takes " + vectors_of_width(width),
                              "use an embedding trained for the model's family");
}

}  // namespace

TextualInversion load_textual_inversion(const fs::path& file) {
  const std::unique_ptr<io::WeightFile> f = open_embedding_file(file);
  const io::TensorIndex& index = f->index();
  TextualInversion out;
  out.name = file.stem().string();
  out.file = file;

  std::vector<std::string> params;
  for (const io::TensorEntry& e : index.entries())
    if (e.name.rfind("string_to_param.", 0) == 0) params.push_back(e.name);
  const bool has_l = index.contains("clip_l"), has_g = index.contains("clip_g");
  if (!params.empty()) {
    // A1111: 'embedding file has multiple terms in it'.
    if (params.size() != 1)
      throw FormatError("the embedding has " + std::to_string(params.size()) +
                            " terms in string_to_param; Kiln, like A1111, reads files of one term",
                        file);
    out.vectors = read_vectors(*f, params.front());
  } else if (has_l || has_g) {
    if (!has_g)
      throw FormatError("an SDXL embedding needs clip_l and clip_g; this file has no clip_g", file);
    if (!has_l)
      throw FormatError("an SDXL embedding needs clip_l and clip_g; this file has no clip_l", file);
    out.clip_l = read_vectors(*f, "clip_l");
    out.clip_g = read_vectors(*f, "clip_g");
    if (out.clip_l.size(0) != out.clip_g.size(0))
      throw FormatError("clip_l has " + std::to_string(out.clip_l.size(0)) + " vectors and clip_g " +
                            std::to_string(out.clip_g.size(0)) + "; an SDXL embedding has as many of each",
                        file);
  } else if (index.size() == 1) {
    out.vectors = read_vectors(*f, index.entries().front().name);  // emb_params, diffusers' "<token>"
  } else {
    throw FormatError(
        index.empty()
            ? std::string("not a textual inversion embedding: the file holds no tensors")
            : "not a textual inversion embedding: expected string_to_param, emb_params, clip_l + clip_g or one "
              "tensor, found " + std::to_string(index.size()) + " tensors (" + names_of(index) + ")",
        file);
  }
  return out;
}

std::string textual_inversion_short_hash(const fs::path& file) {
  const std::string hash = io::sha256_file(file);
  if (hash.empty()) throw FileError("cannot hash the embedding file", file);
  return hash.substr(0, 12);
}

EmbeddingLibrary EmbeddingLibrary::scan(const std::vector<fs::path>& folders) {
  EmbeddingLibrary library;
  for (const fs::path& folder : folders) {
    std::error_code ec;
    if (!fs::is_directory(folder, ec)) throw FileError("no such embeddings folder", folder);
    std::vector<fs::path> files;
    fs::recursive_directory_iterator it(folder, fs::directory_options::follow_directory_symlink, ec);
    if (ec) throw FileError("cannot list the embeddings folder: " + ec.message(), folder);
    for (; it != fs::recursive_directory_iterator(); it.increment(ec)) {
      if (ec) throw FileError("cannot list the embeddings folder: " + ec.message(), folder);
      const fs::path& p = it->path();
      const std::string ext = lower(p.extension().string());
      if (ext != ".pt" && ext != ".bin" && ext != ".safetensors") continue;
      if (p.filename().string().front() == '.' || !it->is_regular_file(ec) || it->file_size(ec) == 0) continue;
      files.push_back(p);
    }
    std::sort(files.begin(), files.end());
    for (const fs::path& p : files) library.files_[p.stem().string()] = p;
  }
  return library;
}

PromptEmbeddings resolve_embeddings(const StableDiffusionModel& model, const EmbeddingLibrary& library,
                                    const std::vector<std::string>& prompts, text::PromptSyntax syntax) {
  PromptEmbeddings out;
  if (library.empty()) return out;
  std::vector<text::PromptEmbedding> candidates;
  candidates.reserve(library.files().size());
  for (const auto& [name, file] : library.files()) {
    std::vector<std::int64_t> ids = model.tokenizer->encode(name);
    if (!ids.empty()) candidates.push_back({name, std::move(ids), 1});
  }
  std::vector<std::string> names;
  for (const std::string& prompt : prompts) {
    for (std::string& name : text::embeddings_in_prompt(*model.tokenizer, prompt, syntax, candidates))
      if (std::find(names.begin(), names.end(), name) == names.end()) names.push_back(std::move(name));
  }
  for (const std::string& name : names) {
    TextualInversion e = load_textual_inversion(library.files().at(name));
    check_fits(e, model);
    const auto ids = std::find_if(candidates.begin(), candidates.end(),
                                  [&](const text::PromptEmbedding& c) { return c.name == name; })->ids;
    out.prompt.push_back({name, ids, static_cast<int>(e.count())});
    if (e.is_sdxl()) {
      out.vectors[name] = e.clip_l;
      out.vectors_2[name] = e.clip_g;
    } else {
      out.vectors[name] = e.vectors;
    }
    out.used.push_back(std::move(e));
  }
  return out;
}

}  // namespace kiln::pipelines
