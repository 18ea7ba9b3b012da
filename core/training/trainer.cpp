#include "training/trainer.h"

#include <ATen/CPUGeneratorImpl.h>
#include <nlohmann/json.hpp>

#include <chrono>
#include <cmath>
#include <fstream>
#include <map>
#include <sstream>

#include "base/error.h"
#include "dataset/captions.h"
#include "dataset/prepare_dataset.h"
#include "dataset/training_image.h"
#include "io/atomic_file.h"
#include "io/output_paths.h"
#include "io/safetensors.h"
#include "pipelines/model_loading.h"
#include "pipelines/stable_diffusion_pipeline.h"
#include "training/diffusion_loss.h"
#include "training/distributed.h"
#include "training/lora_network.h"
#include "training/memory_optimizers.h"
#include "training/mixed_precision.h"
#include "training/optimizer.h"
#include "training/session_export.h"
#include "training/session_layout.h"

namespace kiln::training {
namespace fs = std::filesystem;
using json = nlohmann::json;

namespace {

using io::read_file;

std::uint64_t resident_bytes() {
  std::ifstream statm("/proc/self/statm");
  std::uint64_t size = 0, resident = 0;
  if (statm >> size >> resident) return resident * 4096ull;
  return 0;
}

// splitmix64's finaliser: the seeds of the per-example generators.
std::uint64_t mix(std::uint64_t x) {
  x += 0x9e3779b97f4a7c15ull;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
  return x ^ (x >> 31);
}

std::string format_step(std::int64_t step) {
  std::string s = std::to_string(step);
  return std::string(s.size() < 6 ? 6 - s.size() : 0, '0') + s;
}

// "v1-5.safetensors", "tiny_sd1" (also for "models/tiny_sd1/").
std::string model_name(const fs::path& model) {
  const fs::path p = model.has_filename() ? model : model.parent_path();
  return p.filename().string();
}

}  // namespace

DatasetSnapshot dataset_snapshot(const TrainingSettings& settings) {
  const std::vector<TrainingExample> examples = training_examples(settings);
  DatasetSnapshot snapshot;
  json list = json::array();
  for (std::size_t i = 0; i < examples.size(); ++i) {
    const std::string name = format_step(static_cast<std::int64_t>(i)) + "-" + examples[i].image.filename().string();
    snapshot.files.emplace_back(examples[i].image, name);
    list.push_back({{"image", name},
                    {"prompt", examples[i].prompt},
                    {"source", examples[i].image.string()},
                    {"from_caption_file", examples[i].from_caption_file}});
  }
  snapshot.list_json = json{{"images", list}}.dump(2) + "\n";
  return snapshot;
}

// ---------------------------------------------------------------------------------------------
// The run

namespace {

struct StagePosition {
  std::size_t stage_index = 0;
  std::int64_t stage_step = 0;
  std::int64_t global_step = 0;
};

class Trainer {
 public:
  Trainer(fs::path dir, std::stop_token stop, const TrainingCallbacks& callbacks)
      : dir_(std::move(dir)), stop_(std::move(stop)), cb_(callbacks) {}

