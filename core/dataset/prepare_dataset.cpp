#include "dataset/prepare_dataset.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <exception>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <thread>

#include "base/error.h"
#include "dataset/captions.h"
#include "dataset/image_preparer.h"

namespace kiln::dataset {

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

bool is_hidden(const fs::path& p) {
  const std::string name = p.filename().string();
  return !name.empty() && name[0] == '.';
}

bool same_place(const fs::path& a, const fs::path& b) {
  std::error_code ec;
  if (fs::exists(a, ec) && fs::exists(b, ec)) return fs::equivalent(a, b, ec);
  return fs::weakly_canonical(a, ec) == fs::weakly_canonical(b, ec);
}

// One output stem per source: the source's stem, made unique (case-insensitively, for
// datasets copied to Windows or macOS later) with "-2", "-3", ...
std::vector<std::string> unique_stems(const std::vector<fs::path>& sources) {
  std::set<std::string> taken;
  std::vector<std::string> stems;
  for (const auto& s : sources) {
    const std::string base = s.stem().string().empty() ? std::string("image") : s.stem().string();
    std::string stem = base;
    for (int n = 2; taken.count(lower(stem)) != 0; ++n) stem = base + "-" + std::to_string(n);
    taken.insert(lower(stem));
    stems.push_back(stem);
  }
  return stems;
}

json box_json(const Box& b) { return json::array({b.x, b.y, b.w, b.h}); }

}  // namespace

bool has_image_extension(const fs::path& path) {
  static const std::set<std::string> extensions{".jpg", ".jpeg", ".png", ".webp", ".bmp", ".tif", ".tiff"};
  return extensions.count(lower(path.extension().string())) != 0;
}

std::vector<fs::path> list_images(const fs::path& folder, const fs::path& exclude) {
  std::vector<fs::path> images;
  std::error_code ec;
  fs::recursive_directory_iterator it(folder, fs::directory_options::none, ec);
  if (ec) throw FileError("cannot list the folder: " + ec.message(), folder);
  for (; it != fs::recursive_directory_iterator(); it.increment(ec)) {
    if (ec) throw FileError("cannot list the folder: " + ec.message(), folder);
    const fs::path& p = it->path();
    const bool dir = it->is_directory(ec);
    if (is_hidden(p) || (dir && !exclude.empty() && same_place(p, exclude))) {
      if (dir) it.disable_recursion_pending();
      continue;
    }
    if (!dir && it->is_regular_file(ec) && has_image_extension(p)) images.push_back(p);
  }
  std::sort(images.begin(), images.end());
  return images;
}

void validate_request(const PrepareRequest& r) {
  if (r.resolution < kMinResolution || r.resolution > kMaxResolution || r.resolution % kResolutionStep != 0) {
    throw InvalidRequestError("resolution must be 512 to 1024 in steps of 64, got " + std::to_string(r.resolution));
  }
  if (r.sources.empty()) throw InvalidRequestError("no source images or folders given");
  if (r.output_dir.empty()) throw InvalidRequestError("no output folder given");
  for (const auto& s : r.sources) {
    std::error_code ec;
    if (!fs::exists(s, ec)) throw InvalidRequestError("source does not exist: " + s.string());
    // Outputs are named after their sources: an image beside them would be overwritten.
    const bool folder_source = fs::is_directory(s, ec);
    if (!folder_source && !has_image_extension(s)) continue;
    const fs::path folder = folder_source ? s : s.parent_path();
    if (same_place(folder.empty() ? fs::path(".") : folder, r.output_dir)) {
      throw InvalidRequestError("the output folder " + r.output_dir.string() + " holds the source images",
                                "choose another output folder: the originals are never overwritten");
    }
  }
  if (r.jpeg_quality < 1 || r.jpeg_quality > 100) {
    throw InvalidRequestError("jpeg_quality must be 1..100, got " + std::to_string(r.jpeg_quality));
  }
  if (r.threads < 0) throw InvalidRequestError("threads must be >= 0, got " + std::to_string(r.threads));
  if (r.min_source_side < 1) throw InvalidRequestError("min_source_side must be >= 1");
}

