// kiln-cli convert: the tiny pipeline both ways (folder -> fp16 single file equal to diffusers'
// own conversion, back to a folder with its configs), a .ckpt that python3 torch.load reads,
// options, and errors (one line on stderr, exit 1 or 2, nothing left behind).
#include <ATen/ATen.h>

#include <QtTest>

#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <set>

#include "app/cli/cli_runner.h"
#include "io/diffusers_folder.h"
#include "io/safetensors.h"
#include "io/weight_file.h"
#include "support/test_support.h"

namespace fs = std::filesystem;
using kiln::test::data_dir;
using kiln::test::fileBytes;
using kiln::test::q;
using kiln::test::runCli;

namespace {

fs::path tinyFolder() { return data_dir() / "golden/pipeline/tiny_sd1"; }
fs::path tinyFile() { return data_dir() / "golden/pipeline/tiny_sd1.safetensors"; }

std::set<std::string> listing(const fs::path& dir) {
  std::set<std::string> out;
  for (const auto& e : fs::directory_iterator(dir)) out.insert(e.path().filename().string());
  return out;
}

bool sameBytes(const at::Tensor& a, const at::Tensor& b) {
  if (a.scalar_type() != b.scalar_type() || a.sizes() != b.sizes()) return false;
  const at::Tensor x = a.contiguous(), y = b.contiguous();
  return std::memcmp(x.data_ptr(), y.data_ptr(), x.nbytes()) == 0;
}

// Every tensor of `got` equals the one of the same name in diffusers' fp16 conversion.
bool equalsGoldenSingleFile(const fs::path& got) {
  const auto a = kiln::io::open_weight_file(got);
  const auto b = kiln::io::open_weight_file(tinyFile());
  if (a->index().size() != b->index().size()) return false;
  for (const auto& e : b->index().entries()) {
    if (!a->index().contains(e.name) || !sameBytes(a->tensor(e.name), b->tensor(e.name))) return false;
  }
  return true;
}

bool oneLine(const QByteArray& err) { return err.count('\n') == 1 && err.endsWith('\n'); }

}  // namespace

class TestCliConvert : public QObject {
  Q_OBJECT

 private Q_SLOTS:
  void initTestCase() { QVERIFY(fs::exists(KILN_CLI)); }

  void folderToSingleFileAndBack() {
    kiln::test::ScratchDir dir;
    const fs::path single = dir / "tiny.safetensors";
    auto r = runCli({QStringLiteral("convert"), q(tinyFolder()), q(single), QStringLiteral("--half")});
    QVERIFY2(r.exitCode == 0, r.err.constData());
    QVERIFY(r.out.startsWith("wrote "));
    QVERIFY(r.out.contains("Stable Diffusion 1.x, safetensors single file, 564 tensors (as F16)"));
    QVERIFY(r.out.contains("verified"));
    QVERIFY(r.err.contains("kiln-cli convert: verifying 564/564"));
    QVERIFY(equalsGoldenSingleFile(single));

    // Back to a folder: the hub SD 1.5 configs do not fit the tiny model, its own configs do.
    const fs::path folder = dir / "back";
    r = runCli({QStringLiteral("convert"), q(single), q(folder)});
    QCOMPARE(r.exitCode, 1);
    QVERIFY(oneLine(r.err.mid(r.err.lastIndexOf("kiln-cli: error:"))));
    QVERIFY(
        r.err.contains("kiln-cli: error: the unet config (reference Stable Diffusion 1.x unet config) does not fit"));
    QVERIFY(!fs::exists(folder));
    r = runCli({QStringLiteral("convert"), q(single), q(folder), QStringLiteral("--config"), q(tinyFolder()),
                QStringLiteral("--float32")});
    QVERIFY2(r.exitCode == 0, r.err.constData());
    QVERIFY(r.out.contains("diffusers folder, 564 tensors (as F32)"));
    const auto out = kiln::io::DiffusersFolder::open(folder);
    const auto src = kiln::io::DiffusersFolder::open(tinyFolder());
    for (const auto& c : src.components()) {
      for (const auto& e : c.index.entries()) {
        QVERIFY2(sameBytes(out.tensor(c.name, e.name), src.tensor(c.name, e.name).to(at::kHalf).to(at::kFloat)),
                 e.name.c_str());
      }
    }
    QCOMPARE(listing(dir.path()), (std::set<std::string>{"tiny.safetensors", "back"}));
  }

