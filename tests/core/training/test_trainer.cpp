// Training sessions on the golden tiny SD 1.x pipeline: both stages run, an overfitted image's
// loss falls, resuming after a crash gives bit for bit the weights of an uninterrupted run, stop
// requests save, exports reload, LoRA checkpoints export in the kohya layout.
#include <doctest/doctest.h>

#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include <algorithm>
#include <fstream>
#include <numeric>
#include <stop_token>

#include "base/error.h"
#include "io/safetensors.h"
#include "models/clip_text_model.h"
#include "pipelines/lora.h"
#include "pipelines/model_loading.h"
#include "support/test_support.h"
#include "tiny_session.h"
#include "training/session_export.h"
#include "training/trainer.h"

namespace fs = std::filesystem;
using namespace kiln;
using namespace kiln::training;
using test::checkpoint_tensors;
using test::CrashAt;
using test::make_images;
using test::metrics;
using test::tiny_settings;

TEST_CASE("training examples carry the exact prompts") {
  test::ScratchDir scratch("kiln-train");
  const TrainingSettings s = tiny_settings(make_images(scratch));
  const auto examples = training_examples(s);
  REQUIRE(examples.size() == 2);
  CHECK(examples[0].prompt == "sks, beach person");  // fast-stable-diffusion's file-name rule + token
  CHECK_FALSE(examples[0].from_caption_file);
  CHECK(examples[1].prompt == "sks, a painting of a man");
  CHECK(examples[1].from_caption_file);
}

TEST_CASE("settings are validated and round-trip through JSON") {
  test::ScratchDir scratch("kiln-train");
  TrainingSettings s = tiny_settings(make_images(scratch));
  s.sample_prompts = {"a photo of sks"};
  s.method = TrainingMethod::LoRA;
  const TrainingSettings back = settings_from_json(to_json(s));
  CHECK(to_json(back) == to_json(s));
  CHECK_NOTHROW(validate_settings(s));

  TrainingSettings bad = s;
  bad.resolution = 100;
  CHECK_THROWS_WITH_AS(validate_settings(bad), doctest::Contains("resolution"), InvalidRequestError);
  bad = s;
  bad.text_encoder.steps = bad.unet.steps = 0;
  CHECK_THROWS_AS(validate_settings(bad), InvalidRequestError);
  bad = s;
  bad.sample_every = 5;
  bad.sample_prompts.clear();
  CHECK_THROWS_WITH_AS(validate_settings(bad), doctest::Contains("sample"), InvalidRequestError);
  bad = s;
  bad.mixed_precision = MixedPrecision::F16;
  CHECK_THROWS_WITH_AS(validate_settings(bad), doctest::Contains("CUDA"), InvalidRequestError);
  CHECK_THROWS_AS(settings_from_json(nlohmann::json{{"method", "hypernetwork"}}, "settings.json"), FormatError);
  CHECK_THROWS_AS(settings_from_json(nlohmann::json{{"unet_steps", "many"}}, "settings.json"), FormatError);
}

