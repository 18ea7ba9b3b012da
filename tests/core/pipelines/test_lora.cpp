// LoRAs merged into the golden tiny SD 1.x pipeline: kohya, LDM-named (kohya SDXL style) and
// PEFT files built here with random down/up/alpha; the merge W0 + weight * alpha/rank * up @ down
// on exactly the targeted weights, restore() bit for bit, refusals (other base, shapes, unknown
// keys, LoHa) naming the file, and weight 0 generating what no LoRA does.
#include <doctest/doctest.h>

#include <torch/torch.h>

#include <functional>
#include <map>
#include <optional>
#include <set>
#include <span>

#include "base/error.h"
#include "io/safetensors.h"
#include "io/sha256.h"
#include "pipelines/lora.h"
#include "pipelines/stable_diffusion_pipeline.h"
#include "support/test_support.h"

namespace fs = std::filesystem;
using kiln::pipelines::LoRASpec;
using kiln::pipelines::StableDiffusionModel;

namespace {

const fs::path kTiny = kiln::test::data_dir() / "golden/pipeline/tiny_sd1";

StableDiffusionModel load_tiny(torch::Dtype dtype = torch::kFloat) {
  kiln::pipelines::ModelLoadOptions options;
  options.dtype = dtype;
  return kiln::pipelines::load_stable_diffusion(kTiny, options);
}

const torch::nn::Module& component(const StableDiffusionModel& model, const std::string& name) {
  if (name == "unet") return *model.unet;
  return *model.text_encoder;
}

// Every parameter of the UNet and text encoder, copied, by "component.name".
std::map<std::string, torch::Tensor> snapshot(const StableDiffusionModel& model) {
  std::map<std::string, torch::Tensor> s;
  for (const std::string c : {"unet", "text_encoder"}) {
    for (const auto& p : component(model, c).named_parameters()) s[c + "." + p.key()] = p.value().detach().clone();
  }
  return s;
}

torch::Tensor param(const StableDiffusionModel& model, const std::string& c, const std::string& module) {
  const torch::Tensor* t = component(model, c).named_parameters().find(module + ".weight");
  REQUIRE_MESSAGE(t != nullptr, module);
  return *t;
}

struct Layer {
  std::string component;  // "unet" / "text_encoder"
  std::string module;     // diffusers / transformers path
  torch::Tensor down, up;
  std::optional<double> alpha;
  std::int64_t rank() const { return down.size(0); }
};

// Linear, 1x1 conv and 3x3 conv layers of the UNet and the text encoder, random rank-4 LoRAs.
std::vector<Layer> random_layers(const StableDiffusionModel& model, std::uint64_t seed) {
  torch::manual_seed(seed);
  const std::vector<std::pair<std::string, std::string>> targets = {
      {"unet", "down_blocks.0.attentions.0.transformer_blocks.0.attn1.to_q"},
      {"unet", "down_blocks.0.attentions.0.transformer_blocks.0.attn2.to_k"},
      {"unet", "down_blocks.0.attentions.0.transformer_blocks.0.attn2.to_out.0"},
      {"unet", "down_blocks.0.attentions.0.proj_in"},  // 1x1 conv (SD 1.x)
      {"unet", "down_blocks.0.resnets.0.conv1"},       // 3x3 conv (LoCon)
      {"unet", "up_blocks.1.attentions.2.transformer_blocks.0.ff.net.0.proj"},
      {"unet", "mid_block.attentions.0.transformer_blocks.0.attn2.to_v"},
      {"text_encoder", "text_model.encoder.layers.0.self_attn.q_proj"},
      {"text_encoder", "text_model.encoder.layers.4.mlp.fc1"},
  };
  std::vector<Layer> layers;
  for (const auto& [c, module] : targets) {
    const torch::Tensor w = param(model, c, module);
    const std::int64_t r = 4;
    Layer l{c, module, {}, {}, std::nullopt};
    if (w.dim() == 4) {
      l.down = torch::randn({r, w.size(1), w.size(2), w.size(3)});
      l.up = torch::randn({w.size(0), r, 1, 1});
    } else {
      l.down = torch::randn({r, w.size(1)});
      l.up = torch::randn({w.size(0), r});
    }
    // A float, as the file stores it.
    l.alpha = static_cast<double>(static_cast<float>(1.0 + 7.0 * torch::rand({}).item<double>()));
    layers.push_back(std::move(l));
  }
  layers[2].alpha.reset();  // alpha absent: alpha = rank
  return layers;
}

void write_kohya(const fs::path& path, const std::vector<Layer>& layers, torch::Dtype dtype = torch::kFloat) {
  kiln::io::NamedTensors t;
  for (const Layer& l : layers) {
    const std::string name =
        kiln::pipelines::kohya_lora_name(l.component == "unet" ? "lora_unet" : "lora_te", l.module);
    t.emplace_back(name + ".lora_down.weight", l.down.to(dtype));
    t.emplace_back(name + ".lora_up.weight", l.up.to(dtype));
    if (l.alpha) t.emplace_back(name + ".alpha", torch::tensor(static_cast<float>(*l.alpha)).to(dtype));
  }
  kiln::io::write_safetensors(path, t, {{"ss_network_dim", "4"}});
}

void write_peft(const fs::path& path, const std::vector<Layer>& layers, const std::map<std::string, std::string>& metadata = {}) {
  kiln::io::NamedTensors t;
  for (const Layer& l : layers) {
    const std::string name = l.component + "." + l.module;
    t.emplace_back(name + ".lora_A.weight", l.down);
    t.emplace_back(name + ".lora_B.weight", l.up);
  }
  kiln::io::write_safetensors(path, t, metadata);
}

torch::Tensor expected_weight(const torch::Tensor& w0, const Layer& l, double weight) {
  const double alpha = l.alpha.value_or(static_cast<double>(l.rank()));
  const torch::Tensor delta = torch::matmul(l.up.flatten(1), l.down.flatten(1)).mul_(weight * alpha / l.rank());
  return w0.to(torch::kFloat) + delta.reshape(w0.sizes());
}

template <typename E>
std::string message_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const E& e) {
    return e.what();
  }
  FAIL("no error thrown");
  return {};
}

}  // namespace