  TrainingOutcome run(const RunOptions& options) {
    const bool resume = options.resume;
    // Adam's second moments of small gradients can fall into float denormals, which CPUs handle
    // far slower. Flushing them to zero, as torch.set_flush_denormal(True) does, changes nothing
    // an update could show (sqrt(v) ~ 1e-19 against eps = 1e-8); bench_train measures 0.051 vs
    // 0.058 s per tiny UNet step. Per thread, so it is set here and put back at the end.
    struct FlushDenormals {
      FlushDenormals() { at::globalContext().setFlushDenormal(true); }
      ~FlushDenormals() { at::globalContext().setFlushDenormal(false); }
    } flush_denormals;
    validate_distributed(options.distributed);
    // Several ranks: rank 0 has prepared the session when the others are let in.
    if (options.distributed.active()) group_ = std::make_unique<ProcessGroup>(options.distributed);
    settings_ = read_session_settings(dir_);
    validate_settings(settings_);
    if (options.distributed.active()) {
      if (!settings_.data_parallel) {
        throw InvalidRequestError("the session " + dir_.string() +
                                      " was made for one process: its random draws follow diffusers' order, "
                                      "which several ranks cannot share",
                                  "start a new session for data-parallel training (kiln-cli train makes one "
                                  "when it is launched with several ranks)");
      }
      // "cuda" on several ranks: each its own card.
      if (settings_.device == "cuda") settings_.device = "cuda:" + std::to_string(options.distributed.local_rank);
      group_->connect(torch::Device(settings_.device));
    }
    if (is_main()) {
      fs::create_directories(dir_ / "checkpoints");
      log_.open(dir_ / "log.txt", std::ios::app);
    }
    if (group_) {
      log("rank " + std::to_string(rank()) + " of " + std::to_string(world()) + " (c10d " + group_->backend() +
          "), global batch " + std::to_string(settings_.batch_size * world()));
    }
    stages_ = settings_.stages();
    total_steps_ = 0;
    for (Stage s : stages_) total_steps_ += settings_.stage(s).steps;

    load_model();
    std::optional<CheckpointInfo> checkpoint = resume ? latest_checkpoint(dir_) : std::nullopt;
    if (!resume && fs::exists(checkpoint_path(dir_))) {
      throw InvalidRequestError("the session " + dir_.string() + " already has a checkpoint",
                                "resume it, or start a new session");
    }
    gen_ = at::make_generator<at::CPUGeneratorImpl>(settings_.seed);
    setup_lora();
    StagePosition pos;
    if (checkpoint) {
      pos = restore(*checkpoint);
      log("resumed from " + checkpoint->path.string() + " at step " + std::to_string(pos.global_step));
    } else {
      if (is_main()) {
        std::error_code ec;
        fs::remove(metrics_path(dir_), ec);
      }
      log("training " + std::string(to_string(settings_.method)) + " on " + settings_.base_model.string() + ", " +
          std::to_string(total_steps_) + " steps");
    }
    if (is_main()) {
      truncate_metrics(pos.global_step);
      if (!checkpoint) snapshot_dataset();
      if (settings_.prior_preservation()) ensure_class_images();
    }
    // The other ranks read the dataset copy and class images once rank 0 has written them.
    if (group_) group_->barrier();
    prepare_data();
    if (!group_ && stop_.stop_requested()) {  // while the images were being prepared: nothing trained, nothing saved
      TrainingOutcome stopped;
      stopped.stopped = true;
      stopped.global_step = pos.global_step;
      stopped.total_steps = total_steps_;
      stopped.checkpoint = checkpoint;
      log("stopped before training started");
      return stopped;
    }

    TrainingOutcome outcome;
    outcome.total_steps = total_steps_;
    for (; pos.stage_index < stages_.size(); ++pos.stage_index, pos.stage_step = 0) {
      const bool stopped = run_stage(pos);
      outcome.global_step = pos.global_step;
      if (stopped) {
        outcome.stopped = true;
        if (group_) group_->barrier();  // rank 0 has saved
        outcome.checkpoint = latest_checkpoint(dir_);
        log("stopped at step " + std::to_string(pos.global_step) + "; checkpoint saved");
        return outcome;
      }
    }
    outcome.finished = true;
    outcome.global_step = pos.global_step;
    if (group_) group_->barrier();  // rank 0 has saved
    outcome.checkpoint = latest_checkpoint(dir_);
    log("finished: " + std::to_string(pos.global_step) + " steps");
    return outcome;
  }

 private:
  void log(const std::string& message) {
    if (log_) log_ << message << '\n' << std::flush;
    if (cb_.on_log) cb_.on_log(message);
  }

  int rank() const { return group_ ? group_->rank() : 0; }
  int world() const { return group_ ? group_->world_size() : 1; }
  // Rank 0 (or the only process) writes the session's files.
  bool is_main() const { return rank() == 0; }
  // A stop request that ends preparations: a single process only (ranks agree on stops per step).
  bool stop_now() const { return !group_ && stop_.stop_requested(); }

  void load_model() {
    pipelines::ModelLoadOptions options;
    options.device = torch::Device(settings_.device);
    options.dtype = torch::kFloat;
    options.config_dir = settings_.config_dir;
    options.tokenizer_dir = settings_.tokenizer_dir;
    pipelines::check_device_dtype(options.device, options.dtype);
    log("loading " + settings_.base_model.string());
    model_ = pipelines::load_stable_diffusion(settings_.base_model, options);
    if (model_.is_inpainting()) throw InvalidRequestError("training inpainting models is not supported");
    model_.unet->set_gradient_checkpointing(settings_.gradient_checkpointing);
    device_ = options.device;
    schedule_ = noise_schedule(model_.scheduler_config);
    pad_ = model_.family == convert::ModelFamily::SD2 ? text::PadConvention::SD2 : text::PadConvention::SD1;
    for (auto& [name, m] : text_encoders()) {
      for (auto& p : m->parameters()) p.set_requires_grad(false);
    }
    for (auto* m : std::initializer_list<torch::nn::Module*>{model_.unet.get(), model_.vae.get()}) {
      for (auto& p : m->parameters()) p.set_requires_grad(false);
    }
    model_.vae->eval();
  }

  // The text encoders with their checkpoint prefixes: one, or SDXL's two.
  std::vector<std::pair<std::string, torch::nn::Module*>> text_encoders() {
    std::vector<std::pair<std::string, torch::nn::Module*>> out{{"text_encoder", model_.text_encoder.get()}};
    if (model_.is_sdxl()) out.emplace_back("text_encoder_2", model_.text_encoder_2.get());
    return out;
  }

  void setup_lora() {
    if (settings_.method != TrainingMethod::LoRA) return;
    // A generator of its own, so the adapters' initial values do not depend on anything else.
    at::Generator init = at::make_generator<at::CPUGeneratorImpl>(settings_.seed ^ 0x4c6f5241ull);
    if (settings_.lora_text_encoder) {
      // kohya's names: lora_te_ for SD 1.x/2.x, lora_te1_ / lora_te2_ for SDXL's two encoders.
      const auto encoders = text_encoders();
      for (std::size_t i = 0; i < encoders.size(); ++i) {
        const std::string prefix = model_.is_sdxl() ? "lora_te" + std::to_string(i + 1) : "lora_te";
        te_loras_.emplace_back(*encoders[i].second, prefix, text_encoder_lora_targets(), settings_.lora_rank,
                               settings_.lora_alpha, init);
        te_loras_.back().set_requires_grad(false);
      }
    }
    unet_lora_ = LoRANetwork(*model_.unet, "lora_unet", unet_lora_targets(), settings_.lora_rank, settings_.lora_alpha,
                             init);
    unet_lora_.set_requires_grad(false);
  }