TEST_CASE("both stages run, and a crashed run resumes to the same weights bit for bit") {
  test::ScratchDir scratch("kiln-train");
  const TrainingSettings s = tiny_settings(make_images(scratch));

  const fs::path straight = scratch / "straight";
  create_session(straight, s);
  std::vector<StepMetrics> seen;
  TrainingCallbacks cb;
  cb.on_step = [&](const StepMetrics& m) { seen.push_back(m); };
  const TrainingOutcome a = run_training(straight, {}, cb);
  CHECK(a.finished);
  CHECK(a.global_step == 6);
  REQUIRE(seen.size() == 6);
  CHECK(seen[0].stage == Stage::TextEncoder);
  CHECK(seen[1].stage == Stage::TextEncoder);
  CHECK(seen[2].stage == Stage::UNet);
  CHECK(seen[2].stage_step == 1);
  CHECK(seen[5].step == 6);
  CHECK(seen[0].lr == doctest::Approx(1e-4));       // linear decay, no warm-up
  CHECK(seen[1].lr == doctest::Approx(0.5e-4));
  CHECK(seen[5].lr == doctest::Approx(0.25e-4));
  for (const auto& m : seen) CHECK(std::isfinite(m.loss));
  CHECK(metrics(straight).size() == 6);
  REQUIRE(latest_checkpoint(straight));
  CHECK(latest_checkpoint(straight)->finished);

  // The same run killed after step 5 (its last checkpoint is step 4), then resumed.
  const fs::path crashed = scratch / "crashed";
  create_session(crashed, s);
  TrainingCallbacks crash;
  crash.on_step = [](const StepMetrics& m) {
    if (m.step == 5) throw CrashAt();
  };
  CHECK_THROWS_AS(run_training(crashed, {}, crash), CrashAt);
  // Editing the dataset between the crash and the resume changes nothing: the run trains on the
  // copy it made when it started.
  REQUIRE(fs::exists(crashed / "dataset/dataset.json"));
  test::write_text(s.images / "hopper.txt", "a completely different caption");
  fs::remove(s.images / "beach_person (2).jpg");
  REQUIRE(latest_checkpoint(crashed));
  CHECK(latest_checkpoint(crashed)->global_step == 4);
  CHECK(metrics(crashed).size() == 5);  // step 5 was logged before the crash
  const TrainingOutcome b = run_training(crashed);
  CHECK(b.finished);
  CHECK(metrics(crashed).size() == 6);

  const auto want = checkpoint_tensors(straight);
  const auto got = checkpoint_tensors(crashed);
  REQUIRE(want.size() == got.size());
  std::size_t compared = 0;
  for (const auto& [name, t] : want) {
    REQUIRE_MESSAGE(got.count(name), name);
    CHECK_MESSAGE(torch::equal(t, got.at(name)), name);
    ++compared;
  }
  CHECK(compared > 100);
  CHECK(want.count("text_encoder.text_model.final_layer_norm.weight"));
  CHECK(want.count("unet.conv_in.weight"));
  // The text encoder really changed in stage 1 and stayed frozen in stage 2.
  const auto base = pipelines::load_stable_diffusion(test::kTinySd1);
  CHECK_FALSE(torch::equal(want.at("text_encoder.text_model.final_layer_norm.weight"),
                           base.text_encoder->named_parameters()["text_model.final_layer_norm.weight"]));
  CHECK_FALSE(torch::equal(want.at("unet.conv_in.weight"), base.unet->named_parameters()["conv_in.weight"]));
}

TEST_CASE("a stop while the images are prepared returns without a checkpoint") {
  test::ScratchDir scratch("kiln-train");
  TrainingSettings s = tiny_settings(make_images(scratch));
  s.class_prompt = "a photo of a person";
  s.num_class_images = 1;
  s.sample_steps = 2;
  s.text_encoder.steps = 0;
  s.unet.steps = 1;
  const fs::path session = scratch / "session";
  create_session(session, s);
  std::stop_source stop;
  stop.request_stop();
  const TrainingOutcome o = run_training(session, stop.get_token());
  CHECK(o.stopped);
  CHECK_FALSE(o.finished);
  CHECK_FALSE(latest_checkpoint(session));
  CHECK(run_training(session).finished);  // and it starts cleanly afterwards
}

TEST_CASE("gradient checkpointing trains the same weights up to float rounding") {
  test::ScratchDir scratch("kiln-train");
  TrainingSettings s = tiny_settings(make_images(scratch));
  s.text_encoder.steps = 0;
  s.unet.steps = 2;
  s.save_every = 0;
  create_session(scratch / "plain", s);
  run_training(scratch / "plain");
  s.gradient_checkpointing = true;
  create_session(scratch / "checkpointed", s);
  run_training(scratch / "checkpointed");
  const auto a = checkpoint_tensors(scratch / "plain");
  const auto b = checkpoint_tensors(scratch / "checkpointed");
  for (const auto& [name, t] : a) {
    if (!name.starts_with("unet.")) continue;
    CHECK_MESSAGE(torch::allclose(t, b.at(name), 1e-4, 1e-6), name);
  }
}