TEST_CASE("kohya_lora_name flattens the module path behind the prefix") {
  CHECK(kiln::pipelines::kohya_lora_name("lora_unet", "down_blocks.0.attentions.0.transformer_blocks.0.attn1.to_q") ==
        "lora_unet_down_blocks_0_attentions_0_transformer_blocks_0_attn1_to_q");
  CHECK(kiln::pipelines::kohya_lora_name("lora_te", "text_model.encoder.layers.11.mlp.fc2") ==
        "lora_te_text_model_encoder_layers_11_mlp_fc2");
}

TEST_CASE("a kohya LoRA changes exactly its layers by weight * alpha/rank * up @ down, and restore undoes it") {
  kiln::test::ScratchDir dir("kiln-lora");
  const StableDiffusionModel model = load_tiny();
  const std::vector<Layer> layers = random_layers(model, 7);
  write_kohya(dir / "style.safetensors", layers);
  const auto before = snapshot(model);

  kiln::pipelines::AppliedLoRAs applied = kiln::pipelines::apply_loras(model, {{dir / "style.safetensors", 0.7}});
  CHECK(applied.changed_weights() == layers.size());
  REQUIRE(applied.specs().size() == 1);
  std::set<std::string> touched;
  for (const Layer& l : layers) {
    CAPTURE(l.module);
    const std::string key = l.component + "." + l.module + ".weight";
    touched.insert(key);
    const torch::Tensor got = param(model, l.component, l.module);
    const torch::Tensor want = expected_weight(before.at(key), l, 0.7);
    CHECK(torch::allclose(got, want, 1e-6, 1e-6));
    CHECK_FALSE(torch::equal(got, before.at(key)));
  }
  for (const auto& [name, w] : snapshot(model)) {
    if (!touched.contains(name)) CHECK_MESSAGE(torch::equal(w, before.at(name)), name);
  }

  applied.restore();
  CHECK(applied.empty());
  for (const auto& [name, w] : snapshot(model)) CHECK_MESSAGE(torch::equal(w, before.at(name)), name);
}