  // --- data -----------------------------------------------------------------------------------

  torch::Tensor pixels_of(const fs::path& image) const {
    const dataset::RGBImage rgb = dataset::load_training_image(image, settings_.resolution);
    torch::Tensor t = torch::from_blob(const_cast<std::uint8_t*>(rgb.pixels.data()), {rgb.height, rgb.width, 3},
                                       torch::kUInt8)
                          .permute({2, 0, 1})
                          .to(torch::kFloat)
                          .div(127.5)
                          .sub(1.0);
    return t.contiguous();
  }

  // [77] ids; SDXL: [2, 77], the second padded as text_encoder_2's tokenizer pads ("!" = 0).
  torch::Tensor ids_of(const std::string& prompt) const {
    const torch::Tensor ids = torch::tensor(model_.tokenizer->encode_padded(prompt, pad_), torch::kLong);
    if (!model_.is_sdxl()) return ids;
    const torch::Tensor ids_2 = torch::tensor(model_.tokenizer->encode_padded(prompt, text::PadConvention::SD2), torch::kLong);
    return torch::stack({ids, ids_2});
  }

  void ensure_class_images() {
    fs::path folder = settings_.class_images.empty() ? dir_ / "class_images" : settings_.class_images;
    fs::create_directories(folder);
    std::vector<fs::path> existing = dataset::list_images(folder);
    const int missing = settings_.num_class_images - static_cast<int>(existing.size());
    if (missing > 0) {
      log("generating " + std::to_string(missing) + " class images for \"" + settings_.class_prompt + "\"");
      for (int i = 0; i < missing; ++i) {
        if (stop_now()) return;  // run() sees the stop; the images made so far stay
        const int n = static_cast<int>(existing.size()) + i;
        pipelines::GenerationRequest request;
        request.prompt = settings_.class_prompt;
        request.width = request.height = settings_.resolution;
        request.steps = settings_.sample_steps;
        request.seed = settings_.seed + static_cast<std::uint64_t>(n);
        request.sampler = schedulers::SchedulerKind::DPMPP2MKarras;
        const auto result = pipelines::generate(model_, request, stop_);
        if (result.cancelled) return;
        write_image(folder / ("class-" + format_step(n) + ".png"), result.images[0]);
      }
      existing = dataset::list_images(folder);
    }
    existing.resize(static_cast<std::size_t>(settings_.num_class_images));
    for (const auto& image : existing) classes_.push_back(TrainingExample{image, settings_.class_prompt, false});
  }

  void write_image(const fs::path& path, const torch::Tensor& image01) const {
    const torch::Tensor u8 = pipelines::to_uint8(image01.unsqueeze(0))[0].contiguous();
    dataset::RGBImage rgb;
    rgb.height = static_cast<int>(u8.size(0));
    rgb.width = static_cast<int>(u8.size(1));
    rgb.pixels.assign(u8.data_ptr<std::uint8_t>(), u8.data_ptr<std::uint8_t>() + u8.numel());
    dataset::write_png(path, rgb);
  }

  // Pixels or (cache_latents) VAE moments of every example, and their token ids.
  // A fresh run copies its images and their exact prompts into <session>/dataset, so that edits
  // to the dataset folder during or after training cannot change what a resumed run sees.
  void snapshot_dataset() {
    const fs::path folder = dir_ / "dataset";
    std::error_code ec;
    // An imported session trains on the copy it brought (settings.images is that copy).
    if (fs::exists(folder / "dataset.json") && fs::equivalent(settings_.images, folder, ec)) {
      log("training on the session's own copy of its images");
      return;
    }
    const DatasetSnapshot snapshot = dataset_snapshot(settings_);
    fs::remove_all(folder, ec);
    fs::create_directories(folder);
    for (const auto& [source, name] : snapshot.files) {
      fs::copy_file(source, folder / name, ec);
      if (ec) throw FileError("cannot copy the image into the session: " + ec.message(), source);
    }
    io::write_file_atomically(folder / "dataset.json", snapshot.list_json);
  }

  std::vector<TrainingExample> snapshot_examples() {
    const fs::path path = dir_ / "dataset" / "dataset.json";
    if (!fs::exists(path)) {
      log("this session has no copy of its images (dataset/dataset.json): reading " + settings_.images.string());
      return training_examples(settings_);
    }
    std::vector<TrainingExample> out;
    try {
      const json list = json::parse(read_file(path));
      for (const auto& item : list.at("images")) {
        out.push_back(TrainingExample{dir_ / "dataset" / item.at("image").get<std::string>(),
                                      item.at("prompt").get<std::string>(), item.value("from_caption_file", false)});
      }
    } catch (const json::exception& e) {
      throw FormatError(std::string("the session's image list is broken: ") + e.what(), path);
    }
    if (out.empty()) throw FormatError("the session's image list is empty", path);
    return out;
  }

