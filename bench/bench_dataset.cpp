// Dataset preparation throughput on 12-megapixel photos: N synthetic 4000x3000 JPEGs (a face
// photo from tests/data/faces pasted large on a landscape, at a different place in each), run
// through prepare_dataset. Prints images per second (median of the runs; each run loads the
// landmark model, ~1 s) and the peak resident memory of each configuration next to the resident
// memory before it (the libraries). Usage: bench_dataset [N=12] [runs=3] [folder=/tmp]
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include "base/engine.h"
#include "bench_util.h"
#include "dataset/prepare_dataset.h"

namespace fs = std::filesystem;

namespace {

// VmHWM (peak resident set) or VmRSS (now) in MiB; writing 5 to clear_refs resets the peak
// (Linux >= 4.0).
double status_mib(const char* field) {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind(field, 0) == 0) return std::atof(line.c_str() + std::string(field).size()) / 1024.0;
  }
  return 0;
}
double peak_rss_mib() { return status_mib("VmHWM:"); }
double rss_mib() { return status_mib("VmRSS:"); }

void reset_peak_rss() { std::ofstream("/proc/self/clear_refs") << "5"; }

void make_photos(const fs::path& dir, int n) {
  const fs::path faces = fs::path(KILN_SOURCE_DIR) / "tests/data/faces";
  cv::Mat background = cv::imread((faces / "landscape_small_face.jpg").string());
  cv::Mat face = cv::imread((faces / "hopper_portrait.jpg").string());
  if (background.empty() || face.empty()) {
    std::fprintf(stderr, "bench_dataset: cannot read the photos in %s\n", faces.string().c_str());
    std::exit(1);
  }
  cv::resize(background, background, cv::Size(4000, 3000), 0, 0, cv::INTER_CUBIC);
  cv::resize(face, face, cv::Size(), 2.5, 2.5, cv::INTER_CUBIC);  // 1280x1500, face ~470 px
  for (int i = 0; i < n; ++i) {
    cv::Mat photo = background.clone();
    const int x = 100 + (i * 617) % (4000 - face.cols - 200);
    const int y = 100 + (i * 389) % (3000 - face.rows - 200);
    face.copyTo(photo(cv::Rect(x, y, face.cols, face.rows)));
    cv::imwrite((dir / ("photo_" + std::to_string(i) + ".jpg")).string(), photo, {cv::IMWRITE_JPEG_QUALITY, 92});
  }
}

struct Config {
  const char* name;
  int threads;
  int resolution;
  bool landmarks;
};
const Config kConfigs[] = {
    {"512 px, all cores, landmarks", 0, 512, true},
    {"512 px, 1 thread, landmarks", 1, 512, true},
    {"1024 px, all cores, landmarks", 0, 1024, true},
    {"512 px, all cores, no landmarks", 0, 512, false},
};

// One configuration, in its own process so that its peak memory is its own.
int run_config(const Config& c, int runs, const fs::path& src, const fs::path& out) {
  kiln::dataset::PrepareRequest request;
  request.sources = {src};
  request.output_dir = out;
  request.resolution = c.resolution;
  request.threads = c.threads;
  request.faces.use_landmarks = c.landmarks;
  std::size_t faces = 0, prepared = 0, n = 0;
  reset_peak_rss();
  const double before = rss_mib();
  const double seconds = kiln::bench::median_seconds(runs, [&] {
    fs::remove_all(out);
    const auto result = kiln::dataset::prepare_dataset(request);
    faces = prepared = 0;
    n = result.images.size();
    for (const auto& r : result.images) {
      prepared += r.status != kiln::dataset::ImageStatus::Skipped;
      faces += !r.faces.empty();
    }
  });
  std::printf(
      "%-32s %5.2f images/s  (%.2f s per image, %zu/%zu prepared, %zu with a face)  peak RSS %.0f MiB"
      " (%.0f MiB before)\n",
      c.name, static_cast<double>(n) / seconds, seconds / static_cast<double>(n), prepared, n, faces, peak_rss_mib(),
      before);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  kiln::init_engine();
  if (argc == 6 && std::string(argv[1]) == "--run") {
    return run_config(kConfigs[std::atoi(argv[2])], std::atoi(argv[3]), argv[4], argv[5]);
  }
  const int n = argc > 1 ? std::atoi(argv[1]) : 12;
  const int runs = argc > 2 ? std::atoi(argv[2]) : 3;
  const fs::path base = argc > 3 ? fs::path(argv[3]) : fs::temp_directory_path();
  const fs::path src = base / "kiln-bench-dataset-src";
  const fs::path out = base / "kiln-bench-dataset-out";
  fs::remove_all(src);
  fs::create_directories(src);
  make_photos(src, n);
  std::uintmax_t bytes = 0;
  for (const auto& e : fs::directory_iterator(src)) bytes += e.file_size();
  std::printf("%d photos of 4000x3000 (12 MP), %.1f MiB of JPEG, median of %d runs\n", n,
              static_cast<double>(bytes) / (1 << 20), runs);
  std::fflush(stdout);
  const fs::path self = fs::read_symlink("/proc/self/exe");
  for (std::size_t i = 0; i < std::size(kConfigs); ++i) {
    const std::string command = "'" + self.string() + "' --run " + std::to_string(i) + " " + std::to_string(runs) +
                                " '" + src.string() + "' '" + out.string() + "'";
    if (std::system(command.c_str()) != 0) std::fprintf(stderr, "bench_dataset: %s failed\n", kConfigs[i].name);
  }
  fs::remove_all(src);
  fs::remove_all(out);
  return 0;
}