TEST_CASE("PEFT names, LDM (kohya SDXL style) UNet names and fp16 files give the same merge") {
  kiln::test::ScratchDir dir("kiln-lora");
  const StableDiffusionModel model = load_tiny();
  std::vector<Layer> layers = random_layers(model, 11);
  for (Layer& l : layers) l.alpha.reset();  // PEFT files carry no alpha
  write_kohya(dir / "kohya.safetensors", layers);
  write_peft(dir / "peft.safetensors", layers);

  const auto merged = [&](const fs::path& file) {
    kiln::pipelines::AppliedLoRAs applied = kiln::pipelines::apply_loras(model, {{file, 1.3}});
    auto s = snapshot(model);
    applied.restore();
    return s;
  };
  const auto kohya = merged(dir / "kohya.safetensors");
  const auto peft = merged(dir / "peft.safetensors");
  for (const auto& [name, w] : kohya) CHECK_MESSAGE(torch::equal(w, peft.at(name)), name);

  // input_blocks.1.1 = down_blocks.0.attentions.0, output_blocks.5.1 = up_blocks.1.attentions.2,
  // middle_block.1 = mid_block.attentions.0 (two resnets per down block).
  kiln::io::NamedTensors ldm;
  for (const Layer& l : layers) {
    if (l.component != "unet" || l.module.find("attentions") == std::string::npos) continue;
    std::string path = l.module;
    for (const auto& [from, to] : std::vector<std::pair<std::string, std::string>>{
             {"down_blocks.0.attentions.0.", "input_blocks.1.1."},
             {"up_blocks.1.attentions.2.", "output_blocks.5.1."},
             {"mid_block.attentions.0.", "middle_block.1."}}) {
      if (path.starts_with(from)) path = to + path.substr(from.size());
    }
    const std::string name = kiln::pipelines::kohya_lora_name("lora_unet", path);
    ldm.emplace_back(name + ".lora_down.weight", l.down);
    ldm.emplace_back(name + ".lora_up.weight", l.up);
  }
  kiln::io::write_safetensors(dir / "ldm.safetensors", ldm);
  const kiln::pipelines::LoRAFile file = kiln::pipelines::read_lora(dir / "ldm.safetensors", model);
  REQUIRE(file.layers.size() == 6);
  std::map<std::string, std::string> modules;
  for (const auto& l : file.layers) modules[l.key] = l.component + "." + l.module;
  CHECK(modules.at("lora_unet_input_blocks_1_1_transformer_blocks_0_attn1_to_q") ==
        "unet.down_blocks.0.attentions.0.transformer_blocks.0.attn1.to_q");
  CHECK(modules.at("lora_unet_input_blocks_1_1_proj_in") == "unet.down_blocks.0.attentions.0.proj_in");
  CHECK(modules.at("lora_unet_output_blocks_5_1_transformer_blocks_0_ff_net_0_proj") ==
        "unet.up_blocks.1.attentions.2.transformer_blocks.0.ff.net.0.proj");
  CHECK(modules.at("lora_unet_middle_block_1_transformer_blocks_0_attn2_to_v") ==
        "unet.mid_block.attentions.0.transformer_blocks.0.attn2.to_v");
  const auto from_ldm = merged(dir / "ldm.safetensors");
  for (const Layer& l : layers) {
    if (l.component != "unet" || l.module.find("attentions") == std::string::npos) continue;
    const std::string key = "unet." + l.module + ".weight";
    CHECK_MESSAGE(torch::equal(from_ldm.at(key), kohya.at(key)), key);
  }

  // fp16 files (what the trainer exports with --half): the tensors are read as stored and
  // multiplied in fp32.
  write_kohya(dir / "half.safetensors", layers, torch::kHalf);
  const auto half = merged(dir / "half.safetensors");
  for (const Layer& l : layers) {
    Layer rounded = l;
    rounded.down = l.down.to(torch::kHalf).to(torch::kFloat);
    rounded.up = l.up.to(torch::kHalf).to(torch::kFloat);
    const std::string key = l.component + "." + l.module + ".weight";
    CHECK(torch::allclose(half.at(key), expected_weight(snapshot(model).at(key), rounded, 1.3), 1e-6, 1e-6));
  }
}