TEST_CASE("a stop request saves a checkpoint; resuming finishes") {
  test::ScratchDir scratch("kiln-train");
  TrainingSettings s = tiny_settings(make_images(scratch));
  s.save_every = 0;
  s.text_encoder.steps = 0;
  s.unet.steps = 5;
  const fs::path session = scratch / "session";
  create_session(session, s);
  std::stop_source stop;
  TrainingCallbacks cb;
  cb.on_step = [&](const StepMetrics& m) {
    if (m.step == 3) stop.request_stop();
  };
  const TrainingOutcome first = run_training(session, stop.get_token(), cb);
  CHECK(first.stopped);
  CHECK_FALSE(first.finished);
  REQUIRE(first.checkpoint);
  CHECK(first.checkpoint->global_step == 3);
  CHECK_FALSE(first.checkpoint->finished);
  const TrainingOutcome second = run_training(session);
  CHECK(second.finished);
  CHECK(second.global_step == 5);

  // Extending a finished session continues from its checkpoint.
  s.unet.steps = 7;
  write_session_settings(session, s);
  const TrainingOutcome extended = run_training(session);
  CHECK(extended.finished);
  CHECK(extended.global_step == 7);
  CHECK(metrics(session).size() == 7);
}

TEST_CASE("a loss that becomes NaN stops the run and keeps the last good checkpoint") {
  test::ScratchDir scratch("kiln-train");
  TrainingSettings s = tiny_settings(make_images(scratch));
  s.text_encoder.steps = 0;
  s.unet = {40, 1.0};  // absurd on purpose: the weights blow up within a few steps
  s.lr_schedule = LRScheduleKind::Constant;
  s.save_every = 1;
  const fs::path session = scratch / "session";
  create_session(session, s);
  std::int64_t last_step = 0;
  TrainingCallbacks cb;
  cb.on_step = [&](const StepMetrics& m) { last_step = m.step; };
  CHECK_THROWS_WITH_AS(run_training(session, {}, cb), doctest::Contains("NaN or infinite"), ComputeError);
  CHECK(last_step < 40);
  const auto checkpoint = latest_checkpoint(session);
  REQUIRE(checkpoint);
  CHECK(checkpoint->global_step == last_step);  // the last finite step, nothing after it
  for (const auto& [name, t] : checkpoint_tensors(session)) {
    if (t.is_floating_point()) CHECK_MESSAGE(torch::isfinite(t).all().item<bool>(), name);
  }
}

TEST_CASE("the loss of an overfitted image falls") {
  test::ScratchDir scratch("kiln-train");
  TrainingSettings s = tiny_settings(make_images(scratch));
  s.text_encoder.steps = 0;
  s.unet = {60, 2e-3};
  s.lr_schedule = LRScheduleKind::Constant;
  s.save_every = 0;
  const fs::path session = scratch / "session";
  create_session(session, s);
  std::vector<double> losses;
  TrainingCallbacks cb;
  cb.on_step = [&](const StepMetrics& m) { losses.push_back(m.loss); };
  run_training(session, {}, cb);
  REQUIRE(losses.size() == 60);
  const double first = std::accumulate(losses.begin(), losses.begin() + 15, 0.0) / 15;
  const double last = std::accumulate(losses.end() - 15, losses.end(), 0.0) / 15;
  MESSAGE("mean loss, first 15 steps: " << first << ", last 15: " << last);
  CHECK(last < 0.8 * first);
}

