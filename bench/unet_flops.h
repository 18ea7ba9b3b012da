#pragma once
// Analytic FLOP count (multiply-add = 2 FLOPs) of one UNet2DConditionModel forward from its
// config: convolutions, linear layers and the two attention products, the work GEMM/oneDNN does.
// Norms, activations and element-wise adds are left out (a few percent, memory-bound).

#include <cstdint>
#include <vector>

#include "models/unet_2d_condition.h"

namespace kiln::bench {

inline double unet_flops(const models::UNet2DConditionConfig& c, std::int64_t batch, std::int64_t h, std::int64_t w,
                         std::int64_t context_tokens) {
  const auto b = static_cast<double>(batch);
  const auto conv = [&](double cin, double cout, double k, double hh, double ww) { return 2 * cin * cout * k * k * hh * ww * b; };
  const auto linear = [&](double in, double out, double tokens) { return 2 * in * out * tokens * b; };
  const auto resnet = [&](double cin, double cout, double hh, double ww) {
    return conv(cin, cout, 3, hh, ww) + conv(cout, cout, 3, hh, ww) + (cin != cout ? conv(cin, cout, 1, hh, ww) : 0.0);
  };
  const double ctx = static_cast<double>(context_tokens), ctx_dim = static_cast<double>(c.cross_attention_dim);
  const auto transformer = [&](double ch, double hh, double ww, std::int64_t depth) {
    const double n = hh * ww;
    double f = 2 * linear(ch, ch, n);  // proj_in, proj_out (1x1 conv or linear: the same work)
    for (std::int64_t d = 0; d < depth; ++d) {
      f += 4 * linear(ch, ch, n) + 2 * 2 * n * n * ch * b;                                  // self-attention
      f += 2 * linear(ch, ch, n) + 2 * linear(ctx_dim, ch, ctx) + 2 * 2 * n * ctx * ch * b;  // cross-attention
      f += linear(ch, 8 * ch, n) + linear(4 * ch, ch, n);                                    // GEGLU feed-forward
    }
    return f;
  };
  const std::size_t levels = c.block_out_channels.size();
  auto hh = static_cast<double>(h), ww = static_cast<double>(w);
  double flops = conv(static_cast<double>(c.in_channels), static_cast<double>(c.block_out_channels[0]), 3, hh, ww);
  std::vector<double> skips{static_cast<double>(c.block_out_channels[0])};
  double ch = static_cast<double>(c.block_out_channels[0]);
  for (std::size_t i = 0; i < levels; ++i) {
    const auto out = static_cast<double>(c.block_out_channels[i]);
    const bool cross = c.down_block_types[i].rfind("CrossAttn", 0) == 0;
    for (std::int64_t j = 0; j < c.layers_per_block; ++j) {
      flops += resnet(ch, out, hh, ww) + (cross ? transformer(out, hh, ww, c.transformer_layers_per_block[i]) : 0.0);
      ch = out;
      skips.push_back(ch);
    }
    if (i + 1 < levels) {
      hh /= 2, ww /= 2;
      flops += conv(ch, ch, 3, hh, ww);  // stride-2 downsampler, output size
      skips.push_back(ch);
    }
  }
  flops += 2 * resnet(ch, ch, hh, ww) + transformer(ch, hh, ww, c.transformer_layers_per_block.back());
  for (std::size_t i = 0; i < levels; ++i) {
    const auto out = static_cast<double>(c.block_out_channels[levels - 1 - i]);
    const bool cross = c.up_block_types[i].rfind("CrossAttn", 0) == 0;
    for (std::int64_t j = 0; j <= c.layers_per_block; ++j) {
      const double skip = skips.back();
      skips.pop_back();
      flops += resnet(ch + skip, out, hh, ww) +
               (cross ? transformer(out, hh, ww, c.transformer_layers_per_block[levels - 1 - i]) : 0.0);
      ch = out;
    }
    if (i + 1 < levels) {
      hh *= 2, ww *= 2;
      flops += conv(ch, ch, 3, hh, ww);  // nearest x2, then conv
    }
  }
  return flops + conv(ch, static_cast<double>(c.out_channels), 3, hh, ww);
}

}  // namespace kiln::bench