TEST_CASE("a PEFT LoRA honours its lora_alpha and alpha_pattern (safetensors metadata or adapter_config.json)") {
  kiln::test::ScratchDir dir("kiln-lora-alpha");
  const StableDiffusionModel model = load_tiny();
  std::vector<Layer> layers = random_layers(model, 23);
  // diffusers' save_lora_weights: component-prefixed keys in "lora_adapter_metadata"; rank 4,
  // alpha 8 for the UNet, 2 for the text encoder, and one UNet module with its own alpha.
  write_peft(dir / "meta.safetensors", layers,
             {{"lora_adapter_metadata",
               R"({"unet.r": 4, "unet.lora_alpha": 8, "unet.alpha_pattern": {"attn2.to_k": 1.5},)"
               R"( "text_encoder.r": 4, "text_encoder.lora_alpha": 2})"}});
  for (Layer& l : layers) {
    if (l.component == "text_encoder") l.alpha = 2.0;
    else if (l.module.ends_with("attn2.to_k")) l.alpha = 1.5;
    else l.alpha = 8.0;
  }
  const kiln::pipelines::LoRAFile file = kiln::pipelines::read_lora(dir / "meta.safetensors", model);
  REQUIRE(file.layers.size() == layers.size());
  std::map<std::string, double> alphas;  // the file's order is not ours
  for (const auto& l : file.layers) alphas[l.component + "." + l.module] = l.alpha;
  for (const Layer& l : layers) CHECK_MESSAGE(alphas.at(l.component + "." + l.module) == *l.alpha, l.module);
  {
    kiln::pipelines::AppliedLoRAs applied = kiln::pipelines::apply_loras(model, {{dir / "meta.safetensors", 0.7}});
    const auto merged = snapshot(model);
    applied.restore();
    const auto original = snapshot(model);
    for (const Layer& l : layers) {
      const std::string key = l.component + "." + l.module + ".weight";
      CHECK_MESSAGE(torch::allclose(merged.at(key), expected_weight(original.at(key), l, 0.7), 1e-5, 1e-5), key);
    }
  }
  // peft's save_pretrained: adapter_model.safetensors + adapter_config.json, unprefixed keys.
  fs::create_directories(dir / "peft");
  write_peft(dir / "peft" / "adapter_model.safetensors", std::vector<Layer>(layers.begin(), layers.begin() + 3));
  kiln::test::write_text(dir / "peft" / "adapter_config.json",
                         R"({"peft_type": "LORA", "r": 4, "lora_alpha": 16, "alpha_pattern": {"to_q": 3}})");
  const kiln::pipelines::LoRAFile folder = kiln::pipelines::read_lora(dir / "peft" / "adapter_model.safetensors", model);
  REQUIRE(folder.layers.size() == 3);
  std::map<std::string, double> folder_alphas;
  for (const auto& l : folder.layers) folder_alphas[l.module] = l.alpha;
  CHECK(folder_alphas.at(layers[0].module) == 3.0);   // ...attn1.to_q: the pattern
  CHECK(folder_alphas.at(layers[1].module) == 16.0);  // ...attn2.to_k: lora_alpha
  // Without a config: alpha = rank (as before, and as PEFT defaults).
  write_peft(dir / "plain.safetensors", layers);
  CHECK(kiln::pipelines::read_lora(dir / "plain.safetensors", model).layers[0].alpha == 4.0);
  // A broken metadata blob is an error naming the file, not a silent alpha.
  write_peft(dir / "broken.safetensors", layers, {{"lora_adapter_metadata", "{not json"}});
  const std::string message =
      message_of<kiln::FormatError>([&] { (void)kiln::pipelines::read_lora(dir / "broken.safetensors", model); });
  CHECK(message.find("broken.safetensors") != std::string::npos);
  CHECK(message.find("lora_adapter_metadata") != std::string::npos);
}

TEST_CASE("several LoRAs stack, weight 0 changes nothing, and a bf16 model keeps its dtype") {
  kiln::test::ScratchDir dir("kiln-lora");
  const StableDiffusionModel model = load_tiny();
  const std::vector<Layer> a = random_layers(model, 1), b = random_layers(model, 2);
  write_kohya(dir / "a.safetensors", a);
  write_kohya(dir / "b.safetensors", b);
  const auto before = snapshot(model);

  auto zero = kiln::pipelines::apply_loras(model, {{dir / "a.safetensors", 0.0}});
  CHECK(zero.changed_weights() == 0);
  CHECK((zero.specs() == std::vector<LoRASpec>{{dir / "a.safetensors", 0.0}}));
  for (const auto& [name, w] : snapshot(model)) CHECK(torch::equal(w, before.at(name)));

  auto both = kiln::pipelines::apply_loras(model, {{dir / "a.safetensors", 0.5}, {dir / "b.safetensors", -1.0}});
  CHECK(both.changed_weights() == a.size());  // the same layers: each saved once
  const std::string key = "unet." + a[0].module + ".weight";
  const torch::Tensor want = expected_weight(expected_weight(before.at(key), a[0], 0.5), b[0], -1.0);
  CHECK(torch::allclose(param(model, "unet", a[0].module), want, 1e-5, 1e-5));
  both.restore();
  for (const auto& [name, w] : snapshot(model)) CHECK(torch::equal(w, before.at(name)));

  const StableDiffusionModel bf16 = load_tiny(torch::kBFloat16);
  const torch::Tensor w0 = param(bf16, "unet", a[3].module).clone();
  c10::InferenceMode inference;  // as the GUI's engine thread applies them
  auto applied = kiln::pipelines::apply_loras(bf16, {{dir / "a.safetensors", 1.0}});
  const torch::Tensor w1 = param(bf16, "unet", a[3].module);
  CHECK((w1.scalar_type() == torch::kBFloat16));
  CHECK(torch::equal(w1, expected_weight(w0, a[3], 1.0).to(torch::kBFloat16)));
  applied.restore();
  CHECK(torch::equal(param(bf16, "unet", a[3].module), w0));
}