  void prepare_data() {
    instances_ = snapshot_examples();
    // Rank 0 made the class images before the barrier (run()): the others only list them.
    if (settings_.prior_preservation() && !is_main()) ensure_class_images();
    if (stop_now()) return;
    log(std::to_string(instances_.size()) + " instance images" +
        (classes_.empty() ? std::string() : ", " + std::to_string(classes_.size()) + " class images"));
    for (const auto& e : instances_) log("  " + e.image.filename().string() + ": \"" + e.prompt + "\"");
    const std::size_t total = instances_.size() + classes_.size();
    std::size_t done = 0;
    auto last_report = std::chrono::steady_clock::now();
    auto encode_all = [&](const std::vector<TrainingExample>& examples, std::vector<torch::Tensor>& inputs,
                          std::vector<torch::Tensor>& ids) {
      torch::NoGradGuard no_grad;
      for (const auto& e : examples) {
        if (stop_now()) return;
        // Encoding hundreds of full-size images takes minutes on a CPU: say how far it is.
        if (std::chrono::steady_clock::now() - last_report > std::chrono::seconds(10)) {
          log("preparing images: " + std::to_string(done) + " of " + std::to_string(total));
          last_report = std::chrono::steady_clock::now();
        }
        ++done;
        torch::Tensor pixels = pixels_of(e.image);
        if (settings_.cache_latents) {
          inputs.push_back(model_.vae->encode_moments(pixels.unsqueeze(0).to(device_))[0]);
        } else {
          inputs.push_back(pixels);
        }
        ids.push_back(ids_of(e.prompt));
      }
    };
    encode_all(instances_, instance_inputs_, instance_ids_);
    encode_all(classes_, class_inputs_, class_ids_);
  }

  // The example index at position p of the endless, per-epoch shuffled sequence of `n` examples.
  std::int64_t example_at(std::int64_t p, std::int64_t n, std::uint64_t salt) {
    const std::int64_t epoch = p / n;
    const auto key = std::make_pair(salt, epoch);
    auto it = permutations_.find(key);
    if (it == permutations_.end()) {
      at::Generator g = at::make_generator<at::CPUGeneratorImpl>(settings_.seed * 1000003ull + salt * 7919ull +
                                                                 static_cast<std::uint64_t>(epoch));
      if (permutations_.size() > 64) permutations_.clear();
      it = permutations_.emplace(key, torch::randperm(n, g, torch::kLong)).first;
    }
    return it->second[p % n].item<std::int64_t>();
  }

  struct Batch {
    torch::Tensor inputs;  // pixels [B,3,R,R] or moments [B,8,h,w]
    torch::Tensor ids;     // [B, 77]; SDXL [B, 2, 77]
    std::vector<std::int64_t> instance_index;
    std::vector<std::uint64_t> seeds;  // data_parallel: each row's generator seed
  };

  // This rank's share of micro-step `micro_step`: the global batch (batch_size x world) holds
  // positions micro_step * G + j of the shuffled sequence, j = 0..G-1; rank r takes the slots
  // j = r * batch_size + k. One process is rank 0 of 1: the positions it always had.
  Batch batch_for(Stage stage, std::int64_t micro_step) {
    const std::uint64_t salt = stage == Stage::TextEncoder ? 1 : 2;
    const std::int64_t global_batch = static_cast<std::int64_t>(settings_.batch_size) * world();
    const std::int64_t first_slot = static_cast<std::int64_t>(settings_.batch_size) * rank();
    auto seed_of = [&](std::int64_t slot, bool class_image) {
      std::uint64_t h = mix(settings_.seed);
      for (std::uint64_t v : {salt, static_cast<std::uint64_t>(micro_step), static_cast<std::uint64_t>(slot),
                              std::uint64_t{class_image}}) {
        h = mix(h ^ v);
      }
      return h;
    };
    std::vector<torch::Tensor> inputs, ids;
    Batch b;
    const std::int64_t n = static_cast<std::int64_t>(instances_.size());
    for (int k = 0; k < settings_.batch_size; ++k) {
      const std::int64_t slot = first_slot + k;
      const std::int64_t i = example_at(micro_step * global_batch + slot, n, salt);
      inputs.push_back(instance_inputs_[static_cast<std::size_t>(i)]);
      ids.push_back(instance_ids_[static_cast<std::size_t>(i)]);
      b.instance_index.push_back(i);
      b.seeds.push_back(seed_of(slot, false));
    }
    if (!classes_.empty()) {
      const std::int64_t m = static_cast<std::int64_t>(classes_.size());
      for (int k = 0; k < settings_.batch_size; ++k) {
        const std::int64_t slot = first_slot + k;
        const std::int64_t i = example_at(micro_step * global_batch + slot, m, salt + 16);
        inputs.push_back(class_inputs_[static_cast<std::size_t>(i)]);
        ids.push_back(class_ids_[static_cast<std::size_t>(i)]);
        b.instance_index.push_back(-1 - i);
        b.seeds.push_back(seed_of(slot, true));
      }
    }
    b.inputs = torch::stack(inputs).to(device_);
    b.ids = torch::stack(ids).to(device_);
    return b;
  }

