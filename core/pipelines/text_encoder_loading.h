#pragma once
// Text encoders from single files: the original names are translated at the edge
// (convert/text_encoder_keys) and loaded into the diffusers-named model, strictly (one report of
// every missing or mis-shaped key); keys under the encoder's prefix without a diffusers
// counterpart (position_ids, logit_scale, SD 2's 24th block) are skipped.

#include <string>

#include "convert/model_family.h"
#include "convert/text_encoder_keys.h"
#include "models/clip_text_model.h"

namespace kiln::io {
class WeightFile;
}

namespace kiln::pipelines {

// The hub config of one text encoder of a family's single file (single files carry no config):
// SD 1.x and SDXL text_encoder: CLIP ViT-L; SD 2.x: OpenCLIP ViT-H (23 layers); SDXL
// text_encoder_2: bigG with projection. Throws kiln::InvalidRequestError for a family/component
// without one.
models::CLIPTextConfig single_file_text_encoder_config(convert::ModelFamily family, const std::string& component);

// Builds `config`'s model (fp32, CPU, eval mode) and loads `encoder`'s weights from `file`.
// Throws kiln::WeightMismatchError / kiln::FormatError naming the file.
models::CLIPTextModel load_single_file_text_encoder(const io::WeightFile& file,
                                                    const convert::SingleFileTextEncoder& encoder,
                                                    const models::CLIPTextConfig& config);

}  // namespace kiln::pipelines