TEST_CASE("a DreamBooth session exports a model that reloads with the trained weights") {
  test::ScratchDir scratch("kiln-train");
  TrainingSettings s = tiny_settings(make_images(scratch));
  s.text_encoder.steps = 1;
  s.unet.steps = 2;
  s.config_dir = test::kTinySd1;  // the tiny model's configs for the single-file export
  const fs::path session = scratch / "session";
  create_session(session, s);

  SessionExportRequest early{session, scratch / "early.safetensors"};
  CHECK_THROWS_WITH_AS(export_session(early), doctest::Contains("no checkpoint"), InvalidRequestError);

  run_training(session);
  const auto trained = checkpoint_tensors(session);
  for (const ExportFormat format : {ExportFormat::Safetensors, ExportFormat::Ckpt, ExportFormat::Diffusers}) {
    INFO(to_string(format));
    const fs::path out = scratch / (std::string("model.") + std::string(to_string(format)));
    SessionExportRequest request{session, out, format, format == ExportFormat::Safetensors};
    const SessionExportResult result = export_session(request);
    CHECK(fs::exists(out));
    CHECK(result.steps == 3);
    CHECK(result.tensors > 100);
    pipelines::ModelLoadOptions options;
    options.config_dir = test::kTinySd1;
    const auto back = pipelines::load_stable_diffusion(out, options);
    const torch::Dtype dtype = request.half ? torch::kHalf : torch::kFloat;
    CHECK(torch::equal(back.unet->named_parameters()["conv_in.weight"],
                       trained.at("unet.conv_in.weight").to(dtype).to(torch::kFloat)));
    CHECK(torch::equal(back.text_encoder->named_parameters()["text_model.final_layer_norm.weight"],
                       trained.at("text_encoder.text_model.final_layer_norm.weight").to(dtype).to(torch::kFloat)));
    if (format == ExportFormat::Safetensors) {
      const auto file = io::SafetensorsFile::open(out);
      CHECK(file->metadata().at("kiln.token") == "sks");
      CHECK(file->metadata().at("kiln.steps") == "3");
      CHECK(file->index().find("model.diffusion_model.input_blocks.0.0.weight")->dtype == DType::F16);
    }
    // Nothing left beside the output.
    for (const auto& e : fs::directory_iterator(scratch.path())) {
      CHECK_MESSAGE(e.path().filename().string().find(".kiln-export") == std::string::npos, e.path());
    }
  }
  SessionExportRequest again{session, scratch / "model.safetensors"};
  CHECK_THROWS_WITH_AS(export_session(again), doctest::Contains("already exists"), InvalidRequestError);
}

TEST_CASE("a LoRA session trains adapters only and exports the kohya layout") {
  test::ScratchDir scratch("kiln-train");
  TrainingSettings s = tiny_settings(make_images(scratch));
  s.method = TrainingMethod::LoRA;
  s.lora_rank = 2;
  s.lora_alpha = 1;
  s.lora_text_encoder = true;
  s.text_encoder = {1, 1e-2};
  s.unet = {2, 1e-2};
  const fs::path session = scratch / "session";
  create_session(session, s);
  run_training(session);
  const auto ckpt = checkpoint_tensors(session);
  for (const auto& [name, t] : ckpt) {
    CHECK_MESSAGE((name.starts_with("lora.") || name.starts_with("optimizer.") || name == "rng.generator"), name);
  }

  const fs::path out = scratch / "sks.safetensors";
  const SessionExportResult result = export_session({session, out, ExportFormat::Safetensors, true});
  CHECK(result.lora);
  const auto file = io::SafetensorsFile::open(out);
  // The tiny UNet has 2 + 1 + 3 transformer blocks with attn1/attn2 x to_q/k/v/out.0; the text
  // encoder 5 layers x q/k/v/out_proj; each adapter: lora_down, lora_up, alpha.
  std::size_t unet_down = 0, te_down = 0;
  for (const auto& e : file->index().entries()) {
    if (e.name.ends_with(".lora_down.weight")) (e.name.starts_with("lora_unet_") ? unet_down : te_down)++;
  }
  CHECK(te_down == 20);
  CHECK(unet_down % 8 == 0);
  CHECK(unet_down > 0);
  const auto* down = file->index().find("lora_unet_down_blocks_0_attentions_0_transformer_blocks_0_attn1_to_q.lora_down.weight");
  REQUIRE(down != nullptr);
  CHECK(down->dtype == DType::F16);
  CHECK(down->shape == std::vector<std::int64_t>{2, 32});
  CHECK(file->index().contains("lora_te_text_model_encoder_layers_0_self_attn_q_proj.lora_up.weight"));
  CHECK(file->tensor("lora_unet_down_blocks_0_attentions_0_transformer_blocks_0_attn1_to_q.alpha").item<float>() == 1.0f);
  CHECK(file->metadata().at("ss_network_dim") == "2");
  // Trained: the up matrices left zero.
  CHECK(file->tensor("lora_unet_down_blocks_0_attentions_0_transformer_blocks_0_attn1_to_q.lora_up.weight").abs().sum().item<float>() > 0);
  CHECK_THROWS_AS(export_session({session, scratch / "x.ckpt", ExportFormat::Ckpt}), InvalidRequestError);

  // Round trip: the generator's LoRA loader merges the exported file into a fresh model, giving
  // the weights the training adapters computed (W0 + alpha/rank * up @ down, here in fp16).
  const pipelines::StableDiffusionModel model = pipelines::load_stable_diffusion(test::kTinySd1);
  const std::string q = "down_blocks.0.attentions.0.transformer_blocks.0.attn1.to_q.weight";
  const torch::Tensor w0 = model.unet->named_parameters()[q].detach().clone();
  const std::string te = "text_model.encoder.layers.0.self_attn.q_proj.weight";
  const torch::Tensor t0 = model.text_encoder->named_parameters()[te].detach().clone();
  pipelines::AppliedLoRAs applied = pipelines::apply_loras(model, {pipelines::LoRASpec{out, 0.5}});
  auto merged = [&](const std::string& name) {
    const torch::Tensor up = file->tensor(name + ".lora_up.weight").to(torch::kFloat);
    const torch::Tensor down = file->tensor(name + ".lora_down.weight").to(torch::kFloat);
    return 0.5 * (1.0 / 2.0) * torch::mm(up, down);
  };
  CHECK(torch::allclose(model.unet->named_parameters()[q],
                        w0 + merged("lora_unet_down_blocks_0_attentions_0_transformer_blocks_0_attn1_to_q"), 1e-6, 1e-7));
  CHECK(torch::allclose(model.text_encoder->named_parameters()[te],
                        t0 + merged("lora_te_text_model_encoder_layers_0_self_attn_q_proj"), 1e-6, 1e-7));
  CHECK_FALSE(torch::equal(model.unet->named_parameters()[q], w0));
  applied.restore();
  CHECK(torch::equal(model.unet->named_parameters()[q], w0));
}

