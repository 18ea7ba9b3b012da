#include "pipelines/text_encoder_loading.h"

#include "base/error.h"
#include "io/weight_file.h"
#include "models/weight_loading.h"

namespace kiln::pipelines {

models::CLIPTextConfig single_file_text_encoder_config(convert::ModelFamily family, const std::string& component) {
  using convert::ModelFamily;
  switch (family) {
    case ModelFamily::SD1:
    case ModelFamily::SD1Inpaint:
      if (component == "text_encoder") return models::CLIPTextConfig::sd1();
      break;
    case ModelFamily::SD2:
    case ModelFamily::SD2Inpaint:
      if (component == "text_encoder") return models::CLIPTextConfig::sd2();
      break;
    case ModelFamily::SDXL:
      if (component == "text_encoder") return models::CLIPTextConfig::sd1();
      if (component == "text_encoder_2") return models::CLIPTextConfig::sdxl_bigg();
      break;
    case ModelFamily::SDXLRefiner:
      if (component == "text_encoder_2") return models::CLIPTextConfig::sdxl_bigg();
      break;
    default:
      break;
  }
  throw InvalidRequestError(std::string(convert::display_name(family)) + " single files have no " + component);
}

models::CLIPTextModel load_single_file_text_encoder(const io::WeightFile& file,
                                                    const convert::SingleFileTextEncoder& encoder,
                                                    const models::CLIPTextConfig& config) {
  models::CLIPTextModel model = models::make_unfilled<models::CLIPTextModel>(config);
  models::WeightLoadOptions options;
  options.model_name = (config.with_projection ? "CLIPTextModelWithProjection " : "CLIPTextModel ") + encoder.component;
  options.source = file.path();
  models::load_weights(*model, convert::text_encoder_tensors(file, encoder), options);
  model->eval();
  return model;
}

}  // namespace kiln::pipelines
