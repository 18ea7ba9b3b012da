#include "models/autoencoder_kl.h"

#include <algorithm>
#include <cmath>
#include <functional>

#include <nlohmann/json.hpp>

#include "base/engine.h"
#include "base/error.h"
#include "io/diffusers_folder.h"
#include "models/attention.h"
#include "models/weight_loading.h"

namespace kiln::models {

namespace {

constexpr double kNormEps = 1e-6;  // every VAE GroupNorm

std::int64_t int_field(const nlohmann::json& config, const char* key, std::int64_t fallback,
                       const std::filesystem::path& path) {
  const auto it = config.find(key);
  if (it == config.end() || it->is_null()) return fallback;
  if (!it->is_number_integer() || it->get<std::int64_t>() <= 0) {
    throw FormatError(std::string("config field \"") + key + "\" must be a positive integer, got " + it->dump(), path);
  }
  return it->get<std::int64_t>();
}

bool bool_field(const nlohmann::json& config, const char* key, bool fallback, const std::filesystem::path& path) {
  const auto it = config.find(key);
  if (it == config.end() || it->is_null()) return fallback;
  if (!it->is_boolean()) {
    throw FormatError(std::string("config field \"") + key + "\" must be true or false, got " + it->dump(), path);
  }
  return it->get<bool>();
}

void check_block_types(const nlohmann::json& config, const char* key, const char* expected, std::size_t count,
                       const std::filesystem::path& path) {
  const auto it = config.find(key);
  if (it == config.end() || it->is_null()) return;
  if (!it->is_array() || it->size() != count) {
    throw FormatError(std::string("config field \"") + key + "\" must list " + std::to_string(count) +
                          " block types, got " + it->dump(),
                      path);
  }
  for (const auto& t : *it) {
    if (!t.is_string() || t.get<std::string>() != expected) {
      throw FormatError(std::string("unsupported VAE block type ") + t.dump() + " in \"" + key + "\"", path,
                        std::string("expected ") + expected);
    }
  }
}

Conv2d conv(std::int64_t in, std::int64_t out, std::int64_t kernel, std::int64_t stride = 1,
                       std::int64_t padding = -1) {
  if (padding < 0) padding = kernel / 2;
  return Conv2d(torch::nn::Conv2dOptions(in, out, kernel).stride(stride).padding(padding));
}

GroupNorm group_norm(std::int64_t groups, std::int64_t channels) {
  return GroupNorm(torch::nn::GroupNormOptions(groups, channels).eps(kNormEps));
}

}  // namespace

AutoencoderKLConfig AutoencoderKLConfig::from_json(const nlohmann::json& config, const std::filesystem::path& path) try {
  if (!config.is_object()) throw FormatError("VAE config is not a JSON object", path);
  // Fallbacks are diffusers' AutoencoderKL defaults.
  AutoencoderKLConfig c;
  c.in_channels = int_field(config, "in_channels", 3, path);
  c.out_channels = int_field(config, "out_channels", 3, path);
  c.layers_per_block = int_field(config, "layers_per_block", 1, path);
  c.latent_channels = int_field(config, "latent_channels", 4, path);
  c.norm_num_groups = int_field(config, "norm_num_groups", 32, path);
  c.block_out_channels = {64};
  if (const auto it = config.find("block_out_channels"); it != config.end() && !it->is_null()) {
    if (!it->is_array() || it->empty()) {
      throw FormatError("config field \"block_out_channels\" must be a non-empty list, got " + it->dump(), path);
    }
    c.block_out_channels.clear();
    for (const auto& v : *it) {
      if (!v.is_number_integer() || v.get<std::int64_t>() <= 0) {
        throw FormatError("config field \"block_out_channels\" must hold positive integers, got " + it->dump(), path);
      }
      c.block_out_channels.push_back(v.get<std::int64_t>());
    }
  }
  for (const std::int64_t ch : c.block_out_channels) {
    if (ch % c.norm_num_groups != 0) {
      throw FormatError("block_out_channels entry " + std::to_string(ch) + " is not a multiple of norm_num_groups " +
                            std::to_string(c.norm_num_groups),
                        path);
    }
  }
  check_block_types(config, "down_block_types", "DownEncoderBlock2D", c.block_out_channels.size(), path);
  check_block_types(config, "up_block_types", "UpDecoderBlock2D", c.block_out_channels.size(), path);
  const std::string act = config.value("act_fn", std::string("silu"));
  if (act != "silu") throw FormatError("unsupported VAE activation \"" + act + "\"", path, "expected silu");
  c.scaling_factor = 0.18215;
  if (const auto it = config.find("scaling_factor"); it != config.end() && !it->is_null()) {
    if (!it->is_number()) throw FormatError("config field \"scaling_factor\" must be a number, got " + it->dump(), path);
    c.scaling_factor = it->get<double>();
  }
  if (const auto it = config.find("shift_factor"); it != config.end() && !it->is_null()) {
    if (!it->is_number()) throw FormatError("config field \"shift_factor\" must be a number, got " + it->dump(), path);
    c.shift_factor = it->get<double>();
  }
  c.use_quant_conv = bool_field(config, "use_quant_conv", true, path);
  c.use_post_quant_conv = bool_field(config, "use_post_quant_conv", true, path);
  c.mid_block_add_attention = bool_field(config, "mid_block_add_attention", true, path);
  c.force_upcast = bool_field(config, "force_upcast", true, path);
  if (const auto it = config.find("sample_size"); it != config.end() && !it->is_null()) {
    // A single number in every SD VAE config; a [h, w] list takes the first.
    const nlohmann::json& v = it->is_array() && !it->empty() ? it->front() : *it;
    if (!v.is_number_integer() || v.get<std::int64_t>() < 8)
      throw FormatError("config field \"sample_size\" must be a positive image size, got " + it->dump(), path);
    c.sample_size = v.get<std::int64_t>();
  }
  return c;
} catch (const nlohmann::json::exception& e) {
  // A field of the wrong JSON type (a list where a string belongs, ...): a FormatError like the rest.
  throw FormatError(std::string("AutoencoderKLConfig config: ") + e.what(), path);
}

AutoencoderKLConfig AutoencoderKLConfig::sd() { return AutoencoderKLConfig{}; }

AutoencoderKLConfig AutoencoderKLConfig::sdxl() {
  AutoencoderKLConfig c;
  c.scaling_factor = 0.13025;
  c.sample_size = 1024;
  return c;
}

torch::Tensor DiagonalGaussian::noise(const at::Generator& generator) const {
  return at::randn(mean.sizes(), generator, mean.options());
}

torch::Tensor DiagonalGaussian::sample(const at::Generator& generator) const {
  return sample_with_noise(noise(generator));
}

torch::Tensor DiagonalGaussian::sample_with_noise(const torch::Tensor& noise) const { return mean + std * noise; }

VAEResnetBlockImpl::VAEResnetBlockImpl(std::int64_t in_channels, std::int64_t out_channels, std::int64_t groups) {
  norm1 = register_module("norm1", group_norm(groups, in_channels));
  conv1 = register_module("conv1", conv(in_channels, out_channels, 3));
  norm2 = register_module("norm2", group_norm(groups, out_channels));
  conv2 = register_module("conv2", conv(out_channels, out_channels, 3));
  if (in_channels != out_channels) conv_shortcut = register_module("conv_shortcut", conv(in_channels, out_channels, 1));
}

torch::Tensor VAEResnetBlockImpl::forward(const torch::Tensor& x) {
  // Without autograd, activations are overwritten in place and dropped as soon as they are used:
  // at 512x512 each is 128-512 MiB, and three alive instead of five is the decode's peak memory.
  const bool in_place = !torch::GradMode::is_enabled();
  const auto silu = [&](torch::Tensor t) { return in_place ? torch::silu_(t) : torch::silu(t); };
  torch::Tensor h = silu(norm1(x));
  h = conv1(h);
  h = silu(norm2(h));
  h = conv2(h);  // dropout: identity in eval
  if (!in_place) return (conv_shortcut ? conv_shortcut(x) : x) + h;
  return h.add_(conv_shortcut ? conv_shortcut(x) : x);  // output_scale_factor 1
}

VAEAttentionImpl::VAEAttentionImpl(std::int64_t channels, std::int64_t groups) {
  group_norm = register_module("group_norm", kiln::models::group_norm(groups, channels));
  to_q = register_module("to_q", Linear(channels, channels));
  to_k = register_module("to_k", Linear(channels, channels));
  to_v = register_module("to_v", Linear(channels, channels));
  to_out = register_module("to_out", torch::nn::ModuleList());
  to_out->push_back(Linear(channels, channels));
}

torch::Tensor VAEAttentionImpl::forward(const torch::Tensor& x) {
  const std::int64_t b = x.size(0), c = x.size(1), h = x.size(2), w = x.size(3);
  const torch::Tensor tokens = group_norm(x).view({b, c, h * w}).transpose(1, 2);  // [B, HW, C]
  const torch::Tensor q = to_q(tokens), k = to_k(tokens), v = to_v(tokens);
  const double scale = 1.0 / std::sqrt(static_cast<double>(c));  // one head of C channels
  // One head: [B, 1, HW, C]; the [HW, HW] scores are what slicing bounds at large sizes.
  const torch::Tensor attended = attention(q.unsqueeze(1), k.unsqueeze(1), v.unsqueeze(1), scale, false).squeeze(1);
  torch::Tensor out = to_out[0]->as<Linear>()->forward(attended);  // [B, HW, C]
  out = out.transpose(1, 2).reshape({b, c, h, w});
  return out + x;  // residual_connection, rescale_output_factor 1
}

VAEMidBlockImpl::VAEMidBlockImpl(std::int64_t channels, std::int64_t groups, bool add_attention) {
  attentions = register_module("attentions", torch::nn::ModuleList());
  resnets = register_module("resnets", torch::nn::ModuleList());
  resnets->push_back(VAEResnetBlock(channels, channels, groups));
  if (add_attention) attentions->push_back(VAEAttention(channels, groups));
  resnets->push_back(VAEResnetBlock(channels, channels, groups));
}

torch::Tensor VAEMidBlockImpl::forward(const torch::Tensor& x) {
  torch::Tensor h = resnets[0]->as<VAEResnetBlock>()->forward(x);
  if (!attentions->is_empty()) h = attentions[0]->as<VAEAttention>()->forward(h);
  return resnets[1]->as<VAEResnetBlock>()->forward(h);
}

VAEDownsampleImpl::VAEDownsampleImpl(std::int64_t channels) {
  conv = register_module("conv", kiln::models::conv(channels, channels, 3, 2, 0));
}

torch::Tensor VAEDownsampleImpl::forward(const torch::Tensor& x) {
  return conv(torch::constant_pad_nd(x, {0, 1, 0, 1}, 0));
}

VAEUpsampleImpl::VAEUpsampleImpl(std::int64_t channels) {
  conv = register_module("conv", kiln::models::conv(channels, channels, 3));
}

torch::Tensor VAEUpsampleImpl::forward(const torch::Tensor& x) {
  return conv(at::upsample_nearest2d(x, {2 * x.size(2), 2 * x.size(3)}));
}

VAEDownBlockImpl::VAEDownBlockImpl(std::int64_t in_channels, std::int64_t out_channels, std::int64_t layers,
                                   std::int64_t groups, bool add_downsample) {
  resnets = register_module("resnets", torch::nn::ModuleList());
  for (std::int64_t i = 0; i < layers; ++i) {
    resnets->push_back(VAEResnetBlock(i == 0 ? in_channels : out_channels, out_channels, groups));
  }
  downsamplers = register_module("downsamplers", torch::nn::ModuleList());
  if (add_downsample) downsamplers->push_back(VAEDownsample(out_channels));
}

torch::Tensor VAEDownBlockImpl::forward(const torch::Tensor& x) {
  torch::Tensor h = x;
  for (const auto& r : *resnets) h = r->as<VAEResnetBlock>()->forward(h);
  for (const auto& d : *downsamplers) h = d->as<VAEDownsample>()->forward(h);
  return h;
}

VAEUpBlockImpl::VAEUpBlockImpl(std::int64_t in_channels, std::int64_t out_channels, std::int64_t layers,
                               std::int64_t groups, bool add_upsample) {
  resnets = register_module("resnets", torch::nn::ModuleList());
  for (std::int64_t i = 0; i < layers; ++i) {
    resnets->push_back(VAEResnetBlock(i == 0 ? in_channels : out_channels, out_channels, groups));
  }
  upsamplers = register_module("upsamplers", torch::nn::ModuleList());
  if (add_upsample) upsamplers->push_back(VAEUpsample(out_channels));
}

torch::Tensor VAEUpBlockImpl::forward(const torch::Tensor& x) {
  torch::Tensor h = x;
  for (const auto& r : *resnets) h = r->as<VAEResnetBlock>()->forward(h);
  for (const auto& u : *upsamplers) h = u->as<VAEUpsample>()->forward(h);
  return h;
}

VAEEncoderImpl::VAEEncoderImpl(const AutoencoderKLConfig& config) {
  const auto& ch = config.block_out_channels;
  const std::int64_t g = config.norm_num_groups;
  conv_in = register_module("conv_in", conv(config.in_channels, ch.front(), 3));
  down_blocks = register_module("down_blocks", torch::nn::ModuleList());
  for (std::size_t i = 0; i < ch.size(); ++i) {
    down_blocks->push_back(VAEDownBlock(i == 0 ? ch.front() : ch[i - 1], ch[i], config.layers_per_block, g,
                                        /*add_downsample=*/i + 1 < ch.size()));
  }
  mid_block = register_module("mid_block", VAEMidBlock(ch.back(), g, config.mid_block_add_attention));
  conv_norm_out = register_module("conv_norm_out", group_norm(g, ch.back()));
  conv_out = register_module("conv_out", conv(ch.back(), 2 * config.latent_channels, 3));
}

torch::Tensor VAEEncoderImpl::forward(const torch::Tensor& x) {
  torch::Tensor h = conv_in(x);
  for (const auto& block : *down_blocks) h = block->as<VAEDownBlock>()->forward(h);
  h = mid_block(h);
  h = conv_norm_out(h);
  h = torch::GradMode::is_enabled() ? torch::silu(h) : torch::silu_(h);
  return conv_out(h);
}

VAEDecoderImpl::VAEDecoderImpl(const AutoencoderKLConfig& config) {
  const std::vector<std::int64_t> ch(config.block_out_channels.rbegin(), config.block_out_channels.rend());
  const std::int64_t g = config.norm_num_groups;
  conv_in = register_module("conv_in", conv(config.latent_channels, ch.front(), 3));
  up_blocks = register_module("up_blocks", torch::nn::ModuleList());
  mid_block = register_module("mid_block", VAEMidBlock(ch.front(), g, config.mid_block_add_attention));
  for (std::size_t i = 0; i < ch.size(); ++i) {
    up_blocks->push_back(VAEUpBlock(i == 0 ? ch.front() : ch[i - 1], ch[i], config.layers_per_block + 1, g,
                                    /*add_upsample=*/i + 1 < ch.size()));
  }
  conv_norm_out = register_module("conv_norm_out", group_norm(g, ch.back()));
  conv_out = register_module("conv_out", conv(ch.back(), config.out_channels, 3));
}

torch::Tensor VAEDecoderImpl::forward(const torch::Tensor& z) {
  torch::Tensor h = mid_block(conv_in(z));
  for (const auto& block : *up_blocks) {
    h = block->as<VAEUpBlock>()->forward(h);
    // Each up block doubles the resolution: the previous block's freed activations no longer fit
    // the new sizes and would stay resident in the heap beside them (ReuseLargeBlocks).
    release_free_memory();
  }
  h = conv_norm_out(h);
  h = torch::GradMode::is_enabled() ? torch::silu(h) : torch::silu_(h);
  return conv_out(h);
}

AutoencoderKLImpl::AutoencoderKLImpl(const AutoencoderKLConfig& config) : config_(config) {
  TORCH_CHECK(!config.block_out_channels.empty(), "AutoencoderKL needs at least one block");
  encoder = register_module("encoder", VAEEncoder(config));
  decoder = register_module("decoder", VAEDecoder(config));
  const std::int64_t z2 = 2 * config.latent_channels;
  if (config.use_quant_conv) quant_conv = register_module("quant_conv", conv(z2, z2, 1));
  if (config.use_post_quant_conv) {
    post_quant_conv = register_module("post_quant_conv", conv(config.latent_channels, config.latent_channels, 1));
  }
}

torch::Tensor AutoencoderKLImpl::encode_moments(const torch::Tensor& image) {
  TORCH_CHECK(image.dim() == 4 && image.size(1) == config_.in_channels, "VAE input must be [batch, ",
              config_.in_channels, ", H, W], got ", image.sizes());
  const std::int64_t tile = tile_sample_size();
  const ReuseLargeBlocks reuse;
  if (tiling_.enabled && (image.size(2) > tile || image.size(3) > tile)) return tiled_encode_moments(image);
  torch::Tensor h = encoder(image);
  return quant_conv ? quant_conv(h) : h;
}

DiagonalGaussian AutoencoderKLImpl::distribution(const torch::Tensor& moments) {
  const auto parts = moments.chunk(2, 1);
  DiagonalGaussian d;
  d.mean = parts[0];
  d.logvar = parts[1].clamp(-30.0, 20.0);
  d.std = torch::exp(0.5 * d.logvar);
  return d;
}

DiagonalGaussian AutoencoderKLImpl::encode(const torch::Tensor& image) { return distribution(encode_moments(image)); }

torch::Tensor AutoencoderKLImpl::decode(const torch::Tensor& latents) {
  TORCH_CHECK(latents.dim() == 4 && latents.size(1) == config_.latent_channels, "VAE latents must be [batch, ",
              config_.latent_channels, ", h, w], got ", latents.sizes());
  const std::int64_t tile = tile_sample_size() / downscale_factor();
  const ReuseLargeBlocks reuse;  // activations of 128-512 MiB at 512x512, reused, not re-mapped
  if (tiling_.enabled && (latents.size(2) > tile || latents.size(3) > tile)) return tiled_decode(latents);
  return decoder(post_quant_conv ? post_quant_conv(latents) : latents);
}

void AutoencoderKLImpl::set_tiling(const VAETiling& tiling) {
  TORCH_CHECK(tiling.overlap >= 0.0 && tiling.overlap < 1.0, "VAE tile overlap must be in [0, 1), got ",
              tiling.overlap);
  TORCH_CHECK(tiling.tile_sample_size == 0 || tiling.tile_sample_size >= 2 * downscale_factor(),
              "VAE tile size must be at least ", 2 * downscale_factor(), " pixels, got ", tiling.tile_sample_size);
  tiling_ = tiling;
}

std::int64_t AutoencoderKLImpl::downscale_factor() const {
  return std::int64_t{1} << (config_.block_out_channels.size() - 1);
}

std::int64_t AutoencoderKLImpl::tile_sample_size() const {
  return tiling_.tile_sample_size > 0 ? tiling_.tile_sample_size : config_.sample_size;
}

namespace {

// diffusers' blend_v / blend_h: the first `extent` rows (dim 2) or columns (dim 3) of b fade in
// from the last ones of a: b[y] = a[end - extent + y] * (1 - y/extent) + b[y] * (y/extent), in place.
void blend(const torch::Tensor& a, const torch::Tensor& b, std::int64_t extent, int dim) {
  extent = std::min({a.size(dim), b.size(dim), extent});
  if (extent <= 0) return;
  std::vector<double> w(static_cast<std::size_t>(extent)), w_inv(static_cast<std::size_t>(extent));
  for (std::int64_t y = 0; y < extent; ++y) {
    w[static_cast<std::size_t>(y)] = static_cast<double>(y) / static_cast<double>(extent);
    w_inv[static_cast<std::size_t>(y)] = 1.0 - w[static_cast<std::size_t>(y)];
  }
  std::vector<std::int64_t> shape(4, 1);
  shape[static_cast<std::size_t>(dim)] = extent;
  const auto opts = torch::TensorOptions().dtype(torch::kDouble);
  const torch::Tensor wb = torch::tensor(w, opts).to(b.options()).view(shape);
  const torch::Tensor wa = torch::tensor(w_inv, opts).to(b.options()).view(shape);
  torch::Tensor head = b.narrow(dim, 0, extent);
  head.copy_(a.narrow(dim, a.size(dim) - extent, extent) * wa + head * wb);
}

// The shared loop of tiled encode and decode: `process` maps an input tile of `in_tile` to an
// output tile of `out_tile`; tiles start every `stride` input units; each output tile is blended
// with its upper and left neighbours over `blend_extent` and cropped to `limit`. Only the
// previous row of tiles is kept.
torch::Tensor run_tiled(const torch::Tensor& x, std::int64_t in_tile, std::int64_t stride, std::int64_t blend_extent,
                        std::int64_t limit, const std::function<torch::Tensor(const torch::Tensor&)>& process) {
  std::vector<torch::Tensor> previous_row, rows;
  for (std::int64_t i = 0; i < x.size(2); i += stride) {
    std::vector<torch::Tensor> row;
    for (std::int64_t j = 0; j < x.size(3); j += stride) {
      const torch::Tensor tile = x.narrow(2, i, std::min(in_tile, x.size(2) - i)).narrow(3, j, std::min(in_tile, x.size(3) - j));
      row.push_back(process(tile));
    }
    std::vector<torch::Tensor> cropped;
    for (std::size_t j = 0; j < row.size(); ++j) {
      // In place, in this order, like diffusers: the blended tile is what its right and lower
      // neighbours blend with.
      if (!previous_row.empty()) blend(previous_row[j], row[j], blend_extent, 2);
      if (j > 0) blend(row[j - 1], row[j], blend_extent, 3);
      cropped.push_back(row[j].narrow(2, 0, std::min(limit, row[j].size(2))).narrow(3, 0, std::min(limit, row[j].size(3))));
    }
    rows.push_back(torch::cat(cropped, 3));
    previous_row = std::move(row);
  }
  return torch::cat(rows, 2);
}

}  // namespace

torch::Tensor AutoencoderKLImpl::tiled_encode_moments(const torch::Tensor& image) {
  const std::int64_t sample_tile = tile_sample_size();
  const std::int64_t latent_tile = sample_tile / downscale_factor();
  const auto stride = static_cast<std::int64_t>(static_cast<double>(sample_tile) * (1.0 - tiling_.overlap));
  const auto blend_extent = static_cast<std::int64_t>(static_cast<double>(latent_tile) * tiling_.overlap);
  return run_tiled(image, sample_tile, std::max<std::int64_t>(stride, 1), blend_extent, latent_tile - blend_extent,
                   [&](const torch::Tensor& tile) {
                     torch::Tensor h = encoder(tile);
                     return quant_conv ? quant_conv(h) : h;
                   });
}

torch::Tensor AutoencoderKLImpl::tiled_decode(const torch::Tensor& latents) {
  const std::int64_t sample_tile = tile_sample_size();
  const std::int64_t latent_tile = sample_tile / downscale_factor();
  const auto stride = static_cast<std::int64_t>(static_cast<double>(latent_tile) * (1.0 - tiling_.overlap));
  const auto blend_extent = static_cast<std::int64_t>(static_cast<double>(sample_tile) * tiling_.overlap);
  return run_tiled(latents, latent_tile, std::max<std::int64_t>(stride, 1), blend_extent, sample_tile - blend_extent,
                   [&](const torch::Tensor& tile) { return decoder(post_quant_conv ? post_quant_conv(tile) : tile); });
}

torch::Device AutoencoderKLImpl::device() const { return encoder->conv_in->weight.device(); }

torch::Dtype AutoencoderKLImpl::dtype() const { return encoder->conv_in->weight.scalar_type(); }

AutoencoderKL load_autoencoder_kl(const io::DiffusersFolder& folder, const std::string& component) {
  const io::DiffusersComponent* c = folder.component(component);
  if (!c) throw FormatError("the folder has no component \"" + component + "\"", folder.root());
  if (!c->has_weights()) throw FormatError("VAE \"" + component + "\" has no weights", c->folder);
  AutoencoderKL model = make_unfilled<AutoencoderKL>(AutoencoderKLConfig::from_json(c->config, c->config_file));
  const NamedTensorList tensors = folder.tensors(c->name);
  WeightLoadOptions options;
  options.model_name = "AutoencoderKL";
  options.source = c->folder;
  load_weights(*model, tensors, options);
  model->eval();
  return model;
}

AutoencoderKL load_autoencoder_kl(const std::filesystem::path& component_folder) {
  const io::DiffusersFolder folder = io::DiffusersFolder::open(component_folder);
  if (folder.is_pipeline()) {
    throw FormatError("expected a VAE folder (config.json + weights), got a pipeline folder", component_folder,
                      "name the component, e.g. vae/");
  }
  return load_autoencoder_kl(folder, folder.components().front().name);
}

}  // namespace kiln::models
