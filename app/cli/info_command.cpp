#include <QCommandLineParser>

#include <nlohmann/json.hpp>

#include <cstdio>
#include <iostream>

#include "base/error.h"
#include "cli/commands.h"
#include "convert/model_info.h"

namespace kiln::cli {

namespace {

std::string human_count(std::int64_t n) {
  char buf[32];
  if (n >= 1'000'000'000) std::snprintf(buf, sizeof buf, "%.2f B", static_cast<double>(n) / 1e9);
  else if (n >= 1'000'000) std::snprintf(buf, sizeof buf, "%.1f M", static_cast<double>(n) / 1e6);
  else if (n >= 1'000) std::snprintf(buf, sizeof buf, "%.1f k", static_cast<double>(n) / 1e3);
  else std::snprintf(buf, sizeof buf, "%lld", static_cast<long long>(n));
  return buf;
}

std::string human_bytes(std::uint64_t n) {
  char buf[32];
  const double d = static_cast<double>(n);
  if (n >= (1ull << 30)) std::snprintf(buf, sizeof buf, "%.2f GiB", d / (1ull << 30));
  else if (n >= (1ull << 20)) std::snprintf(buf, sizeof buf, "%.1f MiB", d / (1ull << 20));
  else if (n >= 1024) std::snprintf(buf, sizeof buf, "%.1f KiB", d / 1024);
  else std::snprintf(buf, sizeof buf, "%llu bytes", static_cast<unsigned long long>(n));
  return buf;
}

// One line, however the message was built.
std::string one_line(std::string s) {
  for (char& c : s) {
    if (c == '\n' || c == '\r') c = ' ';
  }
  return s;
}

void print_human(const convert::ModelInfo& info) {
  using std::cout;
  cout << info.path.string() << "\n";
  cout << "  family:      " << convert::display_name(info.detection.family) << " (" << convert::to_string(info.detection.family)
       << ")\n";
  const bool diffusers_names = info.detection.layout == convert::KeyLayout::Diffusers;
  cout << "  layout:      " << convert::to_string(info.detection.layout)
       << (diffusers_names ? " (diffusers key names)" : " (original checkpoint key names)") << ", "
       << (info.is_folder ? "diffusers folder" : info.format + " file") << "\n";
  cout << "  prediction:  " << convert::to_string(info.prediction.type);
  if (!info.prediction.source.empty()) cout << " (from " << info.prediction.source << ")";
  else cout << " (not in the weights; add a .yaml beside the file or pass it when generating)";
  cout << "\n";
  cout << "  size:        " << human_bytes(info.size_bytes) << ", " << human_count(info.parameters()) << " parameters\n";
  if (info.sha256) {
    cout << "  sha256:      " << *info.sha256;
    if (info.is_folder) cout << " (" << info.hashed_file.lexically_relative(info.path).string() << ")";
    cout << "\n  A1111 hash:  " << info.short_hash() << "\n";
  }
  cout << "  components:\n";
  for (const auto& c : info.components) {
    std::string dtypes;
    for (const auto& [d, n] : c.dtypes) dtypes += (dtypes.empty() ? "" : ", ") + d;
    char line[256];
    std::snprintf(line, sizeof line, "    %-16s %-30s %10s params  %5zu tensors  %s\n", c.name.c_str(), c.class_name.c_str(),
                  human_count(c.parameters).c_str(), c.tensors, dtypes.c_str());
    cout << line;
  }
  if (!info.metadata.empty()) {
    cout << "  metadata:\n";
    for (const auto& [k, v] : info.metadata) {
      std::string shown = one_line(v);
      if (shown.size() > 120) shown = shown.substr(0, 117) + "...";
      cout << "    " << k << ": " << shown << "\n";
    }
  }
  if (!info.detection.evidence.empty()) {
    cout << "  evidence:\n";
    for (const auto& e : info.detection.evidence) cout << "    " << e << "\n";
  }
  for (const auto& w : info.warnings) cout << "  warning: " << w << "\n";
}

}  // namespace

int run_info(const QStringList& args) {
  QCommandLineParser parser;
  parser.setApplicationDescription(QStringLiteral(
      "What a model is, told from its weights without loading them: family, layout, components with\n"
      "parameter counts and dtypes, prediction type when known, metadata, and AUTOMATIC1111's short hash\n"
      "(first 10 hex digits of the file's sha256). PATH is a .safetensors/.ckpt/.pt/.bin file or a\n"
      "diffusers folder (for a folder, the UNet's weights file is hashed)."));
  parser.addHelpOption();
  parser.addOption({QStringLiteral("json"), QStringLiteral("Print one JSON object.")});
  parser.addOption({QStringLiteral("no-hash"), QStringLiteral("Skip the sha256 (fast on very large files).")});
  parser.addPositionalArgument(QStringLiteral("PATH"), QStringLiteral("Model file or diffusers folder."));
  if (!parser.parse(args)) {
    std::fprintf(stderr, "kiln-cli info: %s\n", qPrintable(parser.errorText()));
    return 2;
  }
  if (parser.isSet(QStringLiteral("help"))) {
    std::fputs(qPrintable(parser.helpText()), stdout);
    return 0;
  }
  const QStringList paths = parser.positionalArguments();
  if (paths.size() != 1) {
    std::fprintf(stderr, "kiln-cli info: expected one PATH, got %lld (see kiln-cli info --help)\n",
                 static_cast<long long>(paths.size()));
    return 2;
  }
  try {
    convert::InspectOptions options;
    options.hash = !parser.isSet(QStringLiteral("no-hash"));
    const auto info = convert::inspect_model(std::filesystem::path(paths.front().toStdString()), options);
    if (parser.isSet(QStringLiteral("json"))) {
      std::cout << convert::to_json(info).dump(2) << std::endl;
    } else {
      print_human(info);
    }
    return 0;
  } catch (const kiln::Error& e) {
    std::fprintf(stderr, "kiln-cli: error: %s\n", one_line(e.what()).c_str());
  } catch (const std::exception& e) {
    std::fprintf(stderr, "kiln-cli: error: %s\n", one_line(e.what()).c_str());
  }
  return 1;
}

}  // namespace kiln::cli