TEST_CASE("LoRAs that do not fit are refused, naming the file, before any weight changes") {
  kiln::test::ScratchDir dir("kiln-lora");
  const StableDiffusionModel model = load_tiny();
  const auto before = snapshot(model);

  SUBCASE("an SDXL LoRA on an SD 1.x model") {
    const torch::Tensor down = torch::randn({4, 32}), up = torch::randn({32, 4});
    kiln::io::write_safetensors(dir / "xl_style.safetensors",
                                {{"lora_te1_text_model_encoder_layers_0_self_attn_q_proj.lora_down.weight", down},
                                 {"lora_te1_text_model_encoder_layers_0_self_attn_q_proj.lora_up.weight", up},
                                 {"lora_te2_text_model_encoder_layers_0_self_attn_q_proj.lora_down.weight", down},
                                 {"lora_te2_text_model_encoder_layers_0_self_attn_q_proj.lora_up.weight", up}});
    const std::string m = message_of<kiln::InvalidRequestError>(
        [&] { kiln::pipelines::apply_loras(model, {{dir / "xl_style.safetensors", 1.0}}); });
    CHECK(m.find("\"xl_style.safetensors\" is a LoRA (SDXL) and does not fit \"tiny_sd1\", a Stable Diffusion 1.x "
                 "model") != std::string::npos);
  }
  SUBCASE("a LoRA of other shapes (an SD 1.5 LoRA on the tiny model)") {
    const std::vector<Layer> good = random_layers(model, 3);
    kiln::io::NamedTensors t;
    t.emplace_back("lora_unet_down_blocks_0_attentions_0_transformer_blocks_0_attn2_to_k.lora_down.weight",
                   torch::randn({4, 768}));
    t.emplace_back("lora_unet_down_blocks_0_attentions_0_transformer_blocks_0_attn2_to_k.lora_up.weight",
                   torch::randn({32, 4}));
    write_kohya(dir / "good.safetensors", good);
    kiln::io::write_safetensors(dir / "sd15.safetensors", t);
    // The good file first: nothing is merged when a later one fails.
    const std::string m = message_of<kiln::InvalidRequestError>([&] {
      kiln::pipelines::apply_loras(model, {{dir / "good.safetensors", 1.0}, {dir / "sd15.safetensors", 1.0}});
    });
    CHECK(m ==
          "\"sd15.safetensors\": LoRA layer lora_unet_down_blocks_0_attentions_0_transformer_blocks_0_attn2_to_k "
          "changes a [32, 768] weight, but unet.down_blocks.0.attentions.0.transformer_blocks.0.attn2.to_k.weight of "
          "\"tiny_sd1\" is [32, 32] (the LoRA was made for another base model)");
  }
  SUBCASE("keys that match no layer") {
    kiln::io::write_safetensors(
        dir / "odd.safetensors",
        {{"lora_unet_down_blocks_0_attentions_0_transformer_blocks_0_attn9_to_q.lora_down.weight", torch::randn({4, 32})},
         {"lora_unet_down_blocks_0_attentions_0_transformer_blocks_0_attn9_to_q.lora_up.weight", torch::randn({32, 4})},
         {"lora_unet_down_blocks_0_attentions_0_transformer_blocks_0_attn1_to_q.lora_down.weight", torch::randn({4, 32})},
         {"lora_unet_down_blocks_0_attentions_0_transformer_blocks_0_attn1_to_q.lora_up.weight", torch::randn({32, 4})}});
    const std::string m = message_of<kiln::WeightMismatchError>(
        [&] { kiln::pipelines::apply_loras(model, {{dir / "odd.safetensors", 1.0}}); });
    CHECK(m.find("odd.safetensors") != std::string::npos);
    CHECK(m.find("1 of 2 LoRA layers match no layer of \"tiny_sd1\": "
                 "lora_unet_down_blocks_0_attentions_0_transformer_blocks_0_attn9_to_q") != std::string::npos);
  }
  SUBCASE("LoHa") {
    const std::string k = "lora_unet_down_blocks_0_attentions_0_transformer_blocks_0_attn1_to_q";
    kiln::io::write_safetensors(dir / "loha.safetensors", {{k + ".hada_w1_a", torch::randn({32, 4})},
                                                           {k + ".hada_w1_b", torch::randn({4, 32})},
                                                           {k + ".hada_w2_a", torch::randn({32, 4})},
                                                           {k + ".hada_w2_b", torch::randn({4, 32})},
                                                           {k + ".alpha", torch::tensor(4.0f)}});
    const std::string m = message_of<kiln::FormatError>(
        [&] { kiln::pipelines::apply_loras(model, {{dir / "loha.safetensors", 1.0}}); });
    CHECK(m.find("loha.safetensors") != std::string::npos);
    CHECK(m.find("LoHa (LyCORIS) adapter") != std::string::npos);
  }
  SUBCASE("a down without its up") {
    kiln::io::write_safetensors(
        dir / "half_pair.safetensors",
        {{"lora_unet_down_blocks_0_attentions_0_transformer_blocks_0_attn1_to_q.lora_down.weight", torch::randn({4, 32})}});
    const std::string m = message_of<kiln::FormatError>(
        [&] { kiln::pipelines::apply_loras(model, {{dir / "half_pair.safetensors", 1.0}}); });
    CHECK(m.find("has no up (lora_up/lora_B) weight") != std::string::npos);
  }
  SUBCASE("a missing file") {
    CHECK_THROWS_AS(kiln::pipelines::apply_loras(model, {{dir / "absent.safetensors", 1.0}}), kiln::FileError);
  }
  for (const auto& [name, w] : snapshot(model)) CHECK_MESSAGE(torch::equal(w, before.at(name)), name);
}