TEST_CASE("prior preservation generates the missing class images") {
  test::ScratchDir scratch("kiln-train");
  TrainingSettings s = tiny_settings(make_images(scratch));
  s.class_prompt = "a photo of a person";
  s.num_class_images = 2;
  s.sample_steps = 2;
  s.text_encoder.steps = 0;
  s.unet.steps = 2;
  s.sample_every = 2;
  s.sample_prompts = {"a photo of sks"};
  const fs::path session = scratch / "session";
  create_session(session, s);
  std::vector<fs::path> samples;
  TrainingCallbacks cb;
  cb.on_sample = [&](const fs::path& p, std::int64_t, const std::string&) { samples.push_back(p); };
  CHECK(run_training(session, {}, cb).finished);
  CHECK(fs::exists(session / "class_images/class-000000.png"));
  CHECK(fs::exists(session / "class_images/class-000001.png"));
  REQUIRE(samples.size() == 1);
  CHECK(fs::exists(samples[0]));
}

namespace {

// A tiny SDXL pipeline folder: the golden SDXL-shaped UNet (cross-attention 32 = 16 + 16, pooled
// 24), the gelu CLIPTextModelWithProjection (width 16, projection 24) as text_encoder_2, a
// random CLIPTextModel of the same width as text_encoder, the tiny VAE, tokenizer and scheduler.
fs::path make_tiny_sdxl(const test::ScratchDir& scratch) {
  const fs::path golden = test::data_dir() / "golden";
  const fs::path root = scratch / "tiny_sdxl";
  fs::create_directories(root);
  const auto copy = [&](const fs::path& from, const std::string& to) {
    fs::copy(from, root / to, fs::copy_options::recursive);
  };
  copy(golden / "unet/sdxl/model", "unet");
  copy(golden / "clip_text/gelu/model", "text_encoder_2");
  copy(test::kTinySd1 / "vae", "vae");
  copy(test::kTinySd1 / "scheduler", "scheduler");
  copy(test::kTinySd1 / "tokenizer", "tokenizer");
  copy(test::kTinySd1 / "tokenizer", "tokenizer_2");
  auto config = nlohmann::json::parse(test::read_text(golden / "clip_text/gelu/model/config.json"));
  config["architectures"] = {"CLIPTextModel"};
  config.erase("projection_dim");
  fs::create_directories(root / "text_encoder");
  test::write_text(root / "text_encoder/config.json", config.dump(2));
  torch::manual_seed(5);
  models::CLIPTextModel te(models::CLIPTextConfig::from_json(config));
  io::NamedTensors tensors;
  for (const auto& p : te->named_parameters()) tensors.emplace_back(p.key(), p.value().detach() + 0.02 * torch::randn_like(p.value()));
  for (const auto& b : te->named_buffers()) tensors.emplace_back(b.key(), b.value());
  io::write_safetensors(root / "text_encoder/model.safetensors", tensors);
  test::write_text(root / "model_index.json", R"({
  "_class_name": "StableDiffusionXLPipeline", "_diffusers_version": "0.32.2", "force_zeros_for_empty_prompt": true,
  "scheduler": ["diffusers", "EulerDiscreteScheduler"], "text_encoder": ["transformers", "CLIPTextModel"],
  "text_encoder_2": ["transformers", "CLIPTextModelWithProjection"], "tokenizer": ["transformers", "CLIPTokenizer"],
  "tokenizer_2": ["transformers", "CLIPTokenizer"], "unet": ["diffusers", "UNet2DConditionModel"],
  "vae": ["diffusers", "AutoencoderKL"]})");
  return root;
}

}  // namespace

