// A .zip given to the dataset import or the session import (QuaZip underneath SafeZip): the
// directory checks (names, links, duplicates, encryption, counts), the declared sizes and ratios,
// then every accepted entry inflated into memory under small limits, with its CRC checked.
// Every refusal must be a kiln::Error; the bytes written never exceed the limits.
#include <QBuffer>
#include <QCoreApplication>

#include <filesystem>
#include <list>

#include "fuzz_util.h"
#include "services/zip_safety.h"

namespace {
std::filesystem::path dir;
}

extern "C" int LLVMFuzzerInitialize(int* argc, char*** argv) {
  static QCoreApplication app(*argc, *argv);
  dir = kiln::fuzz::scratch_dir("safezip");
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto file = dir / "input.zip";
  kiln::fuzz::write_file(file, data, size);
  kiln::app::ZipLimits limits;
  limits.maxEntryBytes = 4 << 20;
  limits.maxTotalBytes = 8 << 20;
  limits.maxEntries = 256;
  limits.ratioFloorBytes = 64 << 10;
  kiln::fuzz::expect_kiln_errors_only([&] {
    kiln::app::SafeZip zip(QString::fromStdString(file.string()), limits);
    for (const auto& entry : zip.entries()) {
      if (!kiln::app::SafeZip::unsafeNameReason(entry.name).isEmpty()) __builtin_trap();  // checked at open
      (void)zip.find(entry.name);
    }
    (void)zip.checkSizes([](const kiln::app::ZipEntry&) { return true; });
    if (!zip.entries().isEmpty() && !zip.entries().front().directory)
      (void)zip.readEntry(zip.entries().front().name, 1 << 20);
    std::list<QBuffer> buffers;
    qint64 written = 0;
    zip.extract([&](const kiln::app::ZipEntry&) -> QIODevice* {
      QBuffer& b = buffers.emplace_back();
      b.open(QIODevice::WriteOnly);
      return &b;
    }, [&](const kiln::app::ZipEntry&, const char*, qint64 n) { written += n; });
    if (written > limits.maxTotalBytes) __builtin_trap();
  });
  std::filesystem::remove(file);
  return 0;
}