  // --- stages ---------------------------------------------------------------------------------

  NamedParameters trainable(Stage stage) {
    NamedParameters out;
    if (settings_.method == TrainingMethod::LoRA) {
      if (stage == Stage::UNet) return unet_lora_.parameters();
      for (const auto& net : te_loras_) {
        for (auto& p : net.parameters()) out.push_back(p);
      }
      return out;
    }
    if (stage == Stage::UNet) {
      for (const auto& p : model_.unet->named_parameters()) out.emplace_back("unet." + p.key(), p.value());
      return out;
    }
    for (auto& [prefix, m] : text_encoders()) {
      for (const auto& p : m->named_parameters()) out.emplace_back(prefix + "." + p.key(), p.value());
    }
    return out;
  }

  void set_trainable(Stage stage) {
    for (auto& [name, m] : text_encoders()) {
      for (auto& p : m->parameters()) p.set_requires_grad(false);
    }
    for (auto& p : model_.unet->parameters()) p.set_requires_grad(false);
    for (auto& net : te_loras_) net.set_requires_grad(false);
    unet_lora_.set_requires_grad(false);
    for (auto& [name, p] : trainable(stage)) p.set_requires_grad(true);
  }

  struct Conditioning {
    torch::Tensor hidden;  // [B, 77, C]
    torch::Tensor pooled;  // SDXL [B, projection]; undefined otherwise
  };

  // What the UNet is conditioned on, as the training scripts encode it: SD 1.x/2.x the last
  // hidden state; SDXL the penultimate hidden states of both encoders concatenated, and the
  // projected pooled output of the second (train_dreambooth_lora_sdxl.py's encode_prompt).
  Conditioning encode(const torch::Tensor& ids) {
    for (auto& net : te_loras_) net.apply();
    if (!model_.is_sdxl()) return {model_.text_encoder->forward(ids).last_hidden_state, {}};
    const auto one = model_.text_encoder->forward(ids.select(1, 0), true);
    const auto two = model_.text_encoder_2->forward(ids.select(1, 1), true);
    return {torch::cat({one.hidden_states.end()[-2], two.hidden_states.end()[-2]}, -1), two.text_embeds};
  }

  // Text conditioning for a batch; cached per example while the text encoders are frozen.
  Conditioning conditioning(Stage stage, const Batch& batch) {
    if (stage == Stage::TextEncoder) return encode(batch.ids);
    torch::NoGradGuard no_grad;
    std::vector<torch::Tensor> hidden, pooled;
    for (std::size_t k = 0; k < batch.instance_index.size(); ++k) {
      const std::int64_t key = batch.instance_index[k];
      auto it = hidden_cache_.find(key);
      if (it == hidden_cache_.end()) {
        const std::int64_t row = static_cast<std::int64_t>(k);
        it = hidden_cache_.emplace(key, encode(batch.ids.slice(0, row, row + 1))).first;
      }
      hidden.push_back(it->second.hidden[0]);
      if (it->second.pooled.defined()) pooled.push_back(it->second.pooled[0]);
    }
    return {torch::stack(hidden), pooled.empty() ? torch::Tensor() : torch::stack(pooled)};
  }

  // SDXL's micro-conditioning: original size, crop corner, target size. Kiln's datasets are
  // square crops at the training resolution, so (R, R, 0, 0, R, R), as a prepared image gives.
  models::UNetAddedCond added_conditioning(const Conditioning& c) const {
    const auto r = static_cast<float>(settings_.resolution);
    models::UNetAddedCond added;
    added.text_embeds = c.pooled;
    added.time_ids = torch::tensor({r, r, 0.0f, 0.0f, r, r}).view({1, 6}).repeat({c.pooled.size(0), 1}).to(c.pooled.options());
    return added;
  }