TEST_CASE("SDXL: both text encoders and the UNet train, export and reload") {
  test::ScratchDir scratch("kiln-train");
  const fs::path base = make_tiny_sdxl(scratch);
  REQUIRE(pipelines::load_stable_diffusion(base).is_sdxl());
  TrainingSettings s = tiny_settings(make_images(scratch));
  s.base_model = base;
  s.text_encoder = {1, 1e-3};
  s.unet = {2, 1e-3};
  const fs::path session = scratch / "session";
  create_session(session, s);
  CHECK(run_training(session).finished);
  const auto ckpt = checkpoint_tensors(session);
  CHECK(ckpt.count("text_encoder.text_model.final_layer_norm.weight"));
  REQUIRE(ckpt.count("text_encoder_2.text_projection.weight"));
  const auto original = pipelines::load_stable_diffusion(base);
  CHECK_FALSE(torch::equal(ckpt.at("text_encoder_2.text_projection.weight"),
                           original.text_encoder_2->named_parameters()["text_projection.weight"]));
  CHECK_FALSE(torch::equal(ckpt.at("unet.add_embedding.linear_1.weight"),
                           original.unet->named_parameters()["add_embedding.linear_1.weight"]));

  const fs::path out = scratch / "sdxl-trained";
  export_session({session, out, ExportFormat::Diffusers});
  const auto back = pipelines::load_stable_diffusion(out);
  REQUIRE(back.is_sdxl());
  CHECK(torch::equal(back.text_encoder_2->named_parameters()["text_projection.weight"],
                     ckpt.at("text_encoder_2.text_projection.weight")));
  CHECK(torch::equal(back.unet->named_parameters()["add_embedding.linear_1.weight"],
                     ckpt.at("unet.add_embedding.linear_1.weight")));

  // LoRA on SDXL: lora_te1_ / lora_te2_ / lora_unet_, and the generator's loader merges them.
  TrainingSettings l = s;
  l.method = TrainingMethod::LoRA;
  l.lora_text_encoder = true;
  l.lora_rank = 2;
  l.lora_alpha = 2;
  l.text_encoder = {1, 1e-2};
  l.unet = {1, 1e-2};
  const fs::path lora_session = scratch / "lora";
  create_session(lora_session, l);
  CHECK(run_training(lora_session).finished);
  const fs::path lora_file = scratch / "sdxl-lora.safetensors";
  export_session({lora_session, lora_file});
  const auto file = io::SafetensorsFile::open(lora_file);
  CHECK(file->metadata().at("ss_base_model_version") == "sdxl_base_v1-0");
  bool te1 = false, te2 = false, unet = false;
  for (const auto& e : file->index().entries()) {
    te1 = te1 || e.name.starts_with("lora_te1_text_model_encoder_layers_0_self_attn_q_proj.");
    te2 = te2 || e.name.starts_with("lora_te2_text_model_encoder_layers_0_self_attn_q_proj.");
    unet = unet || e.name.starts_with("lora_unet_");
  }
  CHECK(te1);
  CHECK(te2);
  CHECK(unet);
  const pipelines::StableDiffusionModel model = pipelines::load_stable_diffusion(base);
  const std::string q2 = "text_model.encoder.layers.0.self_attn.q_proj.weight";
  const torch::Tensor before = model.text_encoder_2->named_parameters()[q2].detach().clone();
  pipelines::AppliedLoRAs applied = pipelines::apply_loras(model, {pipelines::LoRASpec{lora_file, 1.0}});
  const std::string name = "lora_te2_text_model_encoder_layers_0_self_attn_q_proj";
  const torch::Tensor delta =
      torch::mm(file->tensor(name + ".lora_up.weight"), file->tensor(name + ".lora_down.weight")) * (2.0 / 2.0);
  CHECK(torch::allclose(model.text_encoder_2->named_parameters()[q2], before + delta, 1e-6, 1e-7));
  applied.restore();
}