PrepareResult prepare_dataset(const PrepareRequest& request, std::stop_token stop,
                              const PrepareProgressCallback& progress) {
  validate_request(request);
  std::error_code ec;
  fs::create_directories(request.output_dir, ec);
  if (ec) throw FileError("cannot create the output folder: " + ec.message(), request.output_dir);

  std::vector<fs::path> sources;
  for (const auto& s : request.sources) {
    if (fs::is_directory(s, ec)) {
      for (auto& p : list_images(s, request.output_dir)) sources.push_back(std::move(p));
    } else {
      sources.push_back(s);
    }
  }
  const std::vector<std::string> stems = unique_stems(sources);

  PrepareResult result;
  result.images.resize(sources.size());
  std::vector<char> finished(sources.size(), 0);
  // Loads the landmark model once; kept alive so that the workers' detectors share it.
  std::optional<FaceDetector> first_detector;
  if (request.detect_faces) {
    first_detector.emplace(request.faces);
    result.landmarks_available = first_detector->has_landmarks();
    if (!first_detector->landmark_warning().empty()) result.notes.push_back(first_detector->landmark_warning());
  }

  unsigned threads = request.threads > 0 ? static_cast<unsigned>(request.threads)
                                         : std::clamp(std::thread::hardware_concurrency(), 1u, 4u);
  threads = std::max(1u, std::min<unsigned>(threads, static_cast<unsigned>(sources.size())));

  std::atomic<std::size_t> next{0};
  std::atomic<bool> failed{false};
  std::exception_ptr failure;
  std::mutex mutex;  // guards failure, done and the progress callback
  std::size_t done = 0;

  // A worker stops at the first exception (an output that cannot be written fails every image
  // alike) and hands it to the caller; problems with a source are results, not exceptions.
  const auto work = [&](FaceDetector* detector) {
    try {
      std::optional<FaceDetector> own;
      if (request.detect_faces && detector == nullptr) detector = &own.emplace(request.faces);
      for (;;) {
        if (stop.stop_requested() || failed.load()) return;
        const std::size_t i = next.fetch_add(1);
        if (i >= sources.size()) return;
        const fs::path image = request.output_dir / (stems[i] + extension_for(request.format));
        const OutputPaths out{image, caption_path_for(image), sidecar_path_for(image)};
        result.images[i] = prepare_image(sources[i], out, request, detector);
        const std::lock_guard lock(mutex);
        finished[i] = 1;
        ++done;
        if (progress) progress(PrepareProgress{done, sources.size(), &result.images[i]});
      }
    } catch (...) {
      const std::lock_guard lock(mutex);
      if (!failure) failure = std::current_exception();
      failed = true;
    }
  };
  {
    std::vector<std::jthread> pool;
    for (unsigned t = 1; t < threads; ++t) pool.emplace_back(work, nullptr);
    work(first_detector ? &*first_detector : nullptr);
  }
  if (failure) std::rethrow_exception(failure);

  // Keep what was reached (everything unless cancelled), in source order.
  std::vector<ImageResult> reached;
  for (std::size_t i = 0; i < sources.size(); ++i) {
    if (finished[i]) reached.push_back(std::move(result.images[i]));
  }
  result.cancelled = reached.size() < sources.size();
  result.images = std::move(reached);

  if (request.duplicate_distance >= 0) {
    std::vector<std::optional<std::uint64_t>> hashes;
    for (const auto& r : result.images) hashes.push_back(r.status == ImageStatus::Skipped ? std::nullopt : r.dhash);
    const auto first = find_near_duplicates(hashes, request.duplicate_distance);
    for (std::size_t i = 0; i < first.size(); ++i) {
      if (!first[i]) continue;
      ImageResult& r = result.images[i];
      r.duplicate_of = first[i];
      r.reasons.push_back("near-duplicate of " + result.images[*first[i]].source.filename().string());
      r.status = ImageStatus::Warning;
    }
  }
  // Sidecars last, so that they carry the duplicate flags too.
  for (const auto& r : result.images) {
    if (r.status != ImageStatus::Skipped) write_sidecar(r.sidecar, sidecar_for(r, request));
  }
  return result;
}

json report_json(const PrepareResult& result) {
  json images = json::array();
  for (const auto& r : result.images) {
    json faces = json::array();
    for (const Box& f : r.faces) faces.push_back(box_json(f));
    images.push_back(json{{"source", r.source.string()},
                          {"output", r.output.empty() ? json(nullptr) : json(r.output.string())},
                          {"faces", faces},
                          {"crop", r.crop && r.status != ImageStatus::Skipped ? box_json(*r.crop) : json(nullptr)},
                          {"status", to_string(r.status)},
                          {"reason", r.reason()}});
  }
  return json{{"images", images}};
}

CropSidecar regenerate_output(const fs::path& output, const Box& crop) {
  const fs::path sidecar_path = sidecar_path_for(output);
  CropSidecar sidecar = read_sidecar(sidecar_path);
  // Decode only as large as this crop needs at the output's resolution.
  LoadOptions load;
  load.background_rgb = sidecar.background_rgb;
  if (crop.w > 0) {
    load.reduce_to_short_side = static_cast<int>(
        (static_cast<std::int64_t>(sidecar.resolution) * sidecar.source_size.short_side() + crop.w - 1) / crop.w);
  }
  const LoadedImage image = load_image(sidecar.source, load);
  if (image.displayed != sidecar.source_size) {
    throw FormatError("the original is " + std::to_string(image.displayed.width) + "x" +
                          std::to_string(image.displayed.height) + " now, but the crop was planned on " +
                          std::to_string(sidecar.source_size.width) + "x" + std::to_string(sidecar.source_size.height),
                      sidecar.source, "prepare the image again");
  }
  check_crop_box(image.displayed, crop);
  write_image(output, render_crop(image, crop, sidecar.resolution));
  sidecar.crop = crop;
  sidecar.adjusted = true;
  sidecar.subject = "manual";
  std::erase_if(sidecar.warnings, [](const std::string& w) { return w.rfind("upscaled", 0) == 0; });
  if (crop.w < sidecar.resolution) {
    sidecar.warnings.push_back("upscaled: the crop is " + std::to_string(crop.w) + "x" + std::to_string(crop.w) +
                               ", smaller than " + std::to_string(sidecar.resolution) + "x" +
                               std::to_string(sidecar.resolution));
  }
  sidecar.status = sidecar.warnings.empty() ? "ok" : "warning";
  write_sidecar(sidecar_path, sidecar);
  return sidecar;
}

}  // namespace kiln::dataset