  // Runs one stage from pos.stage_step; returns true when a stop request ended it.
  bool run_stage(StagePosition& pos) {
    const Stage stage = stages_[pos.stage_index];
    const StageSettings& ss = settings_.stage(stage);
    set_trainable(stage);
    hidden_cache_.clear();
    model_.unet->train();
    model_.text_encoder->train();
    NamedParameters params = trainable(stage);
    AdamWOptions adam{settings_.adam_beta1, settings_.adam_beta2, settings_.weight_decay, settings_.adam_epsilon};
    const std::unique_ptr<Optimizer> optimizer_ptr = make_optimizer(settings_.optimizer, params, adam);
    Optimizer& optimizer = *optimizer_ptr;
    if (pending_optimizer_ && pending_stage_ == stage) {
      optimizer.load_state(*pending_optimizer_, pending_optimizer_steps_, checkpoint_path(dir_).string());
    }
    pending_optimizer_.reset();
    const LRSchedule lr_schedule{settings_.lr_schedule, settings_.warmup_steps, ss.steps};
    DiffusionLossOptions loss_options;
    loss_options.prediction = model_.prediction_type;
    loss_options.prior_preservation = settings_.prior_preservation();
    loss_options.prior_loss_weight = settings_.prior_loss_weight;
    loss_options.offset_noise = settings_.offset_noise;
    loss_options.min_snr_gamma = settings_.min_snr_gamma;
    MixedPrecisionContext precision(settings_.mixed_precision, device_);
    if (pos.stage_step < ss.steps) log("stage " + std::string(to_string(stage)) + ": " + std::to_string(ss.steps) + " steps");

    std::int64_t last_saved = pos.stage_step;
    bool agreed_stop = false;  // several ranks: a stop any of them saw at the last step
    while (pos.stage_step < ss.steps) {
      if (group_ ? agreed_stop : stop_.stop_requested()) {
        if (pos.stage_step != last_saved && is_main()) save_checkpoint(stage, pos, optimizer);
        return true;
      }
      const auto started = std::chrono::steady_clock::now();
      const double lr = ss.learning_rate * lr_schedule.factor(pos.stage_step);
      double loss_sum = 0;
      for (int a = 0; a < settings_.gradient_accumulation; ++a) {
        const Batch batch = batch_for(stage, pos.stage_step * settings_.gradient_accumulation + a);
        torch::Tensor latents;
        std::optional<NoiseDraw> draw;  // data_parallel: drawn per example
        {
          torch::NoGradGuard no_grad;
          const torch::Tensor moments =
              settings_.cache_latents ? batch.inputs : model_.vae->encode_moments(batch.inputs);
          if (settings_.data_parallel) {
            std::vector<torch::Tensor> rows, noise, timesteps;
            for (std::int64_t r = 0; r < moments.size(0); ++r) {
              at::Generator g = at::make_generator<at::CPUGeneratorImpl>(batch.seeds[static_cast<std::size_t>(r)]);
              rows.push_back(sample_latents(moments.slice(0, r, r + 1), model_.vae->config().scaling_factor, g));
              NoiseDraw d = draw_noise(rows.back(), schedule_, g, loss_options);
              noise.push_back(d.noise);
              timesteps.push_back(d.timesteps);
            }
            latents = torch::cat(rows);
            draw = NoiseDraw{torch::cat(noise), torch::cat(timesteps)};
          } else {
            latents = sample_latents(moments, model_.vae->config().scaling_factor, gen_);
          }
        }
        torch::Tensor loss;
        {
          auto autocast = precision.autocast();
          const Conditioning cond = conditioning(stage, batch);
          if (stage == Stage::UNet && !unet_lora_.empty()) unet_lora_.apply();
          models::UNetAddedCond added;
          if (cond.pooled.defined()) added = added_conditioning(cond);
          loss = (draw ? diffusion_loss(model_.unet, latents, cond.hidden, schedule_, *draw, loss_options,
                                        cond.pooled.defined() ? &added : nullptr)
                       : diffusion_loss(model_.unet, latents, cond.hidden, schedule_, gen_, loss_options,
                                        cond.pooled.defined() ? &added : nullptr))
                     .loss;
        }
        const double value = loss.item<double>();
        // Several ranks decide on the averaged loss below, all alike.
        if (!group_ && !std::isfinite(value)) fail_non_finite("loss", stage, pos);
        loss_sum += value / settings_.gradient_accumulation;
        precision.backward(loss / settings_.gradient_accumulation);
      }
      if (group_) {
        // The ranks' gradients averaged (each rank's loss is its examples' mean, so the average
        // is the global batch's mean), then the step's loss and any stop request.
        group_->average_gradients(params);
        const std::vector<double> sums = group_->sum({loss_sum, stop_.stop_requested() ? 1.0 : 0.0});
        loss_sum = sums[0] / world();
        agreed_stop = sums[1] > 0;
        if (!std::isfinite(loss_sum)) fail_non_finite("loss", stage, pos);
      }
      const bool step_ok = precision.unscale(params);
      const double grad_norm = clip_grad_norm(params, settings_.max_grad_norm);
      if (step_ok && !std::isfinite(grad_norm)) fail_non_finite("gradient norm", stage, pos);
      if (step_ok) optimizer.step(lr);
      optimizer.zero_grad();
      precision.update(step_ok);
      ++pos.stage_step;
      ++pos.global_step;

      StepMetrics m;
      m.step = pos.global_step;
      m.total_steps = total_steps_;
      m.stage = stage;
      m.stage_step = pos.stage_step;
      m.stage_steps = ss.steps;
      m.loss = loss_sum;
      m.lr = lr;
      m.grad_norm = grad_norm;
      m.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
      m.memory = resident_bytes();
      if (is_main()) {
        append_metrics(m);
        if (cb_.on_step) cb_.on_step(m);
      }

      const bool stage_end = pos.stage_step == ss.steps;
      if (stage_end || (settings_.save_every > 0 && pos.stage_step % settings_.save_every == 0)) {
        if (is_main()) save_checkpoint(stage, pos, optimizer);
        last_saved = pos.stage_step;
      }
      if (is_main() && settings_.sample_every > 0 && (pos.stage_step % settings_.sample_every == 0 || stage_end)) {
        write_samples(stage, pos);
      }
    }
    return false;
  }

