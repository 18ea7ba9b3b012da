#pragma once
// Single-file (LDM/SGM) text encoder names -> diffusers (transformers) names, translated once at
// the edge so the models only know diffusers names:
//   SD 1.x  cond_stage_model.transformer.text_model.*       transformers names under a prefix
//   SD 2.x  cond_stage_model.model.*                         OpenCLIP ViT-H: transformer.resblocks.N.*,
//           attn.in_proj_weight/bias = q, k, v stacked on dim 0, ln_final, positional_embedding
//   SDXL    conditioner.embedders.0.transformer.*            CLIP ViT-L, transformers names
//           conditioner.embedders.1.model.*                  OpenCLIP bigG, text_projection stored as W^T
// The oracle is golden/keys/*/mapping.tsv (diffusers' own conversion scripts).

#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "convert/model_family.h"
#include "io/tensor_index.h"

namespace at {
class Tensor;
}
namespace kiln::io {
class WeightFile;
}

namespace kiln::convert {

enum class TextEncoderKeyStyle {
  Transformers,  // transformers' CLIPTextModel names under a prefix
  OpenCLIP,      // open_clip's TextTransformer names under a prefix
};

// Where one diffusers text encoder component lives in a single file.
struct SingleFileTextEncoder {
  std::string component;  // "text_encoder" or "text_encoder_2"
  std::string prefix;     // "cond_stage_model.model."
  TextEncoderKeyStyle style = TextEncoderKeyStyle::Transformers;
  // OpenCLIP: resblocks kept, 0 = all. SD 2.x keeps 23 of 24: diffusers' SD 2 text encoder has 23
  // layers, since SD 2 conditions on the penultimate layer (+ ln_final) and never runs the last.
  int max_layers = 0;
  // Translate the projection (OpenCLIP `text_projection`, [hidden, proj] = W^T) into
  // `text_projection.weight` [proj, hidden]. SD 2.x has none in diffusers (CLIPTextModel).
  bool with_projection = false;
};

// The text encoders a single file of `family` holds, in component order; empty for families
// without one (VAE, ControlNet, LoRA, a lone text encoder).
std::vector<SingleFileTextEncoder> single_file_text_encoders(ModelFamily family);

struct TextEncoderKeyMapping {
  enum class Transform {
    Copy,
    Rows,       // original[row_begin:row_end] (one of q/k/v stacked in an OpenCLIP in_proj)
    Transpose,  // original.T (OpenCLIP text_projection)
  };
  std::string diffusers_key;  // component-local: "text_model.final_layer_norm.weight"
  std::string original_key;   // the full single-file name
  Transform transform = Transform::Copy;
  std::int64_t row_begin = 0;
  std::int64_t row_end = 0;

  // mapping.tsv's spelling: "", "concat_dim0[0:1024]", "transpose".
  std::string note() const;
};

struct TextEncoderKeyMap {
  std::vector<TextEncoderKeyMapping> mappings;  // in the single file's order; q, k, v per in_proj
  // Names under the prefix that have no diffusers counterpart and are skipped: position_ids,
  // logit_scale, SD 2's resblocks.23 and text_projection, anything unknown.
  std::vector<std::string> ignored;
};

// The translation for the names and shapes of `index` (a whole single file; other components'
// keys are not looked at). q/k/v are split by the hidden size (in_proj is [3 hidden, hidden]),
// never by projection_dim. Throws kiln::FormatError naming `path` for an in_proj of another shape
// or when nothing is found under the prefix.
TextEncoderKeyMap text_encoder_key_map(const io::TensorIndex& index, const SingleFileTextEncoder& encoder,
                                       const std::filesystem::path& path = {});

// The diffusers names, dtypes and shapes the map yields (entries have no file location).
io::TensorIndex translate_index(const io::TensorIndex& index, const TextEncoderKeyMap& map);

// The tensors under diffusers names; `fetch` returns a tensor by its original name (called once
// per original key). Row slices and transposes are views of what fetch returns.
std::vector<std::pair<std::string, at::Tensor>> translate_tensors(
    const TextEncoderKeyMap& map, const std::function<at::Tensor(const std::string&)>& fetch);

// The other direction, diffusers -> single file, from a diffusers text encoder index
// (component-local names), in the diffusers order: the same rows as above (q, k and v each a Rows
// mapping into their in_proj). Every key but position_ids (a buffer, kept in `ignored`) must have
// a single-file name: a weight would otherwise be lost, so anything else throws kiln::FormatError
// naming `path` (as do q/k/v projections of unequal or missing parts).
TextEncoderKeyMap text_encoder_key_map_from_diffusers(const io::TensorIndex& diffusers,
                                                      const SingleFileTextEncoder& encoder,
                                                      const std::filesystem::path& path = {});

// The single-file names, dtypes and shapes the map yields from a diffusers index.
io::TensorIndex translate_index_to_original(const io::TensorIndex& diffusers, const TextEncoderKeyMap& map);

// The tensors under single-file names, in order of first appearance; `fetch` returns a diffusers
// tensor by its component-local name. The Rows of one original key are concatenated on dim 0 in
// row order (a new tensor); copies and transposes are views of what fetch returns.
std::vector<std::pair<std::string, at::Tensor>> translate_tensors_to_original(
    const TextEncoderKeyMap& map, const std::function<at::Tensor(const std::string&)>& fetch);

// Both steps for one text encoder of an opened single file.
std::vector<std::pair<std::string, at::Tensor>> text_encoder_tensors(const io::WeightFile& file,
                                                                     const SingleFileTextEncoder& encoder);

}  // namespace kiln::convert