  void fp32RoundTripIsBitwise() {
    kiln::test::ScratchDir dir;
    const fs::path single = dir / "tiny32.ckpt";
    auto r = runCli({QStringLiteral("convert"), q(tinyFolder()), q(single)});
    QVERIFY2(r.exitCode == 0, r.err.constData());
    QVERIFY(r.out.contains("ckpt single file, 564 tensors (dtypes kept)"));
    const fs::path folder = dir / "back32";
    r = runCli({QStringLiteral("convert"), q(single), q(folder), QStringLiteral("--config"), q(tinyFolder())});
    QVERIFY2(r.exitCode == 0, r.err.constData());
    const auto out = kiln::io::DiffusersFolder::open(folder);
    const auto src = kiln::io::DiffusersFolder::open(tinyFolder());
    std::size_t compared = 0;
    for (const auto& c : src.components()) {
      for (const auto& e : c.index.entries()) {
        QVERIFY2(sameBytes(out.tensor(c.name, e.name), src.tensor(c.name, e.name)), e.name.c_str());
        ++compared;
      }
    }
    QCOMPARE(compared, std::size_t{564});
  }

  void ckptLoadsInPython() {
    kiln::test::ScratchDir dir;
    const fs::path ckpt = dir / "tiny.ckpt";
    auto r = runCli({QStringLiteral("convert"), q(tinyFolder()), q(ckpt), QStringLiteral("--half")});
    QVERIFY2(r.exitCode == 0, r.err.constData());
    QVERIFY(r.out.contains("ckpt single file"));
    QVERIFY(equalsGoldenSingleFile(ckpt));
    if (std::system(KILN_PYTHON3 " -c 'import torch' >/dev/null 2>&1") != 0) {
      QFAIL("the Python with torch (" KILN_PYTHON3 ") cannot import torch: run scripts/setup-libtorch.sh, which installs it");
    }
    const std::string cmd = std::string(KILN_PYTHON3) +
                            " -c 'import sys, torch; sd = torch.load(sys.argv[1])[\"state_dict\"]; "
                            "assert len(sd) == 564 and all(v.dtype == torch.float16 for v in sd.values()); "
                            "assert sd[\"model.diffusion_model.input_blocks.0.0.weight\"].shape == (32, 4, 3, 3)' '" +
                            ckpt.string() + "'";
    QCOMPARE(std::system(cmd.c_str()), 0);
  }

  void singleFileResaved() {
    kiln::test::ScratchDir dir;
    const fs::path ckpt = dir / "a.ckpt";
    auto r = runCli(
        {QStringLiteral("convert"), q(tinyFile()), q(ckpt), QStringLiteral("--to"), QStringLiteral("single-file")});
    QVERIFY2(r.exitCode == 0, r.err.constData());
    QVERIFY(equalsGoldenSingleFile(ckpt));
    // An existing OUT is refused without --overwrite, and replaced with it.
    r = runCli(
        {QStringLiteral("convert"), q(tinyFile()), q(ckpt), QStringLiteral("--to"), QStringLiteral("single-file")});
    QCOMPARE(r.exitCode, 1);
    QVERIFY(r.err.contains("a.ckpt exists (pass --overwrite to replace it)"));
    QVERIFY(oneLine(r.err));
    r = runCli({QStringLiteral("convert"), q(tinyFile()), q(ckpt), QStringLiteral("--to"),
                QStringLiteral("single-file"), QStringLiteral("--overwrite"), QStringLiteral("--format"),
                QStringLiteral("ckpt")});
    QVERIFY2(r.exitCode == 0, r.err.constData());
    QCOMPARE(listing(dir.path()), (std::set<std::string>{"a.ckpt"}));
  }