TEST_CASE("A1111's LoRA hash covers a safetensors file's data section only") {
  kiln::test::ScratchDir dir("kiln-lora");
  const kiln::io::NamedTensors t = {{"lora_te_text_model_encoder_layers_0_mlp_fc1.lora_down.weight", torch::ones({4, 32})}};
  kiln::io::write_safetensors(dir / "a.safetensors", t, {{"ss_output_name", "a"}});
  kiln::io::write_safetensors(dir / "b.safetensors", t, {{"ss_output_name", "something longer"}});
  const std::string hash = kiln::pipelines::lora_file_hash(dir / "a.safetensors");
  CHECK(hash.size() == 64);
  CHECK(hash == kiln::pipelines::lora_file_hash(dir / "b.safetensors"));
  CHECK(hash != kiln::io::sha256_file(dir / "a.safetensors"));
  // The data section alone: 4 x 32 ones in F32.
  std::string data;
  for (int i = 0; i < 128; ++i) data += std::string("\x00\x00\x80\x3f", 4);
  kiln::io::Sha256 sha;
  sha.update(std::as_bytes(std::span(data.data(), data.size())));
  CHECK(hash == sha.finish_hex());
}

TEST_CASE("generating with a LoRA of weight 0 equals generating without; restore brings the image back") {
  kiln::test::ScratchDir dir("kiln-lora");
  const StableDiffusionModel model = load_tiny();
  write_kohya(dir / "style.safetensors", random_layers(model, 5));
  kiln::pipelines::GenerationRequest r;
  r.prompt = "a red (castle:1.2) on a hill";
  r.width = r.height = 64;
  r.steps = 3;
  r.seed = 42;
  const torch::Tensor plain = kiln::pipelines::generate(model, r).images;

  auto zero = kiln::pipelines::apply_loras(model, {{dir / "style.safetensors", 0.0}});
  CHECK(torch::equal(kiln::pipelines::generate(model, r).images, plain));
  zero.restore();

  auto full = kiln::pipelines::apply_loras(model, {{dir / "style.safetensors", 1.0}});
  CHECK_FALSE(torch::equal(kiln::pipelines::generate(model, r).images, plain));
  full.restore();
  CHECK(torch::equal(kiln::pipelines::generate(model, r).images, plain));
}