TEST_CASE("a session keeps its newest checkpoints as files a generator loads") {
  test::ScratchDir scratch("kiln-train");
  const fs::path images = make_images(scratch);
  TrainingSettings s = tiny_settings(images);
  s.text_encoder.steps = 1;
  s.unet.steps = 3;
  s.save_every = 1;
  s.keep_checkpoints = 2;
  s.config_dir = test::kTinySd1;
  const fs::path session = scratch / "my session";
  create_session(session, s);
  std::vector<std::string> logged;
  TrainingCallbacks cb;
  cb.on_log = [&](std::string_view m) { logged.emplace_back(m); };
  run_training(session, {}, cb);

  const auto kept = kept_checkpoints(session);
  REQUIRE(kept.size() == 2);  // steps 1..4 saved, the two newest kept
  CHECK(kept[0].step == 3);
  CHECK(kept[1].step == 4);
  CHECK(kept[1].path == kept_checkpoint_path(session, 4));
  CHECK(kept[1].path.filename() == "my session-000004.safetensors");
  CHECK_FALSE(fs::exists(kept_checkpoint_path(session, 1)));
  CHECK(std::any_of(logged.begin(), logged.end(), [](const std::string& l) { return l.starts_with("removed my session-000001"); }));
  // The newest is the finished model: the trained weights, fp16-rounded.
  const auto trained = checkpoint_tensors(session);
  pipelines::ModelLoadOptions options;
  options.config_dir = test::kTinySd1;
  const auto back = pipelines::load_stable_diffusion(kept[1].path, options);
  CHECK(torch::equal(back.unet->named_parameters()["conv_in.weight"],
                     trained.at("unet.conv_in.weight").to(torch::kHalf).to(torch::kFloat)));
  // The older one differs from it (one more step trained since).
  const auto older = pipelines::load_stable_diffusion(kept[0].path, options);
  CHECK_FALSE(torch::equal(older.unet->named_parameters()["conv_in.weight"], back.unet->named_parameters()["conv_in.weight"]));

  // A LoRA session keeps kohya files that the LoRA loader merges.
  TrainingSettings l = tiny_settings(images);
  l.method = TrainingMethod::LoRA;
  l.lora_rank = 2;
  l.lora_alpha = 1;
  l.text_encoder.steps = 0;
  l.unet = {3, 1e-2};
  l.save_every = 1;
  l.keep_checkpoints = 5;
  const fs::path lora_session = scratch / "lora";
  create_session(lora_session, l);
  run_training(lora_session);
  const auto loras = kept_checkpoints(lora_session);
  REQUIRE(loras.size() == 3);
  CHECK(loras[0].path.filename() == "lora-000001.safetensors");
  const pipelines::StableDiffusionModel model = pipelines::load_stable_diffusion(test::kTinySd1);
  for (const KeptCheckpoint& k : loras) {
    INFO(k.path);
    CHECK(io::SafetensorsFile::open(k.path)->metadata().at("ss_steps") == std::to_string(k.step));
    pipelines::AppliedLoRAs applied = pipelines::apply_loras(model, {{k.path, 1.0}});
    CHECK(applied.changed_weights() > 0);
    applied.restore();
  }

  // Off: nothing kept.
  TrainingSettings off = l;
  off.keep_checkpoints = 0;
  const fs::path off_session = scratch / "off";
  create_session(off_session, off);
  run_training(off_session);
  CHECK(kept_checkpoints(off_session).empty());
}