  void errors_data() {
    QTest::addColumn<QString>("kind");      // what IN is
    QTest::addColumn<QString>("expected");  // in the one-line error
    QTest::newRow("missing input") << "missing"
                                   << "does not exist";
    QTest::newRow("unknown family") << "junk"
                                    << "none of the keys Kiln looks for";
    QTest::newRow("truncated") << "truncated"
                               << "in.safetensors";
    QTest::newRow("not a model folder") << "folder"
                                        << "not a diffusers folder";
  }

  void errors() {
    QFETCH(QString, kind);
    QFETCH(QString, expected);
    kiln::test::ScratchDir dir;
    fs::path in = dir / "in.safetensors";
    if (kind == QLatin1String("junk")) {
      kiln::io::NamedTensors junk;
      junk.emplace_back("foo.weight", at::zeros({2}));
      kiln::io::write_safetensors(in, junk);
    } else if (kind == QLatin1String("truncated")) {
      const std::string bytes = kiln::test::read_text(tinyFile());
      kiln::test::write_text(in, bytes.substr(0, bytes.size() - 1000));
    } else if (kind == QLatin1String("folder")) {
      in = dir / "photos";
      fs::create_directories(in);
    }
    const auto before = listing(dir.path());
    const auto r =
        runCli({QStringLiteral("convert"), q(in), q(dir / "out"), QStringLiteral("--config"), q(tinyFolder())});
    QCOMPARE(r.exitCode, 1);
    QVERIFY2(r.err.startsWith("kiln-cli: error: ") && oneLine(r.err), r.err.constData());
    QVERIFY2(r.err.contains(expected.toUtf8()), r.err.constData());
    QCOMPARE(listing(dir.path()), before);  // no output, no temporary
  }

  void usage_data() {
    QTest::addColumn<QStringList>("args");
    QTest::addColumn<QString>("expected");
    QTest::newRow("no paths") << QStringList{} << "expected IN and OUT, got 0 paths";
    QTest::newRow("one path") << QStringList{QStringLiteral("a")} << "expected IN and OUT, got 1 paths";
    QTest::newRow("bad --to") << QStringList{QStringLiteral("a"), QStringLiteral("b"), QStringLiteral("--to"),
                                             QStringLiteral("ckpt")}
                              << "--to must be single-file or diffusers";
    QTest::newRow("bad --format") << QStringList{QStringLiteral("a"), QStringLiteral("b"), QStringLiteral("--format"),
                                                 QStringLiteral("bin")}
                                  << "--format must be safetensors or ckpt";
    QTest::newRow("two dtypes") << QStringList{QStringLiteral("a"), QStringLiteral("b"), QStringLiteral("--half"),
                                               QStringLiteral("--bf16")}
                                << "at most one of --half, --bf16 and --float32";
    QTest::newRow("bad --prediction") << QStringList{QStringLiteral("a"), QStringLiteral("b"),
                                                     QStringLiteral("--prediction"), QStringLiteral("x")}
                                      << "--prediction must be epsilon or v_prediction";
    QTest::newRow("unknown option") << QStringList{QStringLiteral("--frobnicate")} << "Unknown option";
  }

  void usage() {
    QFETCH(QStringList, args);
    QFETCH(QString, expected);
    const auto r = runCli(QStringList{QStringLiteral("convert")} + args);
    QCOMPARE(r.exitCode, 2);
    QVERIFY2(r.err.contains(expected.toUtf8()), r.err.constData());
    QVERIFY(oneLine(r.err));
  }

  void helpAndCommandList() {
    auto r = runCli({QStringLiteral("convert"), QStringLiteral("--help")});
    QCOMPARE(r.exitCode, 0);
    QVERIFY(r.out.contains("--config <DIR>"));
    QVERIFY(r.out.contains("--overwrite"));
    r = runCli({QStringLiteral("--help")});
    QVERIFY(r.out.contains("convert IN OUT"));
    r = runCli({QStringLiteral("nope")});
    QCOMPARE(r.exitCode, 2);
    QVERIFY(r.err.contains("convert"));
  }
};

QTEST_GUILESS_MAIN(TestCliConvert)
#include "test_cli_convert.moc"
