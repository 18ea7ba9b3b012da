#include "pipelines/control_guidance.h"

#include <cmath>

namespace kiln::pipelines {

bool control_unit_active(const ControlNetUnit& unit, std::int64_t step, std::int64_t steps) {
  const double begins = static_cast<double>(step) / static_cast<double>(steps);
  const double ends = static_cast<double>(step + 1) / static_cast<double>(steps);
  return !(begins < unit.start || ends > unit.end);
}

std::vector<double> control_residual_scales(ControlMode mode, double weight, std::int64_t residuals) {
  std::vector<double> scales(static_cast<std::size_t>(residuals), weight);
  switch (mode) {
    case ControlMode::Balanced:
      break;
    case ControlMode::PromptMoreImportant:
      // sd-webui-controlnet's soft injection: weight * 0.825 ** float(12 - i), i over the residuals.
      for (std::int64_t k = 0; k < residuals; ++k)
        scales[static_cast<std::size_t>(k)] = weight * std::pow(0.825, static_cast<double>(12 - k));
      break;
    case ControlMode::ControlNetMoreImportant: {
      // diffusers' ControlNetModel guess mode: torch.logspace(-1, 0, n + 1) * conditioning_scale,
      // computed in float32 as there.
      const torch::Tensor logspace = torch::logspace(-1.0, 0.0, residuals, 10.0, torch::kFloat) * weight;
      for (std::int64_t k = 0; k < residuals; ++k) scales[static_cast<std::size_t>(k)] = logspace[k].item<float>();
      break;
    }
  }
  return scales;
}

ControlGuidance::ControlGuidance(const std::vector<ControlNetUnit>& units, const RunSetup& setup) : setup_(setup) {
  for (const ControlNetUnit& u : units) {
    const torch::Tensor image =
        u.image.to(setup.device, u.model->conv_in->weight.scalar_type()).repeat({setup.batch, 1, 1, 1});
    const bool doubled = setup.cfg && u.mode != ControlMode::ControlNetMoreImportant;
    units_.push_back({&u, doubled ? torch::cat({image, image}) : image});
  }
}

std::optional<models::UNetResiduals> ControlGuidance::residuals(std::int64_t step, std::int64_t steps,
                                                                const torch::Tensor& scaled_input, double timestep,
                                                                const Conditioning& cond) const {
  std::optional<models::UNetResiduals> sum;
  for (const PreparedUnit& p : units_) {
    const ControlNetUnit& unit = *p.unit;
    // An inactive unit adds nothing (diffusers runs it at scale 0: zero residuals).
    if (!control_unit_active(unit, step, steps)) continue;
    const bool conditional_only = setup_.cfg && unit.mode == ControlMode::ControlNetMoreImportant;
    const Conditioning c = conditional_only ? cond.conditional_half(true) : cond;
    const torch::Tensor input = conditional_only ? scaled_input.chunk(2)[1] : scaled_input;
    models::ControlNetModel net = unit.model;  // a handle: forward is not const
    const torch::Dtype dtype = net->conv_in->weight.scalar_type();
    models::UNetAddedCond added;
    if (c.pooled.defined()) {
      added.text_embeds = c.pooled.to(dtype);
      added.time_ids = c.time_ids.to(dtype);
    }
    // Balanced passes the weight to the ControlNet (diffusers' conditioning_scale); the other
    // modes scale each residual afterwards.
    const bool balanced = unit.mode == ControlMode::Balanced;
    const models::ControlNetOutput out =
        net->forward(input.to(dtype), timestep, c.embeds.to(dtype), p.image, balanced ? unit.weight : 1.0,
                     c.pooled.defined() ? &added : nullptr);
    models::UNetResiduals r = out.residuals();
    std::vector<torch::Tensor*> all;
    for (torch::Tensor& d : r.down_block_additional_residuals) all.push_back(&d);
    all.push_back(&r.mid_block_additional_residual);
    const std::vector<double> scales =
        balanced ? std::vector<double>{}
                 : control_residual_scales(unit.mode, unit.weight, static_cast<std::int64_t>(all.size()));
    for (std::size_t k = 0; k < all.size(); ++k) {
      torch::Tensor& t = *all[k];
      if (!balanced) t = t * scales[k];
      if (conditional_only) t = torch::cat({torch::zeros_like(t), t});  // the unconditional half: none
      t = t.to(setup_.dtype);
    }
    if (!sum) {
      sum = std::move(r);
      continue;
    }
    for (std::size_t k = 0; k < sum->down_block_additional_residuals.size(); ++k)
      sum->down_block_additional_residuals[k] =
          sum->down_block_additional_residuals[k] + r.down_block_additional_residuals[k];
    sum->mid_block_additional_residual = sum->mid_block_additional_residual + r.mid_block_additional_residual;
  }
  return sum;
}

}  // namespace kiln::pipelines