  [[noreturn]] void fail_non_finite(const std::string& what, Stage stage, const StagePosition& pos) {
    const auto checkpoint = latest_checkpoint(dir_);
    const std::string kept = checkpoint ? "the last good checkpoint (step " + std::to_string(checkpoint->global_step) + ") is kept"
                                        : "no checkpoint had been saved yet";
    log("the " + what + " became NaN or infinite at " + std::string(to_string(stage)) + " step " +
        std::to_string(pos.stage_step + 1) + "; training stopped, " + kept);
    throw ComputeError("training: the " + what + " became NaN or infinite at " + std::string(to_string(stage)) +
                           " step " + std::to_string(pos.stage_step + 1) + "; " + kept,
                       "lower the learning rate, or resume from the checkpoint");
  }

  void write_samples(Stage stage, const StagePosition& pos) {
    torch::NoGradGuard no_grad;
    for (auto& net : te_loras_) net.apply();
    if (!unet_lora_.empty()) unet_lora_.apply();
    model_.unet->eval();
    model_.text_encoder->eval();
    fs::create_directories(dir_ / "samples");
    for (std::size_t i = 0; i < settings_.sample_prompts.size(); ++i) {
      pipelines::GenerationRequest request;
      request.prompt = settings_.sample_prompts[i];
      request.width = request.height = settings_.resolution;
      request.steps = settings_.sample_steps;
      request.seed = settings_.sample_seed;
      request.sampler = schedulers::SchedulerKind::DPMPP2MKarras;
      const auto result = pipelines::generate(model_, request);
      const fs::path path = dir_ / "samples" /
                            (format_step(pos.global_step) + "-" + std::string(to_string(stage)) + "-" + std::to_string(i) + ".png");
      write_image(path, result.images[0]);
      if (cb_.on_sample) cb_.on_sample(path, pos.global_step, request.prompt);
    }
    model_.unet->train();
    model_.text_encoder->train();
  }

  // --- checkpoints ------------------------------------------------------------------------------

  void save_checkpoint(Stage stage, const StagePosition& pos, const Optimizer& optimizer) {
    io::NamedTensors tensors;
    if (settings_.method == TrainingMethod::LoRA) {
      for (const auto& [name, t] : trainable(Stage::TextEncoder)) tensors.emplace_back("lora." + name, t.detach());
      for (const auto& [name, t] : trainable(Stage::UNet)) tensors.emplace_back("lora." + name, t.detach());
    } else {
      const bool te_trained = std::find(stages_.begin(), stages_.end(), Stage::TextEncoder) != stages_.end();
      if (te_trained) {
        for (const auto& [name, t] : trainable(Stage::TextEncoder)) tensors.emplace_back(name, t.detach());
      }
      if (stage == Stage::UNet) {
        for (const auto& p : model_.unet->named_parameters()) tensors.emplace_back("unet." + p.key(), p.value().detach());
      }
    }
    for (const auto& [name, t] : optimizer.state()) tensors.emplace_back("optimizer." + name, t);
    tensors.emplace_back("rng.generator", gen_.get_state());
    const bool finished = pos.stage_index + 1 == stages_.size() && pos.stage_step == settings_.stage(stage).steps;
    const json meta = {{"version", 1},
                       {"stage", to_string(stage)},
                       {"stage_step", pos.stage_step},
                       {"global_step", pos.global_step},
                       {"optimizer_steps", optimizer.steps()},
                       {"finished", finished},
                       // Several ranks: what the step's global batch was (batch_size x world).
                       {"world_size", world()},
                       {"method", to_string(settings_.method)},
                       {"family", convert::to_string(model_.family)},
                       // Its name, not its path: a session moved to another machine (or the model
                       // to another folder) writes the same bytes.
                       {"base_model", model_name(settings_.base_model)}};
    io::write_safetensors(checkpoint_path(dir_), tensors, {{kCheckpointKey, meta.dump()}});
    CheckpointInfo info{checkpoint_path(dir_), stage, pos.stage_step, pos.global_step, finished};
    log("checkpoint at step " + std::to_string(pos.global_step));
    if (settings_.keep_checkpoints > 0) {
      // A file to compare and use; failing to write it costs no training, so the run goes on.
      try {
        keep_latest_checkpoint(dir_, settings_.keep_checkpoints, [this](std::string_view m) { log(std::string(m)); });
      } catch (const std::exception& e) {
        log("could not keep the checkpoint of step " + std::to_string(pos.global_step) + ": " + e.what());
      }
    }
    if (cb_.on_checkpoint) cb_.on_checkpoint(info);
  }

