#pragma once
// Textual inversion embeddings as AUTOMATIC1111 reads them (modules/textual_inversion): files in
// embedding folders (searched recursively), each named by its file stem; a prompt word whose
// tokens are the name's tokens stands for the file's vectors (text/prompt.h, PromptEmbedding),
// which replace token embeddings at the input of the text encoder (prompt_encoder.h).
//
// Files (read by content; pickles with Kiln's safe reader, nothing in them is run):
//   .pt / .bin  A1111's {"string_to_param": {"*": [n, dim]}, "name", "step", ...}, or
//               diffusers' {"<token>": [dim]} (one tensor)
//   .safetensors  "emb_params" [n, dim] (kohya's TI), "string_to_param.*", any single tensor,
//               or SDXL's "clip_l" [n, 768] + "clip_g" [n, 1280]
// Refused with kiln::FormatError naming the file: anything else (no tensor, several unrelated
// tensors, a file that is not a weight file), tensors that are not 1-D/2-D floating point, more
// than 75 vectors, clip_l without clip_g (or the reverse), clip_l/clip_g of different lengths.
// The vector width is checked against the model when a prompt uses the embedding
// (kiln::InvalidRequestError naming the file, the width and the model family it fits): a
// folder may hold embeddings for several model families, as A1111's does.

#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include <torch/torch.h>

#include "text/prompt.h"

namespace kiln::pipelines {

struct StableDiffusionModel;

struct TextualInversion {
  std::string name;  // the file stem
  std::filesystem::path file;
  torch::Tensor vectors;         // SD 1.x / 2.x: [n, dim] float32 CPU; undefined for SDXL files
  torch::Tensor clip_l, clip_g;  // SDXL: [n, 768] and [n, 1280] float32 CPU; undefined otherwise

  bool is_sdxl() const { return clip_g.defined(); }
  std::int64_t count() const { return is_sdxl() ? clip_g.size(0) : vectors.size(0); }
};

// Throws kiln::FileError / kiln::FormatError naming the file (see above).
TextualInversion load_textual_inversion(const std::filesystem::path& file);

// A1111's short hash of an embedding for the "TI hashes" PNG parameter: the first 12 hex digits
// of the SHA-256 of the whole file.
std::string textual_inversion_short_hash(const std::filesystem::path& file);

// The embedding files of some folders: name -> file. Files ending in .pt, .bin or .safetensors
// (any case), non-empty, not hidden; a later file of the same name replaces an earlier one
// (folders in the given order, files in path order within a folder).
class EmbeddingLibrary {
 public:
  EmbeddingLibrary() = default;
  // Throws kiln::FileError naming a folder that does not exist or cannot be listed.
  static EmbeddingLibrary scan(const std::vector<std::filesystem::path>& folders);

  const std::map<std::string, std::filesystem::path>& files() const { return files_; }
  bool empty() const { return files_.empty(); }

 private:
  std::map<std::string, std::filesystem::path> files_;
};

// The embeddings some prompts use, loaded and checked against a model.
struct PromptEmbeddings {
  std::vector<TextualInversion> used;           // in order of first use over the prompts
  std::vector<text::PromptEmbedding> prompt;    // for text::tokenize_prompt
  std::map<std::string, torch::Tensor> vectors;    // name -> [n, C] for text_encoder
  std::map<std::string, torch::Tensor> vectors_2;  // SDXL: name -> [n, C2] for text_encoder_2
  bool empty() const { return used.empty(); }
};

// Finds the library's names in `prompts` (as tokenize_prompt does), loads those files and checks
// their widths against the model's text encoder(s). Throws kiln::FormatError (a file that is not
// an embedding) or kiln::InvalidRequestError (an embedding for another model family), each naming
// the file.
PromptEmbeddings resolve_embeddings(const StableDiffusionModel& model, const EmbeddingLibrary& library,
                                    const std::vector<std::string>& prompts, text::PromptSyntax syntax);

}  // namespace kiln::pipelines