  StagePosition restore(const CheckpointInfo& info) {
    const auto file = io::SafetensorsFile::open(info.path);
    const json meta = json::parse(file->metadata().at(kCheckpointKey));
    const std::string source = info.path.string();
    io::NamedTensors lora, optimizer;
    std::map<std::string, torch::Tensor> te, te2, unet;
    torch::Tensor rng;
    for (const auto& entry : file->index().entries()) {
      const std::string& name = entry.name;
      torch::Tensor t = file->tensor(name);
      if (name.starts_with("lora.")) lora.emplace_back(name.substr(5), t);
      else if (name.starts_with("optimizer.")) optimizer.emplace_back(name.substr(10), t);
      else if (name.starts_with("text_encoder.")) te[name.substr(13)] = t;
      else if (name.starts_with("text_encoder_2.")) te2[name.substr(15)] = t;
      else if (name.starts_with("unet.")) unet[name.substr(5)] = t;
      else if (name == "rng.generator") rng = t;
    }
    if (!rng.defined()) throw FormatError("the checkpoint has no generator state", info.path);
    auto copy_into = [&](torch::nn::Module& m, const std::map<std::string, torch::Tensor>& values, const char* what) {
      if (values.empty()) return;
      torch::NoGradGuard no_grad;
      for (auto& p : m.named_parameters()) {
        const auto it = values.find(p.key());
        if (it == values.end() || it->second.sizes() != p.value().sizes()) {
          throw FormatError(std::string("the checkpoint's ") + what + " weight '" + p.key() + "' is missing or mis-shaped",
                            info.path);
        }
        p.value().copy_(it->second);
      }
    };
    copy_into(*model_.text_encoder, te, "text encoder");
    if (model_.is_sdxl()) copy_into(*model_.text_encoder_2, te2, "second text encoder");
    copy_into(*model_.unet, unet, "UNet");
    if (settings_.method == TrainingMethod::LoRA) {
      for (auto& net : te_loras_) net.load(lora, source);
      unet_lora_.load(lora, source);
    }
    gen_.set_state(rng.contiguous());
    const int written_by = meta.value("world_size", 1);
    if (written_by != world()) {
      log("the checkpoint was written by " + std::to_string(written_by) + " rank(s), this run has " +
          std::to_string(world()) + ": the global batch changes from " +
          std::to_string(settings_.batch_size * written_by) + " to " + std::to_string(settings_.batch_size * world()) +
          " examples per step from here on (docs/distributed.md)");
    }

    StagePosition pos;
    pos.global_step = info.global_step;
    const auto it = std::find(stages_.begin(), stages_.end(), info.stage);
    if (it == stages_.end()) throw FormatError("the checkpoint's stage is not in the session's settings", info.path);
    pos.stage_index = static_cast<std::size_t>(it - stages_.begin());
    pos.stage_step = info.stage_step;
    if (pos.stage_step >= settings_.stage(info.stage).steps) {
      ++pos.stage_index;
      pos.stage_step = 0;
    } else {
      pending_optimizer_ = std::move(optimizer);
      pending_optimizer_steps_ = meta.value("optimizer_steps", info.stage_step);
      pending_stage_ = info.stage;
    }
    return pos;
  }

  // --- metrics ----------------------------------------------------------------------------------

  void append_metrics(const StepMetrics& m) {
    const json j = {{"step", m.step},         {"stage", to_string(m.stage)}, {"stage_step", m.stage_step},
                    {"loss", m.loss},         {"lr", m.lr},                   {"grad_norm", m.grad_norm},
                    {"seconds", m.seconds},   {"memory", m.memory}};
    std::ofstream out(metrics_path(dir_), std::ios::app);
    out << j.dump() << '\n';
    if (!out) throw FileError("cannot append to the metrics log", metrics_path(dir_));
  }

  // Drops records past `step` (left by a run that was killed after its last checkpoint).
  void truncate_metrics(std::int64_t step) {
    const fs::path path = metrics_path(dir_);
    if (!fs::exists(path)) return;
    std::istringstream in(read_file(path));
    std::string line, kept;
    bool dropped = false;
    while (std::getline(in, line)) {
      if (line.empty()) continue;
      try {
        if (json::parse(line).at("step").get<std::int64_t>() > step) {
          dropped = true;
          continue;
        }
      } catch (const json::exception&) {
        dropped = true;  // a half-written last line
        continue;
      }
      kept += line + '\n';
    }
    if (dropped) io::write_file_atomically(path, kept);
  }

  fs::path dir_;
  std::stop_token stop_;
  const TrainingCallbacks& cb_;
  TrainingSettings settings_;
  std::vector<Stage> stages_;
  std::int64_t total_steps_ = 0;
  std::ofstream log_;
  pipelines::StableDiffusionModel model_;
  torch::Device device_{torch::kCPU};
  NoiseSchedule schedule_;
  text::PadConvention pad_ = text::PadConvention::SD1;
  at::Generator gen_;
  std::unique_ptr<ProcessGroup> group_;  // several ranks only
  std::vector<LoRANetwork> te_loras_;  // none, one, or SDXL's two
  LoRANetwork unet_lora_;
  std::vector<TrainingExample> instances_, classes_;
  std::vector<torch::Tensor> instance_inputs_, instance_ids_, class_inputs_, class_ids_;
  std::map<std::pair<std::uint64_t, std::int64_t>, torch::Tensor> permutations_;
  std::map<std::int64_t, Conditioning> hidden_cache_;
  std::optional<NamedParameters> pending_optimizer_;
  std::int64_t pending_optimizer_steps_ = 0;
  Stage pending_stage_ = Stage::UNet;
};

}  // namespace

TrainingOutcome run_training(const fs::path& session, std::stop_token stop, const TrainingCallbacks& callbacks,
                             const RunOptions& options) {
  Trainer trainer(session, std::move(stop), callbacks);
  return trainer.run(options);
}

}  // namespace kiln::training
